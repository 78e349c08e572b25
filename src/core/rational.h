// Exact rational numbers and floor/ceil division, for resolutions and resize scales: tiles sample the
// image exactly as the whole image does only when this arithmetic is exact.
#pragma once

#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>

namespace tessera {

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

struct Rational {
  int64_t num = 1;
  int64_t den = 1;

  static Rational of(int64_t n, int64_t d) {
    int64_t g = std::gcd(n, d);
    return {n / g, d / g};
  }
  Rational operator*(Rational o) const { return of(num * o.num, den * o.den); }
  Rational operator/(Rational o) const { return of(num * o.den, den * o.num); }
  bool operator==(const Rational& o) const = default;
};

// A resize scale (output pixels per input pixel) as an exact ratio: n/1 or 1/n only. These are the
// scales at which the sampling phase repeats every n pixels, the same in every tile.
inline std::optional<Rational> exact_scale(float scale) {
  if (scale >= 1 && scale == std::round(scale)) return Rational::of(static_cast<int64_t>(scale), 1);
  float inverse = 1.0f / scale;
  if (scale < 1 && std::fabs(inverse - std::round(inverse)) < 1e-4f) return Rational::of(1, std::llround(inverse));
  return std::nullopt;
}

}  // namespace tessera
