// Fuzz target: a .npy file read, written back and read again (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tessera::fuzz::ScratchDir dir;
  (void)tessera::fuzz::npy_one(dir, {reinterpret_cast<const char*>(data), size});
  return 0;
}
