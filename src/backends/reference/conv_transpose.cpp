// ConvTranspose: ONNX transposed convolution, computed as a gather over the input for each output.
#include <cmath>

#include "backends/reference/ops.h"

namespace tessera::reference {

// x [N, Cin, H, W], w [Cin, Cout/group, kh, kw], optional bias [Cout] -> y [N, Cout, OH, OW] where
// input pixel iy feeds output oy = iy*stride - pad_top + ky*dilation (likewise for x). The output
// size (with output_padding) comes from out.shape. Each output is acc = bias (or 0), then for ci in
// the group, ky, kx: acc = fmaf(x, w, acc) over the taps that hit a real input pixel.
Status conv_transpose(const ir::ConvAttrs& a, Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 2 || in.size() == 3, "ConvTranspose takes 2 or 3 inputs, got {}",
                     in.size());
  const ConstTensorView& x = in[0];
  const ConstTensorView& w = in[1];
  TESSERA_REF_EXPECT(x.shape.rank() == 4 && w.shape.rank() == 4 && out.shape.rank() == 4,
                     "ConvTranspose expects rank-4 x, weight and output");
  const int64_t n_batch = x.shape[0], in_c = x.shape[1], in_h = x.shape[2], in_w = x.shape[3];
  const int64_t out_c = out.shape[1], out_h = out.shape[2], out_w = out.shape[3];
  const int64_t group_out_c = w.shape[1], k_h = w.shape[2], k_w = w.shape[3];
  TESSERA_REF_EXPECT(a.group >= 1 && in_c % a.group == 0 && w.shape[0] == in_c &&
                         a.strides[0] >= 1 && a.strides[1] >= 1 &&
                         out_c == group_out_c * a.group && out.shape[0] == n_batch,
                     "ConvTranspose shapes disagree: x {} weight {} output {} group {} strides {}x{}",
                     x.shape.to_string(), w.shape.to_string(), out.shape.to_string(), a.group,
                     a.strides[0], a.strides[1]);
  const float* bias = nullptr;
  if (in.size() == 3) {
    TESSERA_REF_EXPECT(in[2].shape.element_count() == out_c,
                       "ConvTranspose bias {} does not match {} outputs", in[2].shape.to_string(), out_c);
    bias = in[2].data;
  }
  const int64_t group_in_c = in_c / a.group;

  // The input pixel that feeds output `o` through tap `k`, or -1 when there is none.
  auto source = [](int64_t o, int64_t k, int64_t stride, int64_t dilation, int64_t pad, int64_t size) {
    const int64_t scaled = o + pad - k * dilation;  // = i * stride when tap k of pixel i hits o
    if (scaled < 0 || scaled % stride != 0 || scaled / stride >= size) return int64_t{-1};
    return scaled / stride;
  };

  float* y = out.data;
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t co = 0; co < out_c; ++co) {
      const int64_t g = co / group_out_c;
      const int64_t co_in_group = co % group_out_c;
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          float acc = bias ? bias[co] : 0.0f;
          for (int64_t ci = g * group_in_c; ci < (g + 1) * group_in_c; ++ci) {
            const float* x_plane = x.data + (n * in_c + ci) * in_h * in_w;
            const float* w_plane = w.data + (ci * group_out_c + co_in_group) * k_h * k_w;
            for (int64_t ky = 0; ky < k_h; ++ky) {
              const int64_t iy = source(oy, ky, a.strides[0], a.dilations[0], a.pads[0], in_h);
              if (iy < 0) continue;
              for (int64_t kx = 0; kx < k_w; ++kx) {
                const int64_t ix = source(ox, kx, a.strides[1], a.dilations[1], a.pads[1], in_w);
                if (ix < 0) continue;
                acc = std::fmaf(x_plane[iy * in_w + ix], w_plane[ky * k_w + kx], acc);
              }
            }
          }
          *y++ = acc;
        }
      }
    }
  }
  return Status::ok_status();
}

}  // namespace tessera::reference
