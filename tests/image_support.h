// Image files for tests, made and read with libvips: seeded random pixels in, every sample out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::testing {

struct Pixels {
  int width = 0, height = 0, bands = 0, bits = 8;
  std::vector<uint16_t> samples;  // interleaved (HWC)

  uint16_t at(int y, int x, int band) const { return samples[(static_cast<size_t>(y) * width + x) * bands + band]; }
};

// Writes seeded random pixels (1 band: gray, 2: gray + alpha, 3: RGB, 4: RGB + alpha) of 8 or 16 bits;
// the extension picks the format.
void write_random_image(const std::string& path, int width, int height, int bands, int bits, uint32_t seed);
void write_pixels(const std::string& path, const Pixels& pixels);

Pixels read_pixels(const std::string& path);

// How many samples differ (-1 when the sizes differ), and the largest difference.
struct PixelDifference {
  int64_t count = 0;
  int max = 0;
};
PixelDifference pixel_difference(const Pixels& a, const Pixels& b);

}  // namespace tessera::testing
