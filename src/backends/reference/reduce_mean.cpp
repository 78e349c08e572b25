// ReduceMean: the mean over the flagged axes of a rank-4 tensor, with or without keepdims.
#include <array>

#include "backends/reference/ops.h"

namespace tessera::reference {

// Each output sums its input elements in row-major order, in float, then divides by their count.
// The output's elements are in row-major order of the kept axes, which is the same with or
// without keepdims.
Status reduce_mean(const ir::ReduceAttrs& a, Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 1, "ReduceMean takes 1 input (axes are attributes), got {}",
                     in.size());
  const Shape& xs = in[0].shape;
  TESSERA_REF_EXPECT(xs.rank() == 4, "ReduceMean expects a rank-4 input, got {}", xs.to_string());
  // Per axis, the extent walked for outputs (`kept`) and within one output (`reduced`); one of
  // the two is 1, so an input index is the sum of the two walks.
  std::array<int64_t, 4> kept{}, reduced{}, strides{};
  int64_t kept_count = 1, reduced_count = 1, stride = 1;
  int reduced_axes = 0;
  for (int ax = 3; ax >= 0; --ax) {
    kept[ax] = a.axes[ax] ? 1 : xs[ax];
    reduced[ax] = a.axes[ax] ? xs[ax] : 1;
    strides[ax] = stride;
    stride *= xs[ax];
    kept_count *= kept[ax];
    reduced_count *= reduced[ax];
    reduced_axes += a.axes[ax];
  }
  TESSERA_REF_EXPECT(out.shape.element_count() == kept_count &&
                         out.shape.rank() == (a.keepdims ? 4 : 4 - reduced_axes),
                     "ReduceMean cannot map {} to {}", xs.to_string(), out.shape.to_string());

  float* y = out.data;
  for (int64_t n = 0; n < kept[0]; ++n)
    for (int64_t c = 0; c < kept[1]; ++c)
      for (int64_t h = 0; h < kept[2]; ++h)
        for (int64_t w = 0; w < kept[3]; ++w) {
          float sum = 0.0f;
          for (int64_t rn = 0; rn < reduced[0]; ++rn)
            for (int64_t rc = 0; rc < reduced[1]; ++rc)
              for (int64_t rh = 0; rh < reduced[2]; ++rh)
                for (int64_t rw = 0; rw < reduced[3]; ++rw) {
                  sum += in[0].data[(n + rn) * strides[0] + (c + rc) * strides[1] +
                                    (h + rh) * strides[2] + (w + rw) * strides[3]];
                }
          *y++ = sum / static_cast<float>(reduced_count);
        }
  return Status::ok_status();
}

}  // namespace tessera::reference
