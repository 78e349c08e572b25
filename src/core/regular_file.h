// Opening untrusted input paths: only regular files are read. A FIFO, a device, a socket or a
// directory is refused with one line, and opening never blocks (O_NONBLOCK, then fstat): a FIFO
// without a writer would otherwise block open() forever, and /dev/zero never ends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/status.h"

namespace tessera {

struct RegularFile {
  int fd = -1;
  int64_t size = 0;
};

// Opens `path` for reading. `what` says what the file should be, for the message: "a .npy file",
// "a compiled model (.tsr)". The caller closes the descriptor.
Result<RegularFile> open_regular_file(const std::string& path, std::string_view what);

// The same without a message: fd -1 and `reason` ("missing (no such file)", "a FIFO (named pipe),
// not a regular file", ...) when it cannot be read.
RegularFile try_open_regular_file(const std::string& path, std::string* reason);

// The whole file, if it is a regular file of at most `max_bytes` bytes.
Result<std::string> read_regular_file(const std::string& path, std::string_view what, int64_t max_bytes);

// Reads exactly `size` bytes at the descriptor's position; false on an error or a short file.
bool read_exactly(int fd, void* data, int64_t size);

}  // namespace tessera
