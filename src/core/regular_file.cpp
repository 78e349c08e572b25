#include "core/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/check.h"

namespace tessera {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "something else";
}

}  // namespace

RegularFile try_open_regular_file(const std::string& path, std::string* reason) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int error = errno;
    *reason = error == ENOENT ? "missing (no such file)" : fmt::format("not readable ({})", std::strerror(error));
    return {};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    *reason = fmt::format("{}, not a regular file", kind_of(st.st_mode));
    return {};
  }
  return RegularFile{fd, static_cast<int64_t>(st.st_size)};
}

Result<RegularFile> open_regular_file(const std::string& path, std::string_view what) {
  std::string reason;
  RegularFile file = try_open_regular_file(path, &reason);
  TESSERA_CHECK(file.fd >= 0, Error::IoError, "cannot read '{}': it is {}; give the path of {}", printable(path), reason,
                what);
  return file;
}

bool read_exactly(int fd, void* data, int64_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::read(fd, p, static_cast<size_t>(std::min<int64_t>(size, int64_t{1} << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= n;
  }
  return true;
}

Result<std::string> read_regular_file(const std::string& path, std::string_view what, int64_t max_bytes) {
  TESSERA_ASSIGN_OR_RETURN(RegularFile file, open_regular_file(path, what));
  if (file.size > max_bytes) {
    ::close(file.fd);
    return Status(Error::InvalidArgument, fmt::format("'{}' is {} bytes, more than the {} bytes {} may have",
                                                      printable(path), file.size, max_bytes, what));
  }
  std::string bytes(static_cast<size_t>(file.size), '\0');
  bool ok = read_exactly(file.fd, bytes.data(), file.size);
  ::close(file.fd);
  TESSERA_CHECK(ok, Error::IoError, "reading '{}' failed: it changed or shrank while read", printable(path));
  return bytes;
}

}  // namespace tessera
