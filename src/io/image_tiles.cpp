#include "io/image_tiles.h"

#include <fmt/format.h>

#include "core/check.h"
#include "io/vips_util.h"

namespace tessera {

namespace {

constexpr int64_t kRowsPerRead = 64;  // rows decoded per libvips request: bounds libvips' own buffer

// Interleaved pixels (HWC) of one row -> plane rows of a window, and back.
template <typename T>
void pixels_to_window(const uint8_t* row, int64_t x0, int bands, const PixelScale& scale, TensorView window,
                      int64_t y) {
  const T* px = reinterpret_cast<const T*>(row) + x0 * bands;
  const int64_t h = window.shape[2], w = window.shape[3];
  for (int c = 0; c < bands; ++c) {
    float* out = window.data + (c * h + y) * w;
    for (int64_t x = 0; x < w; ++x) out[x] = scale.to_model(px[x * bands + c]);
  }
}

template <typename T>
void window_to_pixels(ConstTensorView window, int64_t y, int64_t crop_x, int64_t cols, int bands,
                      const PixelScale& scale, uint8_t* row, int64_t out_x) {
  T* px = reinterpret_cast<T*>(row) + out_x * bands;
  const int64_t h = window.shape[2], w = window.shape[3];
  for (int c = 0; c < bands; ++c) {
    const float* in = window.data + (c * h + y) * w + crop_x;
    for (int64_t x = 0; x < cols; ++x) px[x * bands + c] = static_cast<T>(scale.to_pixel(in[x]));
  }
}

}  // namespace

ImageSource::ImageSource(vips::VImage pixels, int bits, const PixelScale& scale, std::string path)
    : pixels_(pixels),
      bands_(pixels.bands()),
      bytes_per_sample_(bits / 8),
      scale_(scale),
      rows_(static_cast<size_t>(pixels.width()) * pixels.bands() * (bits / 8)),
      path_(std::move(path)) {}

Status ImageSource::prepare_rows(int64_t begin, int64_t end) {
  TESSERA_CHECK(begin >= rows_.begin(), Error::Internal, "input row {} was asked for after it was dropped", begin);
  rows_.drop_before(begin);
  try {
    vips::VRegion region = vips::VRegion::new_from_image(pixels_);
    while (rows_.end() < end) {
      const int64_t top = rows_.end(), count = std::min(end - top, kRowsPerRead);
      region.prepare(0, static_cast<int>(top), pixels_.width(), static_cast<int>(count));
      uint8_t* dst = rows_.append(count);
      for (int64_t y = 0; y < count; ++y)
        std::memcpy(dst + y * rows_.row_bytes(), region.addr(0, static_cast<int>(top + y)), rows_.row_bytes());
    }
  } catch (const vips::VError& e) {
    return Status(Error::InvalidImage,
                  fmt::format("cannot read '{}' (truncated or corrupt?): {}", path_, one_line(e.what())));
  }
  return {};
}

Status ImageSource::read(int64_t y0, int64_t x0, TensorView window) {
  TESSERA_CHECK(window.shape[1] == bands_ && y0 >= rows_.begin() && y0 + window.shape[2] <= rows_.end() &&
                    x0 + window.shape[3] <= pixels_.width(),
                Error::Internal, "window {} at ({}, {}) is outside the decoded rows [{}, {})",
                window.shape.to_string(), y0, x0, rows_.begin(), rows_.end());
  for (int64_t y = 0; y < window.shape[2]; ++y) {
    if (bytes_per_sample_ == 2)
      pixels_to_window<uint16_t>(rows_.row(y0 + y), x0, bands_, scale_, window, y);
    else
      pixels_to_window<uint8_t>(rows_.row(y0 + y), x0, bands_, scale_, window, y);
  }
  return {};
}

ImageSink::ImageSink(int64_t width, int bands, int bits, const PixelScale& scale)
    : bands_(bands), bytes_per_sample_(bits / 8), scale_(scale), rows_(static_cast<size_t>(width) * bands * (bits / 8)) {}

Status ImageSink::prepare_rows(int64_t begin, int64_t end) {
  TESSERA_CHECK(begin == rows_.end(), Error::Internal, "output band at row {} does not follow row {}", begin,
                rows_.end());
  rows_.append(end - begin);
  return {};
}

Status ImageSink::write(const tiling::Tile& tile, ConstTensorView window_output) {
  const int64_t rows = tile.rows.out_end - tile.rows.out_begin, cols = tile.cols.out_end - tile.cols.out_begin;
  TESSERA_CHECK(window_output.shape[1] == bands_ && tile.rows.out_begin >= rows_.begin() &&
                    tile.rows.out_end <= rows_.end(),
                Error::Internal, "a tile's output rows [{}, {}) are outside the band [{}, {})", tile.rows.out_begin,
                tile.rows.out_end, rows_.begin(), rows_.end());
  for (int64_t y = 0; y < rows; ++y) {
    uint8_t* row = rows_.row(tile.rows.out_begin + y);
    if (bytes_per_sample_ == 2)
      window_to_pixels<uint16_t>(window_output, tile.rows.crop_begin + y, tile.cols.crop_begin, cols, bands_, scale_,
                                 row, tile.cols.out_begin);
    else
      window_to_pixels<uint8_t>(window_output, tile.rows.crop_begin + y, tile.cols.crop_begin, cols, bands_, scale_,
                                row, tile.cols.out_begin);
  }
  return {};
}

}  // namespace tessera
