// The image files of run and verify, behind one interface for every build of the command. With the
// images library (TESSERA_BUILD_IMAGES) they are image_options.cpp, run_image.cpp and run_batch.cpp;
// without it, without_images.cpp keeps the image options' names (hidden from --help) and refuses
// them and image files with what is missing and the fix: that command runs .npy tensors.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "commands.h"

namespace tessera::cli {

// Whether the command is built with the images library (CMake defines TESSERA_HAVE_IMAGES 0 or 1), for
// the words of --help; which files are compiled makes the rest of the difference.
constexpr bool kWithImages = TESSERA_HAVE_IMAGES;

// --bands, --pad and --no-autorotate: how run and verify feed an image file to the model.
struct ImageFlags {
  std::string bands;  // "3,2,1"
  std::string pad;    // mirror|edge|zero
  bool no_autorotate = false;
};

struct RunArgs {
  std::vector<std::string> paths;  // [MODEL.tsr] IN OUT, or [MODEL.tsr] IN... with out_dir
  std::string model_name;          // -m: a pretrained model
  std::string out_dir;             // -o: a batch
  std::string format;              // the batch's output extension, without the dot
  bool recursive = false;
  bool overwrite = false;
  int quality = -1;  // -1: the writer's default
  ImageFlags image;
  std::string backend = "auto";
  std::string precision = "fp32";
  tiling::TilePlanOptions tiles;
  int threads = 1;
  bool no_tile = false;
  bool quiet = false;
  TilingCheck check_tiling;
};

// --bands, --pad and --no-autorotate (run and verify).
void add_image_input_options(CLI::App* sub, ImageFlags& flags);

// run's options for image outputs and batches: -o/--output-dir, --format, --quality, --recursive and
// --overwrite.
void add_image_output_options(CLI::App* sub, RunArgs& args);

// Checks the options of a run of one .npy tensor into another (args.paths without the model), before
// the model loads.
Status check_tensor_run(const RunArgs& args);

// tessera run on anything but one .npy tensor into another: an image file into another, or image
// files and folders into -o DIR. Checks the paths and options, then loads the model from `model_path`.
Status run_image_files(const RunArgs& args, const std::string& model_path);

// verify's input: an image file, read whole and converted as run converts it, or a .npy tensor.
Result<Tensor> read_input_tensor(const std::string& path, const Model& model, const ImageFlags& flags);

}  // namespace tessera::cli
