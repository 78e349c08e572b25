// The tile source and sink of a streamed image run. ImageSource decodes the input from top to bottom
// into a RowBuffer holding the current band's window rows (in the file's 8- or 16-bit pixels) and
// converts each tile window to floats. ImageSink converts each finished core back to pixels in a
// RowBuffer of output rows, from which libvips takes the rows to encode.
#pragma once

#include <vips/vips8>

#include <string>

#include "io/pixel_scale.h"
#include "io/row_buffer.h"
#include "tessera/tiling.h"

namespace tessera {

class ImageSource : public tiling::TileSource {
 public:
  ImageSource(vips::VImage pixels, int bits, const PixelScale& scale, std::string path);
  Status prepare_rows(int64_t begin, int64_t end) override;
  Status read(int64_t y0, int64_t x0, TensorView window) override;
  size_t buffer_bytes() const { return rows_.capacity_bytes(); }

 private:
  vips::VImage pixels_;
  int bands_;
  int bytes_per_sample_;
  const PixelScale& scale_;
  RowBuffer rows_;
  std::string path_;
};

class ImageSink : public tiling::TileSink {
 public:
  ImageSink(int64_t width, int bands, int bits, const PixelScale& scale);
  Status prepare_rows(int64_t begin, int64_t end) override;
  Status write(const tiling::Tile& tile, ConstTensorView window_output) override;
  RowBuffer& rows() { return rows_; }

 private:
  int bands_;
  int bytes_per_sample_;
  const PixelScale& scale_;
  RowBuffer rows_;
};

}  // namespace tessera
