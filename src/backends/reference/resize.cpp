// Resize: nearest or bilinear resampling of the last two axes of an NCHW tensor (ONNX Resize).
#include <algorithm>
#include <cmath>

#include "backends/reference/ops.h"

namespace tessera::reference {
namespace {

using ir::CoordinateMode;
using ir::NearestMode;

// Where output index `o` samples the input along one axis (ONNX coordinate_transformation_mode).
// Computed in float, as ONNX Runtime does; `scale` is out/in as given by the model.
float source_coordinate(CoordinateMode mode, int64_t o, float scale, int64_t in_len, int64_t out_len) {
  const float x = static_cast<float>(o);
  switch (mode) {
    case CoordinateMode::HalfPixel: return (x + 0.5f) / scale - 0.5f;
    case CoordinateMode::PytorchHalfPixel: return out_len > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case CoordinateMode::AlignCorners:
      return out_len > 1 ? x * static_cast<float>(in_len - 1) / static_cast<float>(out_len - 1) : 0.0f;
    case CoordinateMode::Asymmetric: return x / scale;
    case CoordinateMode::TfHalfPixelForNearest: return (x + 0.5f) / scale;
  }
  return 0.0f;
}

// The input index nearest to coordinate x (ONNX nearest_mode), clamped into the input.
int64_t nearest_index(NearestMode mode, float x, int64_t in_len) {
  const bool half = x - std::floor(x) == 0.5f;  // exact: the tie that the *_prefer_* modes decide
  float r = 0.0f;
  switch (mode) {
    case NearestMode::RoundPreferFloor: r = half ? std::floor(x) : std::round(x); break;
    case NearestMode::RoundPreferCeil: r = half ? std::ceil(x) : std::round(x); break;
    case NearestMode::Floor: r = std::floor(x); break;
    case NearestMode::Ceil: r = std::ceil(x); break;
  }
  return std::clamp(static_cast<int64_t>(r), int64_t{0}, in_len - 1);
}

// Linear interpolation along one axis: the coordinate is clamped into [0, in_len - 1] (as ONNX
// Runtime and PyTorch do), then split into two neighbours i0 <= i1 and weights w0 + w1 = 1.
struct LinearTap {
  int64_t i0, i1;
  float w0, w1;
};
LinearTap linear_tap(float x, int64_t in_len) {
  x = std::clamp(x, 0.0f, static_cast<float>(in_len - 1));
  const auto i0 = static_cast<int64_t>(x);
  const float w1 = x - static_cast<float>(i0);
  return {i0, std::min(i0 + 1, in_len - 1), 1.0f - w1, w1};
}

}  // namespace

// Bilinear output = h.w0 * (w.w0 * v00 + w.w1 * v01) + h.w1 * (w.w0 * v10 + w.w1 * v11), the
// order PyTorch's CPU kernel uses.
Status resize(const ir::ResizeAttrs& a, Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 1, "Resize takes 1 input (scales are attributes), got {}", in.size());
  const Shape& xs = in[0].shape;
  TESSERA_REF_EXPECT(xs.rank() == 4 && out.shape.rank() == 4 && out.shape[0] == xs[0] &&
                         out.shape[1] == xs[1] && xs[2] >= 1 && xs[3] >= 1 && a.scales[0] > 0.0f &&
                         a.scales[1] > 0.0f,
                     "Resize cannot map {} to {} with scales {}x{}", xs.to_string(),
                     out.shape.to_string(), a.scales[0], a.scales[1]);
  const int64_t planes = xs[0] * xs[1], in_h = xs[2], in_w = xs[3];
  const int64_t out_h = out.shape[2], out_w = out.shape[3];
  const bool nearest = a.mode == ir::ResizeMode::Nearest;

  float* y = out.data;
  for (int64_t p = 0; p < planes; ++p) {
    const float* x = in[0].data + p * in_h * in_w;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const float sy = source_coordinate(a.coordinate_mode, oy, a.scales[0], in_h, out_h);
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const float sx = source_coordinate(a.coordinate_mode, ox, a.scales[1], in_w, out_w);
        if (nearest) {
          const int64_t iy = nearest_index(a.nearest_mode, sy, in_h);
          *y++ = x[iy * in_w + nearest_index(a.nearest_mode, sx, in_w)];
          continue;
        }
        const LinearTap h = linear_tap(sy, in_h), w = linear_tap(sx, in_w);
        const float* row0 = x + h.i0 * in_w;
        const float* row1 = x + h.i1 * in_w;
        *y++ = h.w0 * (w.w0 * row0[w.i0] + w.w1 * row0[w.i1]) +
               h.w1 * (w.w0 * row1[w.i0] + w.w1 * row1[w.i1]);
      }
    }
  }
  return Status::ok_status();
}

}  // namespace tessera::reference
