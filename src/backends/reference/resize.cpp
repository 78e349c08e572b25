// Resize: nearest or bilinear resampling of the last two axes of an NCHW tensor (ONNX Resize).
#include "backends/reference/ops.h"
#include "backends/resize_taps.h"

namespace tessera::reference {

// Bilinear output = h.w0 * (w.w0 * v00 + w.w1 * v01) + h.w1 * (w.w0 * v10 + w.w1 * v11), the
// order PyTorch's CPU kernel uses.
Status resize(const ir::ResizeAttrs& a, Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 1, "Resize takes 1 input (scales are attributes), got {}", in.size());
  const Shape& xs = in[0].shape;
  TESSERA_REF_EXPECT(xs.rank() == 4 && out.shape.rank() == 4 && out.shape[0] == xs[0] &&
                         out.shape[1] == xs[1] && xs[2] >= 1 && xs[3] >= 1 && a.scales[0] > 0.0f &&
                         a.scales[1] > 0.0f,
                     "Resize cannot map {} to {} with scales {}x{}", xs.to_string(),
                     out.shape.to_string(), a.scales[0], a.scales[1]);
  const int64_t planes = xs[0] * xs[1], in_h = xs[2], in_w = xs[3];
  const int64_t out_h = out.shape[2], out_w = out.shape[3];
  const bool nearest = a.mode == ir::ResizeMode::Nearest;

  float* y = out.data;
  for (int64_t p = 0; p < planes; ++p) {
    const float* x = in[0].data + p * in_h * in_w;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const ResizeTap h = resize_tap(a, 0, oy, in_h, out_h);
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const ResizeTap w = resize_tap(a, 1, ox, in_w, out_w);
        if (nearest) {
          *y++ = x[h.i0 * in_w + w.i0];
          continue;
        }
        const float* row0 = x + h.i0 * in_w;
        const float* row1 = x + h.i1 * in_w;
        *y++ = h.w0 * (w.w0 * row0[w.i0] + w.w1 * row0[w.i1]) +
               h.w1 * (w.w0 * row1[w.i0] + w.w1 * row1[w.i1]);
      }
    }
  }
  return Status::ok_status();
}

}  // namespace tessera::reference
