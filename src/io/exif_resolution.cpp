#include "io/exif_resolution.h"

#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>

#include <cstdlib>
#include <initializer_list>
#include <numeric>
#include <tuple>

namespace tessera {

namespace {

// r * num / den as an EXIF rational, reduced; false when it no longer fits 32 bits.
bool scale_rational(ExifRational& r, int64_t num, int64_t den) {
  if (r.denominator == 0 || num <= 0 || den <= 0) return false;
  uint64_t n = uint64_t{r.numerator} * static_cast<uint64_t>(num);
  uint64_t d = uint64_t{r.denominator} * static_cast<uint64_t>(den);
  const uint64_t g = std::gcd(n, d);
  if (g > 0) n /= g, d /= g;
  if (n > UINT32_MAX || d > UINT32_MAX) return false;
  r = {static_cast<ExifLong>(n), static_cast<ExifLong>(d)};
  return true;
}

}  // namespace

std::string scale_exif_resolution(const std::string& exif, int64_t x_num, int64_t x_den, int64_t y_num,
                                  int64_t y_den) {
  ExifData* data = exif_data_new();
  if (data == nullptr) return exif;
  // As the file says, no more: libexif would otherwise add the entries the standard requires (a
  // 72 dpi resolution among them) and drop the tags it does not know.
  exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_unset_option(data, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
  exif_data_load_data(data, reinterpret_cast<const unsigned char*>(exif.data()), static_cast<unsigned int>(exif.size()));
  const ExifByteOrder order = exif_data_get_byte_order(data);
  bool changed = false;
  for (auto [tag, num, den] : {std::tuple{EXIF_TAG_X_RESOLUTION, x_num, x_den},
                               std::tuple{EXIF_TAG_Y_RESOLUTION, y_num, y_den}}) {
    ExifEntry* entry = exif_content_get_entry(data->ifd[EXIF_IFD_0], tag);
    if (entry == nullptr || entry->format != EXIF_FORMAT_RATIONAL || entry->components < 1 || entry->size < 8) continue;
    ExifRational r = exif_get_rational(entry->data, order);
    if (!scale_rational(r, num, den)) continue;
    exif_set_rational(entry->data, order, r);
    changed = true;
  }
  std::string out = exif;
  if (changed) {
    unsigned char* bytes = nullptr;
    unsigned int size = 0;
    exif_data_save_data(data, &bytes, &size);
    if (bytes != nullptr && size > 0) out.assign(reinterpret_cast<const char*>(bytes), size);
    std::free(bytes);
  }
  exif_data_unref(data);
  return out;
}

}  // namespace tessera
