// Which input pixels a Resize output pixel reads along one axis, and with which weights (ONNX Resize).
// Every backend's own Resize uses this one function, so that all give the same bits; for n and 1/n
// scales the positions are exact integer arithmetic, so every tile samples as the whole image does.
#pragma once

#include <cstdint>

#include "ir/attrs.h"

namespace tessera {

// Output = w0 · input[i0] + w1 · input[i1]; nearest reads i0 with weight 1.
struct ResizeTap {
  int64_t i0 = 0;
  int64_t i1 = 0;
  float w0 = 1.0f;
  float w1 = 0.0f;
};

// The tap of output index `o` along `axis` (0: height, 1: width) of an `in_len` → `out_len` resize.
ResizeTap resize_tap(const ir::ResizeAttrs& attrs, int axis, int64_t o, int64_t in_len, int64_t out_len);

}  // namespace tessera
