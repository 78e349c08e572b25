#include "io/image_input.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "core/check.h"
#include "io/image_tiles.h"
#include "io/pixel_scale.h"
#include "io/vips_util.h"
#include "runtime/model_data.h"
#include "tessera/image.h"

namespace tessera {

namespace {

vips::VOption* sequential() {
  return vips::VImage::option()
      ->set("access", VIPS_ACCESS_SEQUENTIAL)
      ->set("fail_on", VIPS_FAIL_ON_ERROR);  // truncated or corrupt data is an error, not grey pixels
}

Status check_readable(const std::string& path) {
  std::error_code ec;
  TESSERA_CHECK(std::filesystem::exists(path, ec), Error::IoError, "cannot read '{}': no such file", path);
  TESSERA_CHECK(std::filesystem::is_regular_file(path, ec), Error::IoError, "cannot read '{}': not a regular file",
                path);
  TESSERA_CHECK(std::ifstream(path).good(), Error::IoError, "cannot read '{}': permission denied", path);
  TESSERA_CHECK(std::filesystem::file_size(path, ec) > 0, Error::InvalidImage, "'{}' is empty (0 bytes)", path);
  TESSERA_CHECK(vips_foreign_find_load(path.c_str()) != nullptr, Error::InvalidImage,
                "'{}' is not an image libvips can read (PNG, JPEG, TIFF, WebP, ...), or it is damaged; "
                "tensors go in .npy files",
                path);
  vips_error_clear();
  return {};
}

const char* colour_name(int bands) { return bands == 1 ? "gray" : bands == 3 ? "RGB" : "multiband"; }

}  // namespace

Result<int> image_channels(const Model& model) {
  const ir::Graph& g = model.data().graph;
  const auto& axes = g.values[g.inputs[0]].input_dims;
  TESSERA_CHECK(axes.size() == 4 && axes[1].dynamic < 0 && (axes[0].dynamic >= 0 || axes[0].fixed == 1),
                Error::Unsupported, "the model's input is not a [1, C, H, W] image; give it a .npy tensor");
  return static_cast<int>(axes[1].fixed);
}

VipsInterpretation interpretation_of(int bands, int bits) {
  if (bands == 3) return bits == 16 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB;
  if (bands == 1) return bits == 16 ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W;
  return VIPS_INTERPRETATION_MULTIBAND;
}

Result<InputImage> open_input_image(const std::string& path, int channels) {
  TESSERA_RETURN_IF_ERROR(ensure_vips());
  TESSERA_RETURN_IF_ERROR(check_readable(path));
  try {
    vips::VImage file = vips::VImage::new_from_file(path.c_str(), sequential());
    InputImage in;
    in.file_bands = file.bands();
    VipsBandFormat format = file.format();
    TESSERA_CHECK(format == VIPS_FORMAT_UCHAR || format == VIPS_FORMAT_USHORT, Error::InvalidImage,
                  "'{}' holds {} pixels; tessera reads 8- and 16-bit unsigned images (tensors go in .npy files)",
                  path, vips_enum_nick(VIPS_TYPE_BAND_FORMAT, format));
    in.bits = format == VIPS_FORMAT_USHORT ? 16 : 8;
    in.has_alpha = file.has_alpha();
    vips::VImage colour = in.has_alpha ? file.extract_band(0, vips::VImage::option()->set("n", file.bands() - 1)) : file;
    in.description = fmt::format("{} {}-bit{}", colour_name(colour.bands()), in.bits, in.has_alpha ? " with alpha" : "");
    if (colour.bands() != channels) {
      TESSERA_CHECK(channels == 1 || channels == 3, Error::InvalidImage,
                    "the model takes {} channels and '{}' has {} ({}); tessera converts only between gray (1) and "
                    "RGB (3) images; give the pixels as a .npy tensor",
                    channels, path, colour.bands(), in.description);
      colour = colour.colourspace(interpretation_of(channels, in.bits)).cast(format);
    }
    in.pixels = colour;
    return in;
  } catch (const vips::VError& e) {
    return Status(Error::InvalidImage, fmt::format("cannot read '{}': {}", path, one_line(e.what())));
  }
}

Result<vips::VImage> open_alpha(const std::string& path) {
  try {
    vips::VImage file = vips::VImage::new_from_file(path.c_str(), sequential());
    return file.extract_band(file.bands() - 1);
  } catch (const vips::VError& e) {
    return Status(Error::InvalidImage, fmt::format("cannot read '{}': {}", path, one_line(e.what())));
  }
}

Result<Tensor> read_image_tensor(const std::string& path, const Model& model) {
  TESSERA_ASSIGN_OR_RETURN(const int channels, image_channels(model));
  TESSERA_ASSIGN_OR_RETURN(InputImage in, open_input_image(path, channels));
  const int64_t h = in.pixels.height(), w = in.pixels.width();
  // The streamed path's source, asked for every row at once.
  TESSERA_RETURN_IF_ERROR(check_pixel_range(model.info().pixel_min, model.info().pixel_max));
  PixelScale scale(in.bits, model.info().pixel_min, model.info().pixel_max);
  ImageSource source(in.pixels, in.bits, scale, path);
  Tensor t(Shape{1, channels, h, w});
  TESSERA_RETURN_IF_ERROR(source.prepare_rows(0, h));
  TESSERA_RETURN_IF_ERROR(source.read(0, 0, t.view()));
  return t;
}

}  // namespace tessera
