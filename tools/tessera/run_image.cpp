// tessera run MODEL.tsr IN OUT on image files, streamed through tiles; with -o DIR, a batch
// (run_batch.cpp). Compiled with the images library only (image_files.h).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <memory>

#include "commands.h"
#include "image_options.h"
#include "interrupt.h"
#include "progress.h"
#include "run_batch.h"
#include "tessera/image.h"
#include "tessera/session.h"

namespace tessera::cli {

namespace {

Status check_one_output(const RunArgs& args) {
  return require(args.format.empty(), Error::InvalidArgument,
                 "--format picks the type of the files written into -o DIR; for one output, its extension picks it");
}

Status run_image(const RunArgs& args, std::shared_ptr<const Model> model, const std::string& input,
                 const std::string& output) {
  TESSERA_ASSIGN_OR_RETURN(ImageRunOptions options, image_run_options(args));
  std::unique_ptr<Progress> progress;
  int64_t tiles = 0;
  double megapixels = 0;
  options.run.on_tile = [&](int64_t done) {
    progress->update(megapixels * static_cast<double>(done) / static_cast<double>(tiles),
                     fmt::format("{}/{} tiles", done, tiles), done == tiles);
  };
  auto start = std::chrono::steady_clock::now();
  Result<ImageRunInfo> info = run_image_file(model, input, output, options, [&](const ImageRunInfo& i) {
    tiles = i.tiles;
    megapixels = static_cast<double>(i.in_width * i.in_height) / 1e6;
    progress = std::make_unique<Progress>(megapixels, !args.quiet && isatty(STDERR_FILENO));
  });
  if (progress) progress->finish();
  if (!info.ok() && info.status().code() == Error::Cancelled)
    return Status(Error::Cancelled, "interrupted; nothing was written");
  TESSERA_RETURN_IF_ERROR(info.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.quiet) fmt::print("{}\n", image_summary(args, *model, input, output, *info, seconds));
  return {};
}

}  // namespace

void add_image_output_options(CLI::App* sub, RunArgs& args) {
  sub->add_option("-o,--output-dir", args.out_dir,
                  "a folder for the outputs of a batch: each input's name, with --format's extension");
  sub->add_option("--format", args.format, "the outputs' type in a batch: png, jpg, webp, tif, ... (default: each input's)");
  sub->add_option("--quality", args.quality, "1..100, for JPEG, WebP and the other writers with a quality");
  sub->add_flag("--recursive", args.recursive, "in a batch, the images in the folders' subfolders too");
  sub->add_flag("--overwrite", args.overwrite, "in a batch, replace outputs that exist (default: keep them)");
}

Status check_tensor_run(const RunArgs& args) { return check_one_output(args); }

Status run_image_files(const RunArgs& args, const std::string& model_path) {
  const bool batch = !args.out_dir.empty();
  if (!batch) {
    TESSERA_RETURN_IF_ERROR(require(args.paths.size() == 2, Error::InvalidArgument,
                                    "{}: give one input and one output file, or inputs and -o DIR for a folder of "
                                    "outputs",
                                    args.paths.empty() ? "no input" : fmt::format("{} paths", args.paths.size())));
    TESSERA_RETURN_IF_ERROR(check_one_output(args));
    std::error_code ec;
    // Folders of images are a batch's (-o); a .npy path that is a folder is refused as any non-file is.
    const bool images = is_image_path(args.paths[0]);
    TESSERA_RETURN_IF_ERROR(require(!images || !std::filesystem::is_directory(args.paths[0], ec),
                                    Error::InvalidArgument,
                                    "'{}' is a directory, not a regular file: give -o DIR to run the images in it",
                                    args.paths[0]));
    TESSERA_RETURN_IF_ERROR(require(!images || !std::filesystem::is_directory(args.paths[1], ec),
                                    Error::InvalidArgument,
                                    "the output '{}' is a directory: give a file name, or -o DIR for a folder of "
                                    "outputs",
                                    args.paths[1]));
    TESSERA_RETURN_IF_ERROR(require(is_image_path(args.paths[0]) == is_image_path(args.paths[1]),
                                    Error::InvalidArgument, "'{}' -> '{}': give two image files or two .npy tensors",
                                    args.paths[0], args.paths[1]));
  } else {
    TESSERA_RETURN_IF_ERROR(require(!args.paths.empty(), Error::InvalidArgument,
                                    "-o {}: give the image files or folders to run", args.out_dir));
  }
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(model_path));
  TESSERA_RETURN_IF_ERROR(args.check_tiling(*model));
  if (batch) return run_batch(args, model);
  return run_image(args, model, args.paths[0], args.paths[1]);
}

Result<ImageRunOptions> image_run_options(const RunArgs& args) {
  ImageRunOptions options;
  TESSERA_ASSIGN_OR_RETURN(options.input, image_input_options(args.image));
  TESSERA_RETURN_IF_ERROR(require(args.quality == -1 || (args.quality >= 1 && args.quality <= 100),
                                  Error::InvalidArgument, "--quality {} is outside 1..100", args.quality));
  options.quality = std::max(args.quality, 0);
  options.tiles = args.tiles;
  options.no_tile = args.no_tile;
  options.run.threads = args.threads;
  options.run.backend = args.backend;
  options.run.precision = args.precision;
  options.run.cancel = install_interrupt_handler();
  return options;
}

std::string image_summary(const RunArgs& args, const Model& model, const std::string& input,
                          const std::string& output, const ImageRunInfo& info, double seconds) {
  std::string notes;
  if (info.rotated) notes += ", turned upright";
  if (info.padded_width > 0) notes += fmt::format(", padded to {}x{}", info.padded_width, info.padded_height);
  if (!info.kept.empty()) notes += fmt::format(", kept {}", fmt::join(info.kept, ", "));
  if (!info.dropped.empty()) notes += fmt::format(", dropped {}", fmt::join(info.dropped, ", "));
  const std::string planned = info.above_default_memory ? above_default_memory(info.estimated_bytes, args.tiles.memory)
                              : args.tiles.memory > 0
                                  ? fmt::format(" (planned {} of --memory {})", human_bytes(info.estimated_bytes),
                                                human_bytes(args.tiles.memory))
                                  : "";
  return fmt::format(
      "{} {}x{} {} -> {} {}x{}: {} tile{} of {}x{}, {} thread(s), backend {}, {:.2f} s, peak memory "
      "{}{}{}, model {}{}",
      input, info.in_width, info.in_height, info.in_description, output, info.out_width, info.out_height, info.tiles,
      info.tiles == 1 ? "" : "s", info.core_width, info.core_height, args.threads,
      backend_text(args.backend, args.precision), seconds, human_bytes(peak_rss_bytes()), planned,
      info.bigtiff ? " (BigTIFF)" : "", short_hash(model.info()), notes);
}

}  // namespace tessera::cli
