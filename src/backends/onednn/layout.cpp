#include "backends/onednn/layout.h"

namespace tessera::onednn {

using dnnl::memory;

namespace {

memory::dims dims_of(const Shape& shape) { return memory::dims(shape.begin(), shape.end()); }

// Row-major strides of `dims`.
memory::dims dense_strides(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

memory::desc strided(const memory::dims& dims, const memory::dims& strides,
                     memory::data_type type = memory::data_type::f32) {
  return memory::desc(dims, type, strides);
}

memory::desc nhwc(const memory::dims& d, memory::data_type type) {
  // Strides of [N, H, W, C] storage for the logical [N, C, H, W].
  return strided(d, {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]}, type);
}

}  // namespace

memory::desc plain_md(const Shape& shape, memory::data_type type) {
  const memory::dims d = shape.rank() == 0 ? memory::dims{1} : dims_of(shape);  // a scalar as [1]
  return strided(d, dense_strides(d), type);
}

memory::desc activation_md(const Shape& shape, memory::data_type type) {
  return shape.rank() == 4 ? nhwc(dims_of(shape), type) : plain_md(shape, type);
}

memory::desc aligned_md(const Shape& shape, int rank, bool as_nhwc) {
  memory::dims d(rank, 1);
  for (int i = 0; i < shape.rank(); ++i) d[rank - shape.rank() + i] = shape[i];
  return as_nhwc && rank == 4 ? nhwc(d, memory::data_type::f32) : strided(d, dense_strides(d));
}

DepthToSpaceViews depth_to_space_views(const Shape& input, int64_t b, bool dcr, bool dst_nchw) {
  const int64_t n = input[0], c_in = input[1], h = input[2], w = input[3], c = c_in / (b * b);
  const memory::dims dims = {n, h, b, w, b, c};  // [N, H, bh, W, bw, C']
  // The input channel of (bh, bw, c'): DCR (bh*b + bw)*C' + c'; CRD c'*b*b + bh*b + bw.
  const int64_t s_bh = dcr ? b * c : b, s_bw = dcr ? c : 1, s_c = dcr ? 1 : b * b;
  memory::desc src = strided(dims, {h * w * c_in, w * c_in, s_bh, c_in, s_bw, s_c});
  const int64_t oh = h * b, ow = w * b;
  memory::desc dst = dst_nchw ? strided(dims, {c * oh * ow, b * ow, ow, b, 1, oh * ow})
                              : strided(dims, {oh * ow * c, b * ow * c, ow * c, b * c, c, 1});
  return {src, dst};
}

}  // namespace tessera::onednn
