// NCHW <-> NHWC: the model's layout at the graph's edges and in the reference fallback, XNNPACK's inside.
#pragma once

#include <vector>

#include "backends/xnnpack/common.h"

namespace tessera::xnnpack {

// `nchw` is the tensor's shape in NCHW (rank 4). in and out must not overlap.
void nchw_to_nhwc(const float* in, float* out, const Shape& nchw, pthreadpool_t pool);
void nhwc_to_nchw(const float* in, float* out, const Shape& nchw, pthreadpool_t pool);

// A constant of rank <= 4 (right-aligned to NCHW, as numpy broadcasting sees it) in NHWC order.
std::vector<float> constant_to_nhwc(const float* data, const Shape& shape);

}  // namespace tessera::xnnpack
