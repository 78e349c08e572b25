#include "tessera/npy.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ext/stdio_filebuf.h>
#include <fstream>
#include <istream>

#include <fmt/ranges.h>

#include "core/check.h"
#include "core/regular_file.h"
#include "core/temp_path.h"

namespace tessera {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The value of 'key' in the header's Python dict literal: a quoted string, a parenthesised tuple,
// True or False, as written (e.g. "'<f4'", "(1, 3)"); empty when absent. A scan, not std::regex:
// libstdc++'s regex matcher recurses once per character and overflowed the stack on a long value
// (a 60 KB header crashed read_npy; found by fuzz_npy).
std::string header_field(const std::string& header, const std::string& key) {
  const std::string quoted = "'" + key + "'";
  for (size_t at = header.find(quoted); at != std::string::npos; at = header.find(quoted, at + 1)) {
    size_t i = at + quoted.size();
    while (i < header.size() && std::isspace(static_cast<unsigned char>(header[i]))) ++i;
    if (i >= header.size() || header[i] != ':') continue;
    ++i;
    while (i < header.size() && std::isspace(static_cast<unsigned char>(header[i]))) ++i;
    if (i >= header.size()) break;
    if (header[i] == '\'' || header[i] == '(') {
      size_t end = header.find(header[i] == '(' ? ')' : '\'', i + 1);
      if (end != std::string::npos) return header.substr(i, end - i + 1);
    } else {
      for (const char* literal : {"True", "False"})
        if (header.compare(i, std::strlen(literal), literal) == 0) return literal;
    }
  }
  return {};
}

}  // namespace

Result<Tensor> read_npy(const std::string& path) {
  // Never blocks on a FIFO; refuses directories and devices with one line.
  TESSERA_ASSIGN_OR_RETURN(RegularFile file, open_regular_file(path, "a .npy file"));
  __gnu_cxx::stdio_filebuf<char> buffer(file.fd, std::ios::in | std::ios::binary);  // closes the descriptor
  std::istream in(&buffer);
  int64_t file_size = file.size;
  char magic[8] = {};
  in.read(magic, 8);
  TESSERA_CHECK(in.good() && std::memcmp(magic, kMagic, 6) == 0, Error::InvalidArgument,
                "'{}' is not a .npy file (bad magic)", path);
  int major = static_cast<unsigned char>(magic[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  }
  TESSERA_CHECK(in.good() && header_len < (1u << 20) && static_cast<int64_t>(header_len) < file_size,
                Error::InvalidArgument, "'{}' has a corrupt .npy header", path);
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  TESSERA_CHECK(in.good(), Error::InvalidArgument, "'{}' is truncated in its header", path);

  std::string descr = header_field(header, "descr");
  TESSERA_CHECK(descr == "'<f4'", Error::DTypeMismatch,
                "'{}' holds {} values; tessera takes float32 ('<f4'): convert with array.astype(numpy.float32)", path,
                descr.empty() ? "unknown" : descr);
  TESSERA_CHECK(header_field(header, "fortran_order") == "False", Error::InvalidArgument,
                "'{}' is in Fortran order; save a C-contiguous array (numpy.ascontiguousarray)", path);
  std::string shape_text = header_field(header, "shape");
  TESSERA_CHECK(shape_text.size() >= 2, Error::InvalidArgument, "'{}' has no shape in its header", path);
  Shape shape;
  std::string body = shape_text.substr(1, shape_text.size() - 2);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t comma = body.find(',', pos);
    std::string item = body.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    if (!item.empty()) {
      char* end = nullptr;
      long long v = std::strtoll(item.c_str(), &end, 10);
      TESSERA_CHECK(end && *end == '\0' && v >= 0 && v < (1ll << 32) && shape.rank() < kMaxRank,
                    Error::InvalidArgument, "'{}' has a bad shape {}", path, shape_text);
      // Checked before multiplying, so that an absurd shape cannot overflow the element count.
      TESSERA_CHECK(v == 0 || shape.element_count() <= file_size / static_cast<int64_t>(sizeof(float)) / v,
                    Error::InvalidArgument, "'{}' declares shape {}, larger than the file", path, shape_text);
      shape.push_back(v);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  int64_t data_offset = in.tellg();
  int64_t bytes = shape.element_count() * static_cast<int64_t>(sizeof(float));
  TESSERA_CHECK(file_size - data_offset == bytes, Error::InvalidArgument,
                "'{}' is truncated or padded: shape {} needs {} bytes of data, the file has {}", path,
                shape.to_string(), bytes, file_size - data_offset);
  Tensor t(shape);
  in.read(reinterpret_cast<char*>(t.data()), bytes);
  TESSERA_CHECK(in.good(), Error::IoError, "reading '{}' failed", path);
  return t;
}

Status write_npy(const std::string& path, ConstTensorView tensor) {
  // Python tuple syntax: "(1, 3)", "(5,)", "()".
  std::string shape = fmt::format("{}", fmt::join(tensor.shape, ", "));
  if (tensor.shape.rank() == 1) shape += ",";
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", shape);
  // Pad so that the data starts at a multiple of 64 bytes, ending the header with a newline.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');

  std::string tmp = temp_path_for(path);
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out.good()) temp_path_done(tmp);
  TESSERA_CHECK(out.good(), Error::IoError, "cannot write '{}': check that its folder exists and is writable", path);
  uint16_t len = static_cast<uint16_t>(header.size());
  out.write(kMagic, 6);
  out.put(1);
  out.put(0);
  out.put(static_cast<char>(len & 0xff));
  out.put(static_cast<char>(len >> 8));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(tensor.data),
            static_cast<std::streamsize>(tensor.shape.element_count() * sizeof(float)));
  out.close();
  bool written = out.good() && std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!written) std::remove(tmp.c_str());
  temp_path_done(tmp);
  TESSERA_CHECK(written, Error::IoError, "writing '{}' failed", path);
  return {};
}

}  // namespace tessera
