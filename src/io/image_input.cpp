#include "io/image_input.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <ranges>

#include "core/check.h"
#include "io/georef.h"
#include "io/image_tiles.h"
#include "io/pixel_scale.h"
#include "io/vips_util.h"
#include "runtime/model_data.h"

namespace tessera {

namespace {

// A padded image this small is decoded whole first: padding reads rows again, which a sequential
// decoder serves only a few dozen rows back.
constexpr int64_t kDecodeWholeBytes = int64_t{64} << 20;

vips::VOption* open_options(VipsAccess access) {
  return vips::VImage::option()
      ->set("access", access)
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

int orientation_of(const vips::VImage& file) {
  if (!has_field(file, VIPS_META_ORIENTATION)) return 1;
  return file.get_int(VIPS_META_ORIENTATION);
}

bool is_tiff(const vips::VImage& file) {
  return has_field(file, VIPS_META_LOADER) &&
         std::string(file.get_string(VIPS_META_LOADER)).starts_with("tiff");
}

// The band the file marks as alpha. TIFF says so in its ExtraSamples tag (an "unspecified" extra band,
// e.g. near infrared, is not alpha), read through GDAL; other formats define alpha by their colour type,
// which libvips reports. Only the last band is taken as alpha.
// A TIFF GDAL cannot open (a codec it lacks, e.g. JPEG 2000) is taken as libvips sees it; without
// GDAL itself, no TIFF is.
Result<int> alpha_band_of(const std::string& path, const vips::VImage& file) {
  if (is_tiff(file)) {
    Result<std::vector<bool>> alpha = tiff_alpha_bands(path);
    if (alpha.ok()) return !alpha->empty() && alpha->back() && file.bands() > 1 ? file.bands() - 1 : -1;
    if (alpha.status().code() == Error::Unsupported) return alpha.status();
  }
  return file.has_alpha() ? file.bands() - 1 : -1;
}

const char* colour_name(int bands) { return bands == 1 ? "gray" : bands == 3 ? "RGB" : nullptr; }

std::string describe(const vips::VImage& file, int bits, int alpha_band) {
  const int colour = file.bands() - (alpha_band >= 0 ? 1 : 0);
  std::string what = file.interpretation() == VIPS_INTERPRETATION_CMYK ? "CMYK"
                     : colour_name(colour) != nullptr ? colour_name(colour)
                                                      : fmt::format("{} bands", colour);
  return fmt::format("{} {}-bit{}", what, bits, alpha_band >= 0 ? " with alpha" : "");
}

// The file's bands (0-based) picked by --bands (1-based), as one image.
Result<vips::VImage> pick_bands(const std::string& path, const vips::VImage& file, const std::vector<int>& bands,
                                const std::string& description, std::vector<int>& source) {
  std::vector<vips::VImage> picked;
  for (int b : bands) {
    TESSERA_CHECK(b >= 1 && b <= file.bands(), Error::InvalidArgument,
                  "--bands {}: '{}' has bands 1..{} ({}); give band numbers from 1 to {}", fmt::join(bands, ","),
                  path, file.bands(), description, file.bands());
    picked.push_back(file.extract_band(b - 1));
    source.push_back(b - 1);
  }
  vips::VImage out = picked.size() == 1 ? picked[0] : vips::VImage::bandjoin(picked);
  return out;
}

// The next size the model takes at or above `size` along one axis.
int64_t size_model_takes(const ir::Graph& g, const ir::InputDim& axis, int64_t size) {
  if (axis.dynamic < 0) return std::max(size, axis.fixed);
  const ir::DynamicDim& d = g.dims[axis.dynamic];
  const int64_t at_least = std::max(size, d.min);
  return (at_least + d.multiple_of - 1) / d.multiple_of * d.multiple_of;
}

VipsExtend extend_of(Padding pad) {
  switch (pad) {
    case Padding::Mirror: return VIPS_EXTEND_MIRROR;
    case Padding::Edge: return VIPS_EXTEND_COPY;
    case Padding::Zero:
    case Padding::None: break;
  }
  return VIPS_EXTEND_BLACK;
}

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

Result<InputImage> open_input_image(const std::string& path, const Model& model, const ImageInputOptions& options) {
  TESSERA_RETURN_IF_ERROR(ensure_vips());
  TESSERA_RETURN_IF_ERROR(check_readable(path));
  TESSERA_ASSIGN_OR_RETURN(const int channels, image_channels(model));
  try {
    InputImage in;
    in.file = vips::VImage::new_from_file(path.c_str(), open_options(VIPS_ACCESS_SEQUENTIAL));
    const VipsBandFormat format = in.file.format();
    TESSERA_CHECK(format == VIPS_FORMAT_UCHAR || format == VIPS_FORMAT_USHORT, Error::InvalidImage,
                  "'{}' holds {} pixels; tessera reads 8- and 16-bit unsigned images (tensors go in .npy files)",
                  path, vips_enum_nick(VIPS_TYPE_BAND_FORMAT, format));
    in.bits = format == VIPS_FORMAT_USHORT ? 16 : 8;
    in.file_bands = in.file.bands();
    TESSERA_ASSIGN_OR_RETURN(in.alpha_band, alpha_band_of(path, in.file));
    const int orientation = orientation_of(in.file);
    if (options.autorotate && orientation >= 2 && orientation <= 8) {
      // Turning needs the whole image: libvips decodes it into memory (or a temporary file when large).
      in.file = vips::VImage::new_from_file(path.c_str(), open_options(VIPS_ACCESS_RANDOM)).autorot();
      in.rotated = true;
    }
    in.description = describe(in.file, in.bits, in.alpha_band);

    vips::VImage colour;
    if (!options.bands.empty()) {
      TESSERA_ASSIGN_OR_RETURN(colour, pick_bands(path, in.file, options.bands, in.description, in.band_source));
      in.description += fmt::format(", bands {}", fmt::join(options.bands, ","));
      const bool alpha_picked = std::ranges::find(options.bands, in.alpha_band + 1) != options.bands.end();
      if (alpha_picked) in.alpha_band = -1;  // the model takes it: it is not carried beside the output
      // Other bands than the file's colour bands in their order: its colour profile no longer fits.
      const int colour_bands = in.file.bands() - (in.alpha_band >= 0 ? 1 : 0);
      for (int i = 0; i < static_cast<int>(options.bands.size()); ++i)
        if (options.bands[i] != i + 1 || static_cast<int>(options.bands.size()) != colour_bands)
          in.colours_converted = true;
      // Picked bands are plain samples; one or three of them convert like gray or RGB.
      colour = colour.copy(vips::VImage::option()->set("interpretation", interpretation_of(colour.bands(), in.bits)));
    } else {
      const int colour_bands = in.file.bands() - (in.alpha_band >= 0 ? 1 : 0);
      colour = in.alpha_band >= 0 ? in.file.extract_band(0, vips::VImage::option()->set("n", colour_bands)) : in.file;
      for (int b = 0; b < colour_bands; ++b) in.band_source.push_back(b);
    }
    const bool cmyk = colour.interpretation() == VIPS_INTERPRETATION_CMYK && colour.bands() == 4;
    if (colour.bands() != channels) {
      const bool convertible =
          (channels == 1 || channels == 3) && (colour.bands() == 1 || colour.bands() == 3 || (cmyk && channels == 3));
      TESSERA_CHECK(convertible || options.bands.empty(), Error::InvalidArgument,
                    "--bands {} picks {} of the bands of '{}' and the model takes {} channels; pick {}{}",
                    fmt::join(options.bands, ","), options.bands.size(), path, channels, channels,
                    channels == 3 ? " (or 1, as gray)" : "");
      TESSERA_CHECK(convertible, Error::InvalidImage,
                    "the model takes {} channels and '{}' has {} band{} ({}-bit, {}); pick {} of its bands with "
                    "--bands (e.g. --bands {}), or use a model with {} channels",
                    channels, path, in.file.bands(), in.file.bands() == 1 ? "" : "s", in.bits,
                    in.alpha_band >= 0 ? fmt::format("band {} is alpha", in.alpha_band + 1) : "none is alpha", channels,
                    fmt::join(std::views::iota(1, std::min(channels, in.file.bands()) + 1), ","), colour.bands());
      in.gray_through_rgb = colour.bands() == 1 && channels == 3;
      colour = colour.colourspace(interpretation_of(channels, in.bits)).cast(format);
      in.colours_converted = true;
      in.band_source.assign(channels, -1);
    }
    in.width = colour.width();
    in.height = colour.height();

    const ir::Graph& g = model.data().graph;
    const auto& axes = g.values[g.inputs[0]].input_dims;
    const int64_t padded_height = in.takes_height = size_model_takes(g, axes[2], in.height);
    const int64_t padded_width = in.takes_width = size_model_takes(g, axes[3], in.width);
    if (options.pad != Padding::None && (padded_height != in.height || padded_width != in.width)) {
      if (!in.rotated && padded_height * padded_width * channels * (in.bits / 8) <= kDecodeWholeBytes)
        colour = colour.copy_memory();
      colour = colour.embed(0, 0, static_cast<int>(padded_width), static_cast<int>(padded_height),
                            vips::VImage::option()->set("extend", extend_of(options.pad)));
    }
    in.pixels = colour;
    return in;
  } catch (const vips::VError& e) {
    return Status(Error::InvalidImage, fmt::format("cannot read '{}': {}", path, one_line(e.what())));
  }
}

Result<vips::VImage> open_alpha(const std::string& path, const InputImage& in) {
  try {
    if (in.rotated) return in.file.extract_band(in.alpha_band);  // decoded whole already
    vips::VImage file = vips::VImage::new_from_file(path.c_str(), open_options(VIPS_ACCESS_SEQUENTIAL));
    return file.extract_band(in.alpha_band);
  } catch (const vips::VError& e) {
    return Status(Error::InvalidImage, fmt::format("cannot read '{}': {}", path, one_line(e.what())));
  }
}

Result<Tensor> read_image_tensor(const std::string& path, const Model& model, const ImageInputOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(InputImage in, open_input_image(path, model, options));
  const int channels = in.pixels.bands();
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
