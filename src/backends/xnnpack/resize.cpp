// Each output row and column gets its source indices and weights once per shape (setup); run() is then
// a gather of whole pixels (all channels at once, contiguous in NHWC). The positions and the
// arithmetic are those of the reference kernel (backends/reference/resize.cpp), so the results are
// identical to it and, for n and 1/n scales, the same in every tile.
#include "backends/xnnpack/resize.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <variant>
#include <vector>

#include "core/rational.h"

namespace tessera::xnnpack {
namespace {

using ir::CoordinateMode;
using ir::NearestMode;

// Where output index o samples the input along one axis: an integer part and a fraction in [0, 1).
struct Position {
  int64_t index;
  float frac;
};

// Exact integer arithmetic for n and 1/n scales, float otherwise (as the reference kernel).
Position source_position(CoordinateMode mode, int64_t o, float scale, int64_t in_len, int64_t out_len) {
  std::optional<Rational> f = exact_scale(scale);
  const bool half_pixel =
      mode == CoordinateMode::HalfPixel || (mode == CoordinateMode::PytorchHalfPixel && out_len > 1);
  if (f && (half_pixel || mode == CoordinateMode::Asymmetric || mode == CoordinateMode::TfHalfPixelForNearest)) {
    const int64_t n =
        mode == CoordinateMode::Asymmetric ? o * f->den : (2 * o + 1) * f->den - (half_pixel ? f->num : 0);
    const int64_t d = mode == CoordinateMode::Asymmetric ? f->num : 2 * f->num;
    const int64_t index = floor_div(n, d);
    return {index, static_cast<float>(n - index * d) / static_cast<float>(d)};
  }
  const float x = static_cast<float>(o);
  float c = 0.0f;
  switch (mode) {
    case CoordinateMode::HalfPixel:
      c = (x + 0.5f) / scale - 0.5f;
      break;
    case CoordinateMode::PytorchHalfPixel:
      c = out_len > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
      break;
    case CoordinateMode::AlignCorners:
      c = out_len > 1 ? x * static_cast<float>(in_len - 1) / static_cast<float>(out_len - 1) : 0.0f;
      break;
    case CoordinateMode::Asymmetric:
      c = x / scale;
      break;
    case CoordinateMode::TfHalfPixelForNearest:
      c = (x + 0.5f) / scale;
      break;
  }
  const float index = std::floor(c);
  return {static_cast<int64_t>(index), c - index};
}

// Two source indices and their weights; nearest uses i0 with weight 1.
struct Tap {
  int64_t i0 = 0, i1 = 0;
  float w0 = 1.0f, w1 = 0.0f;
};

bool same(const Tap& a, const Tap& b) { return a.i0 == b.i0 && a.i1 == b.i1 && a.w0 == b.w0 && a.w1 == b.w1; }

Tap nearest_tap(NearestMode mode, Position p, int64_t in_len) {
  int64_t i = p.index;
  switch (mode) {
    case NearestMode::RoundPreferFloor:
      i += p.frac > 0.5f;
      break;
    case NearestMode::RoundPreferCeil:
      i += p.frac >= 0.5f;
      break;
    case NearestMode::Floor:
      break;
    case NearestMode::Ceil:
      i += p.frac > 0.0f;
      break;
  }
  i = std::clamp(i, int64_t{0}, in_len - 1);
  return {i, i, 1.0f, 0.0f};
}

// The position clamped into [0, in_len - 1], then split between its two neighbours.
Tap linear_tap(Position p, int64_t in_len) {
  if (p.index < 0) return {0, 0, 1.0f, 0.0f};
  if (p.index >= in_len - 1) return {in_len - 1, in_len - 1, 1.0f, 0.0f};
  return {p.index, p.index + 1, 1.0f - p.frac, p.frac};
}

class ResizeStep : public Step {
 public:
  ResizeStep(const ModelData& model, const ir::Node& node)
      : node_(node),
        attrs_(std::get<ir::ResizeAttrs>(node.attrs)),
        rows_(model.upper_shapes[node.output][2]),
        cols_(model.upper_shapes[node.output][3]) {}

  Status setup(const StepContext& ctx) override {
    const Shape& xs = ctx.shapes[node_.inputs[0]];
    const Shape& ys = ctx.shapes[node_.output];
    fill(ys[2], xs[2], attrs_.scales[0], rows_.data());
    fill(ys[3], xs[3], attrs_.scales[1], cols_.data());
    return {};
  }

  Status run(const StepContext& ctx) override {
    const Shape& xs = ctx.shapes[node_.inputs[0]];
    const Shape& ys = ctx.shapes[node_.output];
    const int64_t channels = xs[1], in_h = xs[2], in_w = xs[3], out_h = ys[2], out_w = ys[3];
    const float* x = ctx.data[node_.inputs[0]];
    float* y = ctx.data[node_.output];
    const bool nearest = attrs_.mode == ir::ResizeMode::Nearest;
    parallel_for(ctx.pool, static_cast<size_t>(ys[0] * out_h), 8, [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        const int64_t n = static_cast<int64_t>(r) / out_h, oy = static_cast<int64_t>(r) % out_h;
        const Tap& h = rows_[oy];
        float* out = y + static_cast<int64_t>(r) * out_w * channels;
        // An upscale repeats each row's taps: copy the row this thread just made.
        if (r > begin && oy > 0 && same(rows_[oy - 1], h)) {
          std::copy_n(out - out_w * channels, out_w * channels, out);
          continue;
        }
        const float* row0 = x + (n * in_h + h.i0) * in_w * channels;
        const float* row1 = x + (n * in_h + h.i1) * in_w * channels;
        for (int64_t ox = 0; ox < out_w; ++ox, out += channels) {
          const Tap& w = cols_[ox];
          if (nearest) {
            std::copy_n(row0 + w.i0 * channels, channels, out);
            continue;
          }
          const float *v00 = row0 + w.i0 * channels, *v01 = row0 + w.i1 * channels;
          const float *v10 = row1 + w.i0 * channels, *v11 = row1 + w.i1 * channels;
          for (int64_t c = 0; c < channels; ++c)
            out[c] = h.w0 * (w.w0 * v00[c] + w.w1 * v01[c]) + h.w1 * (w.w0 * v10[c] + w.w1 * v11[c]);
        }
      }
    });
    return {};
  }

  int64_t extra_bytes() const override { return static_cast<int64_t>((rows_.size() + cols_.size()) * sizeof(Tap)); }

 private:
  void fill(int64_t out_len, int64_t in_len, float scale, Tap* taps) const {
    for (int64_t o = 0; o < out_len; ++o) {
      const Position p = source_position(attrs_.coordinate_mode, o, scale, in_len, out_len);
      taps[o] =
          attrs_.mode == ir::ResizeMode::Nearest ? nearest_tap(attrs_.nearest_mode, p, in_len) : linear_tap(p, in_len);
    }
  }

  const ir::Node& node_;
  const ir::ResizeAttrs& attrs_;
  std::vector<Tap> rows_, cols_;  // per output row and column, sized for the upper bound
};

}  // namespace

std::unique_ptr<Step> make_resize_step(const ModelData& model, const ir::Node& node) {
  return std::make_unique<ResizeStep>(model, node);
}

}  // namespace tessera::xnnpack
