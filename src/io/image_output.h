// Where a run's output goes and what it says besides pixels: the file, its writer and save options
// (checked before any pixel is computed), and the input's metadata carried over and made true for the
// new size (EXIF, ICC, XMP, IPTC, resolution, orientation).
#pragma once

#include <vips/vips8>

#include <string>
#include <vector>

#include "io/image_input.h"
#include "tessera/status.h"

namespace tessera {

struct OutputTarget {
  std::string path;
  std::string options;  // libvips save options from "out.jpg[Q=95]", without the brackets
  std::string saver;    // the writer's nickname, e.g. "jpegsave"
};

// Checks the output path, its writer and its options (`quality` > 0 adds Q=quality) before any work.
Result<OutputTarget> plan_output(const std::string& output, const std::string& input, int quality);

bool saver_is(const OutputTarget& target, const char* name);

// Along one axis, output pixels per input pixel (num / den) and the input offset of output pixel 0.
struct AxisScale {
  int64_t num = 1, den = 1, offset = 0;
  double scale() const { return static_cast<double>(num) / static_cast<double>(den); }
};

// `out` with the input's metadata: EXIF, ICC (only with `same_colours`), XMP and IPTC
// blobs; the resolution multiplied by the model's scale, so the printed size stays the same; the
// orientation 1 when the pixels were turned upright, the file's otherwise. Appends to `kept` what
// the output's writer stores and to `dropped` what it cannot.
vips::VImage with_metadata(vips::VImage out, const InputImage& in, const OutputTarget& target, const AxisScale& x,
                           const AxisScale& y, bool same_colours, std::vector<std::string>& kept,
                           std::vector<std::string>& dropped);

}  // namespace tessera
