// tessera run's arguments, and its batches: many image files and folders into one output folder,
// the model loaded once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "image_options.h"
#include "tessera/image.h"

namespace tessera::cli {

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
  tiling::TilePlanOptions tiles;
  int threads = 1;
  bool no_tile = false;
  bool quiet = false;
  TilingCheck check_tiling;
};

// The library's options for one image of this run (Ctrl-C stops it between tiles).
Result<ImageRunOptions> image_run_options(const RunArgs& args);

// The line printed for each image written.
std::string image_summary(const RunArgs& args, const Model& model, const std::string& input,
                          const std::string& output, const ImageRunInfo& info, double seconds);

// Runs every image of args.paths (files, and folders' image files) into args.out_dir: a bad file is
// reported and skipped, the rest go on; an error at the end when any failed.
Status run_batch(const RunArgs& args, std::shared_ptr<const Model> model);

}  // namespace tessera::cli
