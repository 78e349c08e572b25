// Opens an image file for streaming into a model: decoded sequentially by libvips, turned upright by
// its EXIF orientation, the model's bands picked or its colour converted (gray <-> RGB, CMYK -> RGB),
// its alpha band split off, and padded to a size the model takes when asked.
#pragma once

#include <vips/vips8>

#include <string>
#include <vector>

#include "tessera/image.h"
#include "tessera/model.h"
#include "tessera/status.h"

namespace tessera {

struct InputImage {
  vips::VImage file;    // the file as opened (its metadata), upright when rotated
  vips::VImage pixels;  // the model's channels, 8- or 16-bit unsigned, read top to bottom, padded
  int bits = 8;
  int file_bands = 0;   // as stored, alpha included
  int alpha_band = -1;  // the band the file marks as alpha, or -1
  int64_t width = 0, height = 0;  // upright, before padding
  int64_t takes_width = 0, takes_height = 0;  // the next size the model takes (the padded size)
  bool rotated = false;           // the EXIF orientation was applied (the file was decoded whole)
  bool colours_converted = false;  // the model sees other colours than the file's: converted, or bands picked
  bool gray_through_rgb = false;   // a gray image through an RGB model: the output goes back to gray
  std::vector<int> band_source;    // per model channel, the file band (0-based) it is, or -1 when converted
  std::string description;         // e.g. "RGB 8-bit with alpha"
};

// How many channels the model's image input takes: an error unless that input is [1, C, H, W].
Result<int> image_channels(const Model& model);

// libvips' colour interpretation of `bands` bands of `bits`-bit samples (gray, RGB, or neither).
VipsInterpretation interpretation_of(int bands, int bits);

// Every failure names the file, and the option that would help.
Result<InputImage> open_input_image(const std::string& path, const Model& model, const ImageInputOptions& options);

// The file's alpha band, upright, decoded again on its own (sequential decoders cannot serve two readers).
Result<vips::VImage> open_alpha(const std::string& path, const InputImage& in);

}  // namespace tessera
