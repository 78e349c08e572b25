// Fuzz target: a TF.js model.json + shards (tfjs_split.h) compiled, then run (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tessera::fuzz::ScratchDir dir;
  (void)tessera::fuzz::tfjs_one(dir, {reinterpret_cast<const char*>(data), size});
  return 0;
}
