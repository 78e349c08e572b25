// PixelScale: integer pixels (8- or 16-bit) <-> the float values a model takes, by the pixel range
// stored in its .tsr (e.g. 0..255 or 0..1). Output values are clamped to the range and rounded to the
// nearest pixel value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/check.h"

namespace tessera {

// A pixel range images can be scaled to: finite, MIN below MAX (0:inf would make every pixel black).
inline Status check_pixel_range(float pixel_min, float pixel_max) {
  TESSERA_CHECK(std::isfinite(pixel_min) && std::isfinite(pixel_max) && pixel_min < pixel_max &&
                    std::isfinite(pixel_max - pixel_min),
                Error::InvalidModel,
                "the model's pixel range {}..{} is not two finite numbers with MIN below MAX, so images cannot be "
                "scaled to it; compile the model again with --pixel-range MIN:MAX (e.g. 0:1 or 0:255)",
                pixel_min, pixel_max);
  return {};
}

class PixelScale {
 public:
  PixelScale(int bits, float pixel_min, float pixel_max)
      : max_value_(bits == 16 ? 65535.0f : 255.0f), pixel_min_(pixel_min), pixel_max_(pixel_max) {
    to_model_.resize(static_cast<size_t>(max_value_) + 1);
    for (size_t v = 0; v < to_model_.size(); ++v)
      to_model_[v] = static_cast<float>(v) * ((pixel_max - pixel_min) / max_value_) + pixel_min;
  }

  float to_model(uint16_t pixel) const { return to_model_[pixel]; }

  uint16_t to_pixel(float value) const {
    float v = (value - pixel_min_) * (max_value_ / (pixel_max_ - pixel_min_));
    if (!(v > 0.0f)) return 0;  // also NaN
    return static_cast<uint16_t>(std::nearbyint(std::min(v, max_value_)));
  }

 private:
  float max_value_;
  float pixel_min_;
  float pixel_max_;
  std::vector<float> to_model_;  // a lookup table: one entry per pixel value
};

}  // namespace tessera
