// Fuzz target: an ONNX model compiled (32..48:8), then run (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tessera::fuzz::ScratchDir dir;
  (void)tessera::fuzz::onnx_one(dir, {reinterpret_cast<const char*>(data), size});
  return 0;
}
