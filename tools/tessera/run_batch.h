// tessera run on image files (run_image.cpp): one image into another, and batches, many image files
// and folders into one output folder, the model loaded once (run_batch.cpp).
#pragma once

#include <memory>
#include <string>

#include "image_files.h"
#include "tessera/image.h"

namespace tessera::cli {

// The library's options for one image of this run (Ctrl-C stops it between tiles).
Result<ImageRunOptions> image_run_options(const RunArgs& args);

// The line printed for each image written.
std::string image_summary(const RunArgs& args, const Model& model, const std::string& input,
                          const std::string& output, const ImageRunInfo& info, double seconds);

// Runs every image of args.paths (files, and folders' image files) into args.out_dir: a bad file is
// reported and skipped, the rest go on; an error at the end when any failed.
Status run_batch(const RunArgs& args, std::shared_ptr<const Model> model);

}  // namespace tessera::cli
