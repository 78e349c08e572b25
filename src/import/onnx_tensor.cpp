#include "import/onnx_tensor.h"
#include "core/check.h"
#include "core/regular_file.h"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <limits>

namespace tessera::onnx_import {

namespace {

// Reads the raw bytes of a tensor whose data lives in an external file.
Result<std::string> read_external(const onnx::TensorProto& t, const std::string& base_dir) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& e : t.external_data()) {
    if (e.key() == "location") location = e.value();
    if (e.key() == "offset") offset = std::stoll(e.value());
    if (e.key() == "length") length = std::stoll(e.value());
  }
  TESSERA_CHECK(!location.empty() && location.find("..") == std::string::npos, Error::InvalidModel,
                "tensor '{}' has an invalid external data location '{}'", printable(t.name()), printable(location));
  // Never blocks on a FIFO; refuses directories and devices with one line.
  TESSERA_ASSIGN_OR_RETURN(RegularFile file,
                           open_regular_file(base_dir + "/" + location,
                                             fmt::format("the external data file of tensor '{}'", printable(t.name()))));
  const int64_t size = file.size;
  if (length < 0) length = size - offset;
  if (!(offset >= 0 && length >= 0 && offset <= size && length <= size - offset)) {
    ::close(file.fd);
    return Status(Error::InvalidModel, fmt::format("external data of tensor '{}' lies outside '{}'",
                                                   printable(t.name()), printable(location)));
  }
  std::string bytes(static_cast<size_t>(length), '\0');
  bool ok = ::lseek(file.fd, offset, SEEK_SET) == offset && read_exactly(file.fd, bytes.data(), length);
  ::close(file.fd);
  TESSERA_CHECK(ok, Error::IoError, "reading external data '{}' of tensor '{}' failed", printable(location),
                printable(t.name()));
  return bytes;
}

template <typename T>
std::vector<T> from_bytes(const std::string& bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace

Result<ConstantTensor> decode_tensor(const onnx::TensorProto& t, const std::string& base_dir) {
  ConstantTensor c;
  TESSERA_CHECK(t.dims_size() <= kMaxRank, Error::Unsupported, "tensor '{}' has rank {} (at most {})", t.name(),
                t.dims_size(), kMaxRank);
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    TESSERA_CHECK(d >= 0 && d < (int64_t{1} << 40), Error::InvalidModel, "tensor '{}' has a bad dim {}", t.name(), d);
    c.shape.push_back(d);
    count *= d;
    TESSERA_CHECK(count < (int64_t{1} << 40), Error::InvalidModel, "tensor '{}' is too large", t.name());
  }
  std::string raw;
  bool has_raw = t.has_raw_data();
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    TESSERA_ASSIGN_OR_RETURN(raw, read_external(t, base_dir));
    has_raw = true;
  } else if (has_raw) {
    raw = t.raw_data();
  }
  auto expect = [&](size_t got) -> Status {
    TESSERA_CHECK(static_cast<int64_t>(got) == count, Error::InvalidModel,
                  "tensor '{}' of shape {} holds {} values, not {}", t.name(), c.shape.to_string(), got, count);
    return {};
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      c.floats = has_raw ? from_bytes<float>(raw) : std::vector<float>(t.float_data().begin(), t.float_data().end());
      TESSERA_RETURN_IF_ERROR(expect(c.floats.size()));
      return c;
    case onnx::TensorProto::DOUBLE: {
      std::vector<double> d =
          has_raw ? from_bytes<double>(raw) : std::vector<double>(t.double_data().begin(), t.double_data().end());
      TESSERA_RETURN_IF_ERROR(expect(d.size()));
      c.floats.assign(d.begin(), d.end());
      return c;
    }
    case onnx::TensorProto::INT64:
      c.is_float = false;
      c.ints = has_raw ? from_bytes<int64_t>(raw) : std::vector<int64_t>(t.int64_data().begin(), t.int64_data().end());
      TESSERA_RETURN_IF_ERROR(expect(c.ints.size()));
      return c;
    case onnx::TensorProto::INT32: {
      c.is_float = false;
      std::vector<int32_t> d =
          has_raw ? from_bytes<int32_t>(raw) : std::vector<int32_t>(t.int32_data().begin(), t.int32_data().end());
      TESSERA_RETURN_IF_ERROR(expect(d.size()));
      c.ints.assign(d.begin(), d.end());
      return c;
    }
    default:
      return Status(Error::Unsupported,
                    fmt::format("tensor '{}' has element type {} ({}); tessera takes float32, float64, int32 and int64 "
                                "constants",
                                t.name(), onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t.data_type())),
                                t.data_type()));
  }
}

}  // namespace tessera::onnx_import
