// tessera run MODEL.tsr IN OUT          one image file (streamed through tiles) or one .npy tensor
// tessera run MODEL.tsr IN... -o DIR    a batch: image files and folders of them, into DIR
// -m NAME instead of MODEL.tsr takes a pretrained model by name (tessera models list).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <memory>

#include "commands.h"
#include "image_options.h"
#include "interrupt.h"
#include "model_zoo.h"
#include "progress.h"
#include "run_batch.h"
#include "tessera/image.h"
#include "tessera/npy.h"
#include "tessera/session.h"
#include "tessera/tiling.h"

namespace tessera::cli {

namespace {

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

Status run_tensor(const RunArgs& args, std::shared_ptr<const Model> model, const std::string& input,
                  const std::string& output) {
  std::error_code ec;
  TESSERA_RETURN_IF_ERROR(require(!std::filesystem::equivalent(input, output, ec), Error::InvalidArgument,
                                  "the output '{}' is the input file; choose another output path", output));
  TESSERA_ASSIGN_OR_RETURN(Tensor tensor, read_npy(input));
  auto start = std::chrono::steady_clock::now();
  std::string how;
  Tensor result;
  // An image tensor is planned as an image file is: whole, or tiles within --memory.
  tiling::RunPlan run;
  if (tensor.shape().rank() == 4) {
    Result<tiling::RunPlan> planned = tiling::plan_run(*model, tensor.shape()[2], tensor.shape()[3], args.tiles,
                                                       args.no_tile, args.threads, {.backend = args.backend});
    // A tensor the model cannot take whole is the session's to refuse: it names the input and axis.
    if (!planned.ok() && above_max(*model, tensor.shape())) return planned.status();
    if (planned.ok()) run = *planned;
  }
  if (run.tiled) {
    tiling::TilePlan plan;
    tiling::TilePlanOptions tiles = args.tiles;
    tiles.tile = run.tile;
    TESSERA_ASSIGN_OR_RETURN(
        result, tiling::run_tiled(model, tensor.view(), tiles,
                                  {.threads = args.threads, .workers = run.workers_option, .backend = args.backend},
                                  &plan));
    how = fmt::format("{} tiles of {}x{}, {} thread(s)", plan.tiles.size(), plan.core_height, plan.core_width,
                      args.threads);
  } else {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                             Session::create(model, SessionOptions{args.backend, args.threads}));
    ConstTensorView view = tensor.view();
    TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> outputs, session->run({&view, 1}));
    TESSERA_RETURN_IF_ERROR(require(outputs.size() == 1, Error::Unsupported,
                                    "the model has {} outputs; tessera run writes models with one output",
                                    outputs.size()));
    result = Tensor(outputs[0].shape);
    std::copy(outputs[0].data, outputs[0].data + outputs[0].shape.element_count(), result.data());
    how = "whole image";
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  TESSERA_RETURN_IF_ERROR(write_npy(output, result.view()));
  if (!args.quiet)
    fmt::print("{} {} -> {} {} in {:.1f} ms ({}, backend {}, model {})\n", input, tensor.shape().to_string(), output,
               result.shape().to_string(), ms, how, args.backend == "auto" ? auto_backend() : args.backend,
               short_hash(model->info()));
  return {};
}

Status run_run(RunArgs& args) {
  TESSERA_RETURN_IF_ERROR(require(!(args.no_tile && args.tiles.tile > 0), Error::InvalidArgument,
                                  "--no-tile and --tile exclude each other"));
  std::string model_path;
  if (args.model_name.empty()) {
    TESSERA_RETURN_IF_ERROR(require(!args.paths.empty(), Error::InvalidArgument,
                                    "give the model (a .tsr file, or -m NAME for a pretrained one), then the input"));
    model_path = args.paths.front();
    args.paths.erase(args.paths.begin());
  } else {
    TESSERA_ASSIGN_OR_RETURN(model_path, pretrained_model_path(args.model_name, args.quiet));
  }
  const bool batch = !args.out_dir.empty();
  if (!batch) {
    TESSERA_RETURN_IF_ERROR(require(args.paths.size() == 2, Error::InvalidArgument,
                                    "{}: give one input and one output file, or inputs and -o DIR for a folder of "
                                    "outputs",
                                    args.paths.empty() ? "no input" : fmt::format("{} paths", args.paths.size())));
    TESSERA_RETURN_IF_ERROR(require(args.format.empty(), Error::InvalidArgument,
                                    "--format picks the type of the files written into -o DIR; for one output, its "
                                    "extension picks it"));
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
  if (is_image_path(args.paths[0])) return run_image(args, model, args.paths[0], args.paths[1]);
  return run_tensor(args, model, args.paths[0], args.paths[1]);
}

}  // namespace

Result<ImageRunOptions> image_run_options(const RunArgs& args) {
  ImageRunOptions options;
  TESSERA_ASSIGN_OR_RETURN(options.input, args.image.input_options());
  TESSERA_RETURN_IF_ERROR(require(args.quality == -1 || (args.quality >= 1 && args.quality <= 100),
                                  Error::InvalidArgument, "--quality {} is outside 1..100", args.quality));
  options.quality = std::max(args.quality, 0);
  options.tiles = args.tiles;
  options.no_tile = args.no_tile;
  options.run.threads = args.threads;
  options.run.backend = args.backend;
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
  const std::string planned =
      args.tiles.memory > 0 ? fmt::format(" (planned {} of --memory {})", human_bytes(info.estimated_bytes),
                                          human_bytes(args.tiles.memory))
                            : "";
  return fmt::format("{} {}x{} {} -> {} {}x{}: {} tile{} of {}x{}, {} thread(s), backend {}, {:.2f} s, peak memory "
                     "{}{}{}, model {}{}",
                     input, info.in_width, info.in_height, info.in_description, output, info.out_width,
                     info.out_height, info.tiles, info.tiles == 1 ? "" : "s", info.core_width, info.core_height,
                     args.threads, args.backend == "auto" ? auto_backend() : args.backend, seconds,
                     human_bytes(peak_rss_bytes()), planned, info.bigtiff ? " (BigTIFF)" : "", short_hash(model.info()),
                     notes);
}

Command add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand(
      "run", "run a compiled model on image files (streamed through tiles) or a float32 .npy tensor");
  sub->add_option("paths", args->paths,
                  "MODEL.tsr IN OUT: the model (unless -m), the input (an image: PNG, JPEG, TIFF, WebP, ...; or .npy, "
                  "float32 [1, C, H, W]) and the output (its extension picks the format; libvips options as in "
                  "out.jpg[Q=95]); with -o DIR, any number of image files and folders")
      ->required();
  sub->add_option("-m,--model", args->model_name,
                  "a pretrained model by name (tessera models list), fetched and compiled on first use");
  sub->add_option("-o,--output-dir", args->out_dir,
                  "a folder for the outputs of a batch: each input's name, with --format's extension");
  sub->add_option("--format", args->format, "the outputs' type in a batch: png, jpg, webp, tif, ... (default: each input's)");
  sub->add_option("--quality", args->quality, "1..100, for JPEG, WebP and the other writers with a quality");
  sub->add_flag("--recursive", args->recursive, "in a batch, the images in the folders' subfolders too");
  sub->add_flag("--overwrite", args->overwrite, "in a batch, replace outputs that exist (default: keep them)");
  add_image_input_options(sub, args->image);
  add_backend_option(sub, args->backend);
  args->check_tiling = add_tiling_options(sub, args->tiles, args->threads);
  sub->add_flag("--no-tile", args->no_tile, "one full-image call, even for a large image");
  sub->add_flag("-q,--quiet", args->quiet, "no progress bar and no summary line");
  return [args] { return run_run(*args); };
}

}  // namespace tessera::cli
