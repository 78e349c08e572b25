// GlobalAveragePool: the mean of each H x W plane, [N, C, H, W] -> [N, C, 1, 1].
#include "backends/reference/ops.h"

namespace tessera::reference {

// Sums each plane in float in row-major order, then divides by H*W.
Status global_average_pool(Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 1, "GlobalAveragePool takes 1 input, got {}", in.size());
  const Shape& xs = in[0].shape;
  TESSERA_REF_EXPECT(xs.rank() == 4 && out.shape == Shape({xs[0], xs[1], 1, 1}),
                     "GlobalAveragePool cannot map {} to {}", xs.to_string(), out.shape.to_string());
  const int64_t planes = xs[0] * xs[1], plane_size = xs[2] * xs[3];
  for (int64_t p = 0; p < planes; ++p) {
    const float* x = in[0].data + p * plane_size;
    float sum = 0.0f;
    for (int64_t i = 0; i < plane_size; ++i) sum += x[i];
    out.data[p] = sum / static_cast<float>(plane_size);
  }
  return Status::ok_status();
}

}  // namespace tessera::reference
