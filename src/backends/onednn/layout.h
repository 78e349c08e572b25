// Memory descriptors for tensors as the oneDNN backend keeps them: rank-4 activations in NHWC
// (channels last: what oneDNN's fast convolutions read and write), everything else row-major as
// the graph holds it (constants stay NCHW where the mapped file has them).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "tessera/tensor.h"

namespace tessera::onednn {

// Row-major: NCHW for rank 4.
dnnl::memory::desc plain_md(const Shape& shape, dnnl::memory::data_type type = dnnl::memory::data_type::f32);

// NHWC for rank 4, row-major for other ranks; bf16 for a convolution's copy of its input.
dnnl::memory::desc activation_md(const Shape& shape, dnnl::memory::data_type type = dnnl::memory::data_type::f32);

// `shape` seen with `rank` axes (leading axes of 1, as numpy broadcasting aligns them), in NHWC
// when `nhwc` and the result has rank 4: an operand that oneDNN broadcasts.
dnnl::memory::desc aligned_md(const Shape& shape, int rank, bool nhwc);

// DepthToSpace as a copy between two 6-D views of the same logical [N, H, bh, W, bw, C'] tensor:
// `src` over the NHWC input [N, H, W, C'*b*b], `dst` over the output [N, C', H*b, W*b] in NHWC,
// or in NCHW when `dst_nchw`.
struct DepthToSpaceViews {
  dnnl::memory::desc src;
  dnnl::memory::desc dst;
};
DepthToSpaceViews depth_to_space_views(const Shape& input, int64_t block, bool dcr, bool dst_nchw);

}  // namespace tessera::onednn
