// The EXIF resolution scaled with the image: exact rationals, and a block without one left as it is
// (libexif would add a 72 dpi resolution the file never stated).
#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>

#include <cstdlib>

#include "io/exif_resolution.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

// An EXIF block with IFD0's orientation and, if given, its resolution.
std::string exif_block(bool with_resolution, ExifRational resolution) {
  ExifData* data = exif_data_new();
  exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_set_byte_order(data, EXIF_BYTE_ORDER_INTEL);
  auto add = [&](ExifTag tag) {
    ExifEntry* e = exif_entry_new();
    exif_content_add_entry(data->ifd[EXIF_IFD_0], e);
    exif_entry_initialize(e, tag);
    exif_entry_unref(e);
    return e;
  };
  exif_set_short(add(EXIF_TAG_ORIENTATION)->data, EXIF_BYTE_ORDER_INTEL, 6);
  if (with_resolution)
    for (ExifTag tag : {EXIF_TAG_X_RESOLUTION, EXIF_TAG_Y_RESOLUTION})
      exif_set_rational(add(tag)->data, EXIF_BYTE_ORDER_INTEL, resolution);
  unsigned char* bytes = nullptr;
  unsigned int size = 0;
  exif_data_save_data(data, &bytes, &size);
  std::string block(reinterpret_cast<const char*>(bytes), size);
  std::free(bytes);
  exif_data_unref(data);
  return block;
}

ExifRational resolution_of(const std::string& block, ExifTag tag) {
  ExifData* data = exif_data_new_from_data(reinterpret_cast<const unsigned char*>(block.data()),
                                           static_cast<unsigned int>(block.size()));
  ExifEntry* e = exif_content_get_entry(data->ifd[EXIF_IFD_0], tag);
  ExifRational r = e != nullptr ? exif_get_rational(e->data, exif_data_get_byte_order(data)) : ExifRational{0, 0};
  exif_data_unref(data);
  return r;
}

TEST(ExifResolution, ScalesExactlyAndPerAxis) {
  const std::string block = exif_block(true, {300, 1});
  const std::string scaled = scale_exif_resolution(block, 2, 1, 3, 2);
  EXPECT_EQ(resolution_of(scaled, EXIF_TAG_X_RESOLUTION).numerator, 600u);
  EXPECT_EQ(resolution_of(scaled, EXIF_TAG_X_RESOLUTION).denominator, 1u);
  EXPECT_EQ(resolution_of(scaled, EXIF_TAG_Y_RESOLUTION).numerator, 450u);
  const std::string thirds = scale_exif_resolution(exif_block(true, {72, 1}), 1, 3, 1, 3);
  EXPECT_EQ(resolution_of(thirds, EXIF_TAG_X_RESOLUTION).numerator, 24u);
}

TEST(ExifResolution, LeavesABlockWithoutOneOrUnparsableAsItIs) {
  const std::string block = exif_block(false, {});
  EXPECT_EQ(scale_exif_resolution(block, 2, 1, 2, 1), block);
  EXPECT_EQ(scale_exif_resolution("not exif", 2, 1, 2, 1), "not exif");
  EXPECT_EQ(scale_exif_resolution("", 2, 1, 2, 1), "");
  // Beyond 32 bits the rational is left unscaled rather than wrapped.
  const std::string huge = exif_block(true, {4000000000u, 1});
  EXPECT_EQ(resolution_of(scale_exif_resolution(huge, 2, 1, 2, 1), EXIF_TAG_X_RESOLUTION).numerator, 4000000000u);
}

}  // namespace
}  // namespace tessera::testing
