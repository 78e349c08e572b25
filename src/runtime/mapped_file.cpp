#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/check.h"
#include "core/regular_file.h"
#include "runtime/mapped_file.h"

namespace tessera {

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  // Never blocks on a FIFO; refuses directories and devices with one line.
  TESSERA_ASSIGN_OR_RETURN(RegularFile file, open_regular_file(path, "a compiled model (.tsr)"));
  int fd = file.fd;
  size_t size = static_cast<size_t>(file.size);
  if (size == 0) {
    ::close(fd);
    return Status(Error::InvalidModel, fmt::format("'{}' is empty", path));
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  TESSERA_CHECK(p != MAP_FAILED, Error::IoError, "cannot map '{}': {}", path, std::strerror(errno));
  return std::unique_ptr<MappedFile>(new MappedFile(static_cast<const uint8_t*>(p), size));
}

MappedFile::~MappedFile() { ::munmap(const_cast<uint8_t*>(data_), size_); }

}  // namespace tessera
