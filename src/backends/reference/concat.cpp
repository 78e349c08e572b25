// Concat: joins tensors of equal rank along any axis.
#include <algorithm>

#include "backends/reference/ops.h"

namespace tessera::reference {

// Seen as [outer, axis, inner], the output is, for each outer index, each input's
// [axis_i * inner] block in turn.
Status concat(const ir::ConcatAttrs& a, Inputs in, TensorView out) {
  const int rank = out.shape.rank();
  TESSERA_REF_EXPECT(!in.empty() && a.axis >= 0 && a.axis < rank,
                     "Concat on axis {} of output {} with {} inputs", a.axis, out.shape.to_string(),
                     in.size());
  const int axis = static_cast<int>(a.axis);
  int64_t axis_total = 0;
  for (const ConstTensorView& t : in) {
    bool same = t.shape.rank() == rank;
    for (int i = 0; same && i < rank; ++i) same = i == axis || t.shape[i] == out.shape[i];
    TESSERA_REF_EXPECT(same, "Concat input {} does not fit output {} on axis {}", t.shape.to_string(),
                       out.shape.to_string(), axis);
    axis_total += t.shape[axis];
  }
  TESSERA_REF_EXPECT(axis_total == out.shape[axis], "Concat inputs sum to {} on axis {}, output has {}",
                     axis_total, axis, out.shape[axis]);

  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= out.shape[i];
  for (int i = axis + 1; i < rank; ++i) inner *= out.shape[i];
  float* y = out.data;
  for (int64_t o = 0; o < outer; ++o) {
    for (const ConstTensorView& t : in) {
      const int64_t block = t.shape[axis] * inner;
      y = std::copy_n(t.data + o * block, block, y);
    }
  }
  return Status::ok_status();
}

}  // namespace tessera::reference
