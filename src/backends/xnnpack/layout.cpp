// NCHW <-> NHWC transposes, as per-image 2-D transposes [C][HW] <-> [HW][C], cut into blocks of
// pixels so that both sides stay in cache and threads share the work.
#include "backends/xnnpack/layout.h"

namespace tessera::xnnpack {
namespace {

constexpr int64_t kBlock = 64;  // pixels per block

// Calls f(n, p0, p1) for pixel blocks [p0, p1) of every image n.
template <typename F>
void for_each_block(const Shape& nchw, pthreadpool_t pool, const F& f) {
  const int64_t pixels = nchw[2] * nchw[3];
  const int64_t blocks = (pixels + kBlock - 1) / kBlock;
  parallel_for(pool, static_cast<size_t>(nchw[0] * blocks), 1, [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; ++b) {
      const int64_t n = static_cast<int64_t>(b) / blocks, p0 = static_cast<int64_t>(b) % blocks * kBlock;
      f(n, p0, std::min(p0 + kBlock, pixels));
    }
  });
}

}  // namespace

void nchw_to_nhwc(const float* in, float* out, const Shape& nchw, pthreadpool_t pool) {
  const int64_t channels = nchw[1], pixels = nchw[2] * nchw[3];
  for_each_block(nchw, pool, [&](int64_t n, int64_t p0, int64_t p1) {
    const float* x = in + n * channels * pixels;
    float* y = out + n * channels * pixels;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = p0; p < p1; ++p) y[p * channels + c] = x[c * pixels + p];
  });
}

void nhwc_to_nchw(const float* in, float* out, const Shape& nchw, pthreadpool_t pool) {
  const int64_t channels = nchw[1], pixels = nchw[2] * nchw[3];
  for_each_block(nchw, pool, [&](int64_t n, int64_t p0, int64_t p1) {
    const float* x = in + n * channels * pixels;
    float* y = out + n * channels * pixels;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = p0; p < p1; ++p) y[c * pixels + p] = x[p * channels + c];
  });
}

std::vector<float> constant_to_nhwc(const float* data, const Shape& shape) {
  const std::array<size_t, 4> d = nhwc_dims(shape);  // [N, H, W, C]
  const size_t n = d[0], h = d[1], w = d[2], c = d[3];
  std::vector<float> out(n * h * w * c);
  for (size_t in = 0; in < n; ++in)
    for (size_t ic = 0; ic < c; ++ic)
      for (size_t ih = 0; ih < h; ++ih)
        for (size_t iw = 0; iw < w; ++iw) out[((in * h + ih) * w + iw) * c + ic] = *data++;
  return out;
}

}  // namespace tessera::xnnpack
