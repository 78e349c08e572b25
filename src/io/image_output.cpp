#include "io/image_output.h"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>

#include "core/check.h"
#include "io/exif_resolution.h"
#include "io/vips_util.h"
#include "tessera/image.h"

namespace tessera {

namespace fs = std::filesystem;

namespace {

// The blobs of metadata carried from input to output, by libvips' field name.
struct MetadataBlob {
  const char* field;
  const char* name;
};
constexpr MetadataBlob kBlobs[] = {
    {VIPS_META_EXIF_NAME, "EXIF"},
    {VIPS_META_ICC_NAME, "ICC"},
    {VIPS_META_XMP_NAME, "XMP"},
    {VIPS_META_IPTC_NAME, "IPTC"},
};

// What each libvips 8.14 writer stores of those (foreign/*save*.c); others store none of them.
bool writer_stores(const std::string& saver, const std::string& blob) {
  if (saver.starts_with("jpeg") || saver.starts_with("heif")) return true;
  if (saver.starts_with("png") || saver.starts_with("webp")) return blob != "IPTC";
  if (saver.starts_with("tiff")) return blob != "EXIF";
  return false;
}

// A libvips operation by nickname, to check save options against before the run.
struct Operation {
  explicit Operation(const char* nickname) : op(vips_operation_new(nickname)) {}
  ~Operation() {
    if (op != nullptr) g_object_unref(op);
  }
  VipsOperation* op;
};

}  // namespace

Result<OutputTarget> plan_output(const std::string& output, const std::string& input, int quality) {
  OutputTarget t;
  char* file = vips_filename_get_filename(output.c_str());
  char* options = vips_filename_get_options(output.c_str());  // "[Q=95]", brackets included
  t.path = file;
  t.options = options;
  g_free(file);
  g_free(options);
  if (t.options.size() >= 2 && t.options.front() == '[' && t.options.back() == ']')
    t.options = t.options.substr(1, t.options.size() - 2);
  fs::path p(t.path);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  TESSERA_CHECK(fs::is_directory(dir, ec), Error::IoError, "cannot write '{}': the directory '{}' does not exist",
                t.path, dir.string());
  TESSERA_CHECK(!fs::equivalent(input, t.path, ec) && fs::absolute(input, ec) != fs::absolute(t.path, ec),
                Error::InvalidArgument, "the output '{}' is the input file; choose another output path", t.path);
  const char* saver = vips_foreign_find_save(t.path.c_str());
  vips_error_clear();
  TESSERA_CHECK(saver != nullptr, Error::InvalidArgument,
                "cannot write '{}': libvips has no writer for '{}' files; use .png, .tif, .jpg or .webp (or .npy for "
                "tensors)",
                t.path, p.extension().string());
  t.saver = vips_nickname_find(g_type_from_name(saver));  // e.g. "jpegsave"

  // The options, tried on the writer now: a typo must not cost the whole run.
  Operation op(t.saver.c_str());
  TESSERA_CHECK(op.op != nullptr, Error::Internal, "libvips cannot make its writer '{}'", t.saver);
  if (!t.options.empty() && vips_object_set_from_string(VIPS_OBJECT(op.op), t.options.c_str()) != 0)
    return Status(Error::InvalidArgument,
                  fmt::format("'{}': the save options [{}] do not suit {} ({}); `vips {}` lists the ones it takes",
                              output, t.options, t.saver, take_vips_error(), t.saver));
  if (quality != 0) {
    TESSERA_CHECK(quality >= 1 && quality <= 100, Error::InvalidArgument, "--quality {} is outside 1..100", quality);
    const std::string listed = "," + t.options;
    TESSERA_CHECK(listed.find(",Q=") == std::string::npos && listed.find(",q=") == std::string::npos,
                  Error::InvalidArgument, "'{}' sets the quality and so does --quality {}; give it once", output,
                  quality);
    TESSERA_CHECK(!saver_is(t, "tiff"), Error::InvalidArgument,
                  "--quality: TIFF is lossless unless compressed as JPEG; write '{}[compression=jpeg,Q={}]' instead",
                  t.path, quality);
    TESSERA_CHECK(saver_is(t, "jpeg") || saver_is(t, "webp") || saver_is(t, "heif") || saver_is(t, "jxl") ||
                      saver_is(t, "jp2k"),
                  Error::InvalidArgument,
                  "--quality: {} files are lossless ({}); leave --quality out, or write .jpg or .webp",
                  p.extension().string(), t.saver);
    t.options += fmt::format("{}Q={}", t.options.empty() ? "" : ",", quality);
  }
  return t;
}

bool image_writer_exists(const std::string& path) {
  if (!ensure_vips().ok()) return false;
  const bool found = vips_foreign_find_save(path.c_str()) != nullptr;
  vips_error_clear();
  return found;
}

bool saver_is(const OutputTarget& target, const char* name) { return target.saver.starts_with(name); }

vips::VImage with_metadata(vips::VImage out, const InputImage& in, const OutputTarget& target, const AxisScale& x,
                           const AxisScale& y, bool same_colours, std::vector<std::string>& kept,
                           std::vector<std::string>& dropped) {
  out = out.copy(vips::VImage::option()
                     ->set("xres", in.file.xres() * x.scale())  // pixels per millimetre
                     ->set("yres", in.file.yres() * y.scale()));
  VipsImage* image = out.get_image();
  for (const MetadataBlob& blob : kBlobs) {
    if (!has_field(in.file, blob.field)) continue;
    // An ICC profile describes the file's colours; after a conversion it would describe others.
    if (std::string(blob.name) == "ICC" && !same_colours) {
      dropped.push_back("ICC (the colours were converted)");
      continue;
    }
    const void* data;
    size_t length;
    if (vips_image_get_blob(in.file.get_image(), blob.field, &data, &length) != 0) {
      vips_error_clear();
      continue;
    }
    if (std::string(blob.name) == "EXIF") {
      const std::string exif = scale_exif_resolution(std::string(static_cast<const char*>(data), length), x.num, x.den,
                                                     y.num, y.den);
      vips_image_set_blob_copy(image, blob.field, exif.data(), exif.size());
    } else {
      vips_image_set_blob_copy(image, blob.field, data, length);
    }
    (writer_stores(target.saver, blob.name) ? kept : dropped).push_back(blob.name);
  }
  if (has_field(in.file, VIPS_META_RESOLUTION_UNIT))
    vips_image_set_string(image, VIPS_META_RESOLUTION_UNIT, in.file.get_string(VIPS_META_RESOLUTION_UNIT));
  // libvips writes this into the EXIF it saves; after autorot the file has none, so upright is said.
  vips_image_set_int(image, VIPS_META_ORIENTATION, has_field(in.file, VIPS_META_ORIENTATION) && !in.rotated
                                                       ? in.file.get_int(VIPS_META_ORIENTATION)
                                                       : 1);
  return out;
}

}  // namespace tessera
