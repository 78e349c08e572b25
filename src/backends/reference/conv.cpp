// Conv: direct NCHW convolution with groups, strides, dilations and asymmetric pads.
#include <cmath>

#include "backends/reference/ops.h"

namespace tessera::reference {

// x [N, Cin, H, W], w [Cout, Cin/group, kh, kw], optional bias [Cout] -> y [N, Cout, OH, OW].
// Each output is acc = bias (or 0), then for ci in the group, ky, kx: acc = fmaf(x, w, acc),
// skipping taps that land in the padding. This is the order the XNNPACK f32 conv matches.
Status conv(const ir::ConvAttrs& a, Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 2 || in.size() == 3, "Conv takes 2 or 3 inputs, got {}", in.size());
  const ConstTensorView& x = in[0];
  const ConstTensorView& w = in[1];
  TESSERA_REF_EXPECT(x.shape.rank() == 4 && w.shape.rank() == 4 && out.shape.rank() == 4,
                     "Conv expects rank-4 x, weight and output");
  const int64_t n_batch = x.shape[0], in_c = x.shape[1], in_h = x.shape[2], in_w = x.shape[3];
  const int64_t out_c = out.shape[1], out_h = out.shape[2], out_w = out.shape[3];
  const int64_t group_in_c = w.shape[1], k_h = w.shape[2], k_w = w.shape[3];
  TESSERA_REF_EXPECT(a.group >= 1 && out_c % a.group == 0 && in_c == group_in_c * a.group &&
                         w.shape[0] == out_c && out.shape[0] == n_batch,
                     "Conv shapes disagree: x {} weight {} output {} group {}", x.shape.to_string(),
                     w.shape.to_string(), out.shape.to_string(), a.group);
  const float* bias = nullptr;
  if (in.size() == 3) {
    TESSERA_REF_EXPECT(in[2].shape.element_count() == out_c, "Conv bias {} does not match {} outputs",
                       in[2].shape.to_string(), out_c);
    bias = in[2].data;
  }
  const int64_t group_out_c = out_c / a.group;

  float* y = out.data;
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t co = 0; co < out_c; ++co) {
      const int64_t ci_begin = co / group_out_c * group_in_c;  // first input channel of co's group
      const float* w_co = w.data + co * group_in_c * k_h * k_w;
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          float acc = bias ? bias[co] : 0.0f;
          for (int64_t ci = 0; ci < group_in_c; ++ci) {
            const float* x_plane = x.data + ((n * in_c) + ci_begin + ci) * in_h * in_w;
            for (int64_t ky = 0; ky < k_h; ++ky) {
              const int64_t iy = oy * a.strides[0] - a.pads[0] + ky * a.dilations[0];
              if (iy < 0 || iy >= in_h) continue;
              for (int64_t kx = 0; kx < k_w; ++kx) {
                const int64_t ix = ox * a.strides[1] - a.pads[1] + kx * a.dilations[1];
                if (ix < 0 || ix >= in_w) continue;
                acc = std::fmaf(x_plane[iy * in_w + ix], w_co[(ci * k_h + ky) * k_w + kx], acc);
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
