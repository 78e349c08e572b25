#include "image_support.h"

#include <vips/vips8>

#include <cstdlib>
#include <random>
#include <stdexcept>

#include "io/vips_util.h"

namespace tessera::testing {

namespace {

VipsInterpretation interpretation_of(int bands, int bits) {
  if (bands <= 2) return bits == 16 ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W;
  return bits == 16 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB;
}

void start_vips() {
  if (!ensure_vips().ok()) throw std::runtime_error("libvips does not start");
}

}  // namespace

void write_pixels(const std::string& path, const Pixels& p) {
  start_vips();
  const size_t bytes = p.samples.size() * (p.bits / 8);
  void* data = std::malloc(bytes);
  for (size_t i = 0; i < p.samples.size(); ++i) {
    if (p.bits == 16)
      static_cast<uint16_t*>(data)[i] = p.samples[i];
    else
      static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(p.samples[i]);
  }
  vips::VImage image = vips::VImage::new_from_memory_steal(data, bytes, p.width, p.height, p.bands,
                                                          p.bits == 16 ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR);
  image = image.copy(vips::VImage::option()->set("interpretation", interpretation_of(p.bands, p.bits)));
  image.write_to_file(path.c_str());
}

void write_random_image(const std::string& path, int width, int height, int bands, int bits, uint32_t seed) {
  Pixels p{width, height, bands, bits, std::vector<uint16_t>(static_cast<size_t>(width) * height * bands)};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value(0, bits == 16 ? 65535 : 255);
  for (uint16_t& s : p.samples) s = static_cast<uint16_t>(value(rng));
  write_pixels(path, p);
}

Pixels read_pixels(const std::string& path) {
  start_vips();
  vips::VImage image = vips::VImage::new_from_file(path.c_str());
  Pixels p{image.width(), image.height(), image.bands(), image.format() == VIPS_FORMAT_USHORT ? 16 : 8, {}};
  size_t size = 0;
  void* data = vips_image_write_to_memory(image.get_image(), &size);
  if (!data) throw std::runtime_error("cannot decode " + path);
  p.samples.resize(static_cast<size_t>(p.width) * p.height * p.bands);
  for (size_t i = 0; i < p.samples.size(); ++i)
    p.samples[i] = p.bits == 16 ? static_cast<uint16_t*>(data)[i] : static_cast<uint8_t*>(data)[i];
  g_free(data);
  return p;
}

PixelDifference pixel_difference(const Pixels& a, const Pixels& b) {
  if (a.width != b.width || a.height != b.height || a.bands != b.bands || a.bits != b.bits) return {-1, 0};
  PixelDifference d;
  for (size_t i = 0; i < a.samples.size(); ++i) {
    int diff = std::abs(int{a.samples[i]} - int{b.samples[i]});
    d.count += diff != 0;
    d.max = std::max(d.max, diff);
  }
  return d;
}

}  // namespace tessera::testing
