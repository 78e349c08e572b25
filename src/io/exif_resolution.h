// The resolution an EXIF block states, scaled with the image: a x2 model doubles the pixels per
// inch, so the photo prints at the same size. libvips reads a file's resolution from its EXIF before
// its own header, so the EXIF must say it too.
#pragma once

#include <cstdint>
#include <string>

namespace tessera {

// `exif` (libvips' "exif-data" blob) with IFD0's XResolution times x_num/x_den and YResolution times
// y_num/y_den, exactly (as rationals); unchanged when it states none or cannot be parsed.
std::string scale_exif_resolution(const std::string& exif, int64_t x_num, int64_t x_den, int64_t y_num,
                                  int64_t y_den);

}  // namespace tessera
