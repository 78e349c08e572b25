// The options of image inputs and outputs that run and verify share: --bands, --pad,
// --no-autorotate, and run's --quality.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "tessera/image.h"
#include "tessera/status.h"

namespace tessera::cli {

struct ImageFlags {
  std::string bands;  // "3,2,1"
  std::string pad;    // mirror|edge|zero
  bool no_autorotate = false;

  // The library's options, or an error naming the flag.
  Result<ImageInputOptions> input_options() const;
};

void add_image_input_options(CLI::App* sub, ImageFlags& flags);

}  // namespace tessera::cli
