// Resize: nearest or bilinear resampling of the last two axes of an NCHW tensor (ONNX Resize).
#include <algorithm>
#include <cmath>
#include <optional>

#include "backends/reference/ops.h"
#include "core/rational.h"

namespace tessera::reference {
namespace {

using ir::CoordinateMode;
using ir::NearestMode;

// Where output index `o` samples the input along one axis (ONNX coordinate_transformation_mode):
// an integer part and a fraction in [0, 1).
struct Position {
  int64_t index;
  float frac;
};

// For integer and 1/integer scales the position is exact integer arithmetic, so its fraction depends
// only on o's phase: every tile samples exactly as the whole image does. Other scales and
// align_corners are computed in float, as ONNX Runtime does.
Position source_position(CoordinateMode mode, int64_t o, float scale, int64_t in_len, int64_t out_len) {
  std::optional<Rational> f = exact_scale(scale);
  bool half_pixel = mode == CoordinateMode::HalfPixel || (mode == CoordinateMode::PytorchHalfPixel && out_len > 1);
  if (f && (half_pixel || mode == CoordinateMode::Asymmetric || mode == CoordinateMode::TfHalfPixelForNearest)) {
    // x = n / d with (p/q = f): asymmetric o*q/p; half_pixel ((2o+1)q - p) / 2p; tf: (2o+1)q / 2p.
    int64_t n = mode == CoordinateMode::Asymmetric ? o * f->den : (2 * o + 1) * f->den - (half_pixel ? f->num : 0);
    int64_t d = mode == CoordinateMode::Asymmetric ? f->num : 2 * f->num;
    int64_t index = floor_div(n, d);
    return {index, static_cast<float>(n - index * d) / static_cast<float>(d)};
  }
  const float x = static_cast<float>(o);
  float c = 0.0f;
  switch (mode) {
    case CoordinateMode::HalfPixel: c = (x + 0.5f) / scale - 0.5f; break;
    case CoordinateMode::PytorchHalfPixel: c = out_len > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f; break;
    case CoordinateMode::AlignCorners:
      c = out_len > 1 ? x * static_cast<float>(in_len - 1) / static_cast<float>(out_len - 1) : 0.0f;
      break;
    case CoordinateMode::Asymmetric: c = x / scale; break;
    case CoordinateMode::TfHalfPixelForNearest: c = (x + 0.5f) / scale; break;
  }
  const float index = std::floor(c);
  return {static_cast<int64_t>(index), c - index};
}

// The input index nearest to position p (ONNX nearest_mode), clamped into the input.
int64_t nearest_index(NearestMode mode, Position p, int64_t in_len) {
  int64_t i = p.index;
  switch (mode) {
    case NearestMode::RoundPreferFloor: i += p.frac > 0.5f; break;
    case NearestMode::RoundPreferCeil: i += p.frac >= 0.5f; break;
    case NearestMode::Floor: break;
    case NearestMode::Ceil: i += p.frac > 0.0f; break;
  }
  return std::clamp(i, int64_t{0}, in_len - 1);
}

// Linear interpolation along one axis: the position is clamped into [0, in_len - 1] (as ONNX
// Runtime and PyTorch do), then split into two neighbours i0 <= i1 and weights w0 + w1 = 1.
struct LinearTap {
  int64_t i0, i1;
  float w0, w1;
};
LinearTap linear_tap(Position p, int64_t in_len) {
  if (p.index < 0) return {0, 0, 1.0f, 0.0f};
  if (p.index >= in_len - 1) return {in_len - 1, in_len - 1, 1.0f, 0.0f};
  return {p.index, p.index + 1, 1.0f - p.frac, p.frac};
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
      const Position sy = source_position(a.coordinate_mode, oy, a.scales[0], in_h, out_h);
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const Position sx = source_position(a.coordinate_mode, ox, a.scales[1], in_w, out_w);
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
