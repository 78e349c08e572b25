// Fuzz target: a .tsr file loaded, then run once on every backend (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tessera::fuzz::ScratchDir dir;
  (void)tessera::fuzz::tsr_one(dir, {reinterpret_cast<const char*>(data), size});
  return 0;
}
