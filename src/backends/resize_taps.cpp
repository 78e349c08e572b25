#include "backends/resize_taps.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/rational.h"

namespace tessera {

namespace {

using ir::CoordinateMode;
using ir::NearestMode;

// Where output index `o` samples the input (ONNX coordinate_transformation_mode): an integer part
// and a fraction in [0, 1).
struct Position {
  int64_t index;
  float frac;
};

// For integer and 1/integer scales the position is exact integer arithmetic, so its fraction depends
// only on o's phase. Other scales and align_corners are computed in float, as ONNX Runtime does.
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
ResizeTap nearest_tap(NearestMode mode, Position p, int64_t in_len) {
  int64_t i = p.index;
  switch (mode) {
    case NearestMode::RoundPreferFloor: i += p.frac > 0.5f; break;
    case NearestMode::RoundPreferCeil: i += p.frac >= 0.5f; break;
    case NearestMode::Floor: break;
    case NearestMode::Ceil: i += p.frac > 0.0f; break;
  }
  i = std::clamp(i, int64_t{0}, in_len - 1);
  return {i, i, 1.0f, 0.0f};
}

// Linear: the position clamped into [0, in_len - 1] (as ONNX Runtime and PyTorch do), then split
// between its two neighbours.
ResizeTap linear_tap(Position p, int64_t in_len) {
  if (p.index < 0) return {0, 0, 1.0f, 0.0f};
  if (p.index >= in_len - 1) return {in_len - 1, in_len - 1, 1.0f, 0.0f};
  return {p.index, p.index + 1, 1.0f - p.frac, p.frac};
}

}  // namespace

ResizeTap resize_tap(const ir::ResizeAttrs& attrs, int axis, int64_t o, int64_t in_len, int64_t out_len) {
  Position p = source_position(attrs.coordinate_mode, o, attrs.scales[axis], in_len, out_len);
  return attrs.mode == ir::ResizeMode::Nearest ? nearest_tap(attrs.nearest_mode, p, in_len) : linear_tap(p, in_len);
}

}  // namespace tessera
