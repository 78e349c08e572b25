// Internal: numpy-style multidirectional broadcasting of two tensors, for binary.cpp and prelu.cpp.
#pragma once

#include <array>

#include "backends/reference/ops.h"

namespace tessera::reference {

// Dim of `shape` at `axis` once shapes are right-aligned to kMaxRank axes (leading axes are 1).
inline int64_t aligned_dim(const Shape& shape, int axis) {
  const int own = axis - (kMaxRank - shape.rank());
  return own >= 0 ? shape[own] : 1;
}

// out[i] = f(a[ia], b[ib]) where ia and ib are out's index i mapped into a and b numpy-style
// (shapes aligned right; an axis of size 1 repeats). Each output is written after its inputs are
// read and in increasing order, so out may alias a when they have the same shape.
template <typename F>
Status broadcast_apply(const char* op, ConstTensorView a, ConstTensorView b, TensorView out, F f) {
  TESSERA_REF_EXPECT(a.shape.rank() <= out.shape.rank() && b.shape.rank() <= out.shape.rank(),
                     "{}: inputs {} and {} have more axes than output {}", op, a.shape.to_string(),
                     b.shape.to_string(), out.shape.to_string());
  // All three seen as rank kMaxRank; a broadcast axis gets stride 0 so it re-reads the same element.
  std::array<int64_t, kMaxRank> dims{}, a_strides{}, b_strides{};
  int64_t a_stride = 1, b_stride = 1;
  for (int axis = kMaxRank - 1; axis >= 0; --axis) {
    const int64_t d = aligned_dim(out.shape, axis), ad = aligned_dim(a.shape, axis),
                  bd = aligned_dim(b.shape, axis);
    TESSERA_REF_EXPECT((ad == d || ad == 1) && (bd == d || bd == 1) && (ad == d || bd == d),
                       "{}: inputs {} and {} do not broadcast to output {}", op, a.shape.to_string(),
                       b.shape.to_string(), out.shape.to_string());
    dims[axis] = d;
    a_strides[axis] = ad == 1 ? 0 : a_stride;
    b_strides[axis] = bd == 1 ? 0 : b_stride;
    a_stride *= ad;
    b_stride *= bd;
  }

  // Walk the outer axes as an odometer and the last axis as an inner loop.
  constexpr int kLast = kMaxRank - 1;
  int64_t rows = 1;
  for (int axis = 0; axis < kLast; ++axis) rows *= dims[axis];
  std::array<int64_t, kMaxRank> index{};
  int64_t a_offset = 0, b_offset = 0;
  float* y = out.data;
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t j = 0; j < dims[kLast]; ++j) {
      *y++ = f(a.data[a_offset + j * a_strides[kLast]], b.data[b_offset + j * b_strides[kLast]]);
    }
    for (int axis = kLast - 1; axis >= 0; --axis) {
      a_offset += a_strides[axis];
      b_offset += b_strides[axis];
      if (++index[axis] < dims[axis]) break;
      a_offset -= a_strides[axis] * dims[axis];
      b_offset -= b_strides[axis] * dims[axis];
      index[axis] = 0;
    }
  }
  return Status::ok_status();
}

}  // namespace tessera::reference
