// The library's options for the image flags that run and verify share (image_files.h).
#pragma once

#include "image_files.h"
#include "tessera/image.h"
#include "tessera/status.h"

namespace tessera::cli {

// --bands, --pad and --no-autorotate as the images library takes them, or an error naming the flag.
Result<ImageInputOptions> image_input_options(const ImageFlags& flags);

}  // namespace tessera::cli
