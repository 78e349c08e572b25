// The image side of run and verify in a command built without the images library
// (-DTESSERA_BUILD_IMAGES=OFF, image_files.h): it runs .npy tensors. Image files, -o DIR and the image
// options are refused, naming what is missing and the fix; the options keep their names, hidden from
// --help, so that giving one says why rather than "not expected".
#include <fmt/format.h>

#include "image_files.h"
#include "tessera/npy.h"

namespace tessera::cli {

namespace {

constexpr const char* kWithoutImages =
    "this tessera is built without the images library (-DTESSERA_BUILD_IMAGES=OFF) and runs float32 .npy tensors only";

// The first image option given, by the value it set (one given at its default changes nothing), or "".
std::string image_option_given(const ImageFlags& flags) {
  if (!flags.bands.empty()) return "--bands";
  if (!flags.pad.empty()) return "--pad";
  if (flags.no_autorotate) return "--no-autorotate";
  return "";
}

std::string run_option_given(const RunArgs& args) {
  if (!args.format.empty()) return "--format";
  if (args.quality != -1) return "--quality";
  if (args.recursive) return "--recursive";
  if (args.overwrite) return "--overwrite";
  return image_option_given(args.image);
}

Status refuse_option(const std::string& option) {
  return require(option.empty(), Error::Unsupported, "{} is for image files: {}; leave {} out, or use a build with images",
                 option, kWithoutImages, option);
}

Status image_input_refused(const std::string& path) {
  return Status(Error::Unsupported,
                fmt::format("'{}' is not a .npy tensor: {}; convert the image to a float32 .npy [1, C, H, W] in "
                            "the model's pixel range (tessera info shows it), or use a build with images",
                            path, kWithoutImages));
}

}  // namespace

void add_image_input_options(CLI::App* sub, ImageFlags& flags) {
  sub->add_option("--bands", flags.bands)->group("");
  sub->add_option("--pad", flags.pad)->group("");
  sub->add_flag("--no-autorotate", flags.no_autorotate)->group("");
}

void add_image_output_options(CLI::App* sub, RunArgs& args) {
  sub->add_option("-o,--output-dir", args.out_dir)->group("");
  sub->add_option("--format", args.format)->group("");
  sub->add_option("--quality", args.quality)->group("");
  sub->add_flag("--recursive", args.recursive)->group("");
  sub->add_flag("--overwrite", args.overwrite)->group("");
}

Status check_tensor_run(const RunArgs& args) { return refuse_option(run_option_given(args)); }

Status run_image_files(const RunArgs& args, const std::string& model_path) {
  TESSERA_RETURN_IF_ERROR(require(args.out_dir.empty(), Error::Unsupported,
                                  "-o runs folders of image files: {}; run one tensor at a time (tessera run "
                                  "MODEL.tsr IN.npy OUT.npy), or use a build with images",
                                  kWithoutImages));
  TESSERA_RETURN_IF_ERROR(refuse_option(run_option_given(args)));
  TESSERA_RETURN_IF_ERROR(require(args.paths.size() == 2, Error::InvalidArgument,
                                  "{}: give one input and one output, float32 .npy tensors",
                                  args.paths.empty() ? "no input"
                                                     : fmt::format("{} path{}", args.paths.size(),
                                                                   args.paths.size() == 1 ? "" : "s")));
  // cmd_run.cpp runs two .npy tensors itself: one of these is not one.
  if (!is_npy_path(args.paths[0])) return image_input_refused(args.paths[0]);
  return Status(Error::Unsupported,
                fmt::format("the output '{}' is not a .npy tensor: {}; give OUT.npy, or use a build with images",
                            args.paths[1], kWithoutImages));
}

Result<Tensor> read_input_tensor(const std::string& path, const Model& model, const ImageFlags& flags) {
  TESSERA_RETURN_IF_ERROR(refuse_option(image_option_given(flags)));
  if (!is_npy_path(path)) return image_input_refused(path);
  return read_npy(path);
}

}  // namespace tessera::cli
