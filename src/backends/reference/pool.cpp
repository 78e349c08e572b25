// MaxPool and AveragePool over NCHW with pads, strides, dilations and ceil_mode windows.
#include <array>
#include <cmath>
#include <limits>

#include "backends/reference/ops.h"

namespace tessera::reference {
namespace {

// Writes pool(x_plane, in_h, in_w, y0, x0) for every output pixel, where (y0, x0) is the window's
// top-left tap in input coordinates (negative inside the top/left padding). The output size comes
// from out.shape, so ceil_mode only shows up as windows that run past the input.
template <typename Pool>
Status for_each_window(const char* op, const ir::PoolAttrs& a, Inputs in, TensorView out, Pool pool) {
  TESSERA_REF_EXPECT(in.size() == 1, "{} takes 1 input, got {}", op, in.size());
  const Shape& xs = in[0].shape;
  TESSERA_REF_EXPECT(xs.rank() == 4 && out.shape.rank() == 4 && out.shape[0] == xs[0] &&
                         out.shape[1] == xs[1],
                     "{} cannot map {} to {}", op, xs.to_string(), out.shape.to_string());
  const int64_t planes = xs[0] * xs[1], in_h = xs[2], in_w = xs[3];
  float* y = out.data;
  for (int64_t p = 0; p < planes; ++p) {
    const float* x = in[0].data + p * in_h * in_w;
    for (int64_t oy = 0; oy < out.shape[2]; ++oy) {
      for (int64_t ox = 0; ox < out.shape[3]; ++ox) {
        *y++ = pool(x, in_h, in_w, oy * a.strides[0] - a.pads[0], ox * a.strides[1] - a.pads[1]);
      }
    }
  }
  return Status::ok_status();
}

}  // namespace

// The largest real input pixel in the window (padding never wins); a NaN wins and stays.
Status max_pool(const ir::PoolAttrs& a, Inputs in, TensorView out) {
  return for_each_window("MaxPool", a, in, out,
                         [&a](const float* x, int64_t in_h, int64_t in_w, int64_t y0, int64_t x0) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t ky = 0; ky < a.kernel[0]; ++ky) {
      const int64_t iy = y0 + ky * a.dilations[0];
      if (iy < 0 || iy >= in_h) continue;
      for (int64_t kx = 0; kx < a.kernel[1]; ++kx) {
        const int64_t ix = x0 + kx * a.dilations[1];
        if (ix < 0 || ix >= in_w) continue;
        const float v = x[iy * in_w + ix];
        if (v > m || std::isnan(v)) m = v;
      }
    }
    return m;
  });
}

// Sum of the real input pixels in (ky, kx) order, in float, then divided by a count:
// count_include_pad=false: the number of real pixels in the window;
// count_include_pad=true: the number of taps inside the padded input [-pad_begin, size + pad_end),
// so a ceil_mode window that runs past the padded end is not charged for it (as PyTorch does).
Status average_pool(const ir::PoolAttrs& a, Inputs in, TensorView out) {
  const std::array<int64_t, 4> counted_pads = a.count_include_pad ? a.pads : std::array<int64_t, 4>{};
  // How many of the k taps from `start` fall in [lo, hi).
  auto taps_within = [](int64_t start, int64_t k, int64_t dilation, int64_t lo, int64_t hi) {
    int64_t count = 0;
    for (int64_t t = 0; t < k; ++t) count += start + t * dilation >= lo && start + t * dilation < hi;
    return count;
  };
  return for_each_window("AveragePool", a, in, out,
                         [&](const float* x, int64_t in_h, int64_t in_w, int64_t y0, int64_t x0) {
    float sum = 0.0f;
    for (int64_t ky = 0; ky < a.kernel[0]; ++ky) {
      const int64_t iy = y0 + ky * a.dilations[0];
      if (iy < 0 || iy >= in_h) continue;
      for (int64_t kx = 0; kx < a.kernel[1]; ++kx) {
        const int64_t ix = x0 + kx * a.dilations[1];
        if (ix >= 0 && ix < in_w) sum += x[iy * in_w + ix];
      }
    }
    const int64_t count =
        taps_within(y0, a.kernel[0], a.dilations[0], -counted_pads[0], in_h + counted_pads[2]) *
        taps_within(x0, a.kernel[1], a.dilations[1], -counted_pads[1], in_w + counted_pads[3]);
    return sum / static_cast<float>(count);
  });
}

}  // namespace tessera::reference
