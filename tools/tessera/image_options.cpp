#include "image_options.h"

#include <charconv>

#include "commands.h"
#include "tessera/npy.h"

namespace tessera::cli {

namespace {

// "3,2,1" -> {3, 2, 1}: band numbers from 1 (one may repeat: 1,1,1 feeds band 1 as R, G and B).
Result<std::vector<int>> parse_bands(const std::string& text) {
  std::vector<int> bands;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    int band = 0;
    const char* first = text.data() + start;
    const char* last = text.data() + end;
    auto [ptr, ec] = std::from_chars(first, last, band);
    TESSERA_RETURN_IF_ERROR(require(ec == std::errc() && ptr == last && band >= 1, Error::InvalidArgument,
                                    "--bands '{}': give band numbers from 1, separated by commas, e.g. --bands 3,2,1",
                                    text));
    bands.push_back(band);
    start = end + 1;
  }
  return bands;
}

}  // namespace

Result<ImageInputOptions> image_input_options(const ImageFlags& flags) {
  ImageInputOptions options;
  if (!flags.bands.empty()) {
    TESSERA_ASSIGN_OR_RETURN(options.bands, parse_bands(flags.bands));
  }
  options.autorotate = !flags.no_autorotate;
  if (flags.pad == "mirror") options.pad = Padding::Mirror;
  else if (flags.pad == "edge") options.pad = Padding::Edge;
  else if (flags.pad == "zero") options.pad = Padding::Zero;
  else
    TESSERA_RETURN_IF_ERROR(require(flags.pad.empty(), Error::InvalidArgument,
                                    "--pad '{}': give mirror (the edge pixel, then the image backwards), edge (the "
                                    "edge pixel repeated) or zero",
                                    flags.pad));
  return options;
}

void add_image_input_options(CLI::App* sub, ImageFlags& flags) {
  sub->add_option("--bands", flags.bands,
                  "the image's bands fed to the model, from 1, in order (e.g. 3,2,1; default: its colour bands, gray "
                  "and RGB converted to what the model takes)");
  sub->add_option("--pad", flags.pad,
                  "mirror|edge|zero: pad an image below the model's minimum or off its multiple at the bottom and "
                  "right to a size the model takes, and crop the output back");
  sub->add_flag("--no-autorotate", flags.no_autorotate,
                "keep the pixels as stored instead of turning them upright by their EXIF orientation");
}

Result<Tensor> read_input_tensor(const std::string& path, const Model& model, const ImageFlags& flags) {
  TESSERA_ASSIGN_OR_RETURN(ImageInputOptions options, image_input_options(flags));
  return is_image_path(path) ? read_image_tensor(path, model, options) : read_npy(path);
}

}  // namespace tessera::cli
