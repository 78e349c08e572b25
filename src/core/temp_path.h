// A temporary file name beside `path`, unique to this process and call: files are written there and
// renamed over `path` at the end, so a failure leaves no partial file and concurrent writers of the
// same path never take each other's temporary file.
#pragma once

#include <unistd.h>

#include <atomic>
#include <string>

namespace tessera {

inline std::string temp_path_for(const std::string& path) {
  static std::atomic<int> counter{0};
  return path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

}  // namespace tessera
