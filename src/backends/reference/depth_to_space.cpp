// DepthToSpace: moves channel blocks into b x b spatial tiles, in DCR or CRD order.
#include "backends/reference/ops.h"

namespace tessera::reference {

// x [N, C*b*b, H, W] -> y [N, C, H*b, W*b] with y[n, c, h*b+i, w*b+j] =
//   DCR: x[n, (i*b + j)*C + c, h, w]      CRD: x[n, c*b*b + i*b + j, h, w]
Status depth_to_space(const ir::DepthToSpaceAttrs& a, Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 1, "DepthToSpace takes 1 input, got {}", in.size());
  const Shape& xs = in[0].shape;
  const int64_t b = a.block;
  TESSERA_REF_EXPECT(xs.rank() == 4 && out.shape.rank() == 4 && b >= 1 && out.shape[0] == xs[0] &&
                         out.shape[1] * b * b == xs[1] && out.shape[2] == xs[2] * b &&
                         out.shape[3] == xs[3] * b,
                     "DepthToSpace block {} cannot map {} to {}", b, xs.to_string(),
                     out.shape.to_string());
  const int64_t n_batch = out.shape[0], out_c = out.shape[1], out_h = out.shape[2],
                out_w = out.shape[3];
  const int64_t in_c = xs[1], in_h = xs[2], in_w = xs[3];
  float* y = out.data;
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t c = 0; c < out_c; ++c) {
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          const int64_t i = oy % b, j = ox % b;
          const int64_t ic = a.mode == ir::DepthToSpaceMode::DCR ? (i * b + j) * out_c + c
                                                                 : c * b * b + i * b + j;
          *y++ = in[0].data[((n * in_c + ic) * in_h + oy / b) * in_w + ox / b];
        }
      }
    }
  }
  return Status::ok_status();
}

}  // namespace tessera::reference
