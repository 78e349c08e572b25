// Opens an image file for streaming into a model: decoded sequentially by libvips, its colour
// converted to the channels the model takes (gray <-> RGB), its alpha channel split off.
#pragma once

#include <vips/vips8>

#include <string>

#include "tessera/model.h"
#include "tessera/status.h"

namespace tessera {

struct InputImage {
  vips::VImage pixels;  // the model's channels, 8- or 16-bit unsigned, read top to bottom
  bool has_alpha = false;
  int bits = 8;
  int file_bands = 0;  // as stored, alpha included
  std::string description;  // e.g. "RGB 8-bit with alpha"
};

// How many channels the model's image input takes: an error unless that input is [1, C, H, W].
Result<int> image_channels(const Model& model);

// libvips' colour interpretation of `bands` bands of `bits`-bit samples (gray, RGB, or neither).
VipsInterpretation interpretation_of(int bands, int bits);

// `channels`: how many the model takes. Every failure names the file.
Result<InputImage> open_input_image(const std::string& path, int channels);

// The file's alpha channel, decoded again on its own (sequential decoders cannot serve two readers).
Result<vips::VImage> open_alpha(const std::string& path);

}  // namespace tessera
