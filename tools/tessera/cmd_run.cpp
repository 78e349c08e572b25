// tessera run MODEL.tsr IN OUT [--tile N] [--halo N] [--threads T] [--no-tile] [--quiet]
// IN and OUT are both image files (streamed through the tiles) or both .npy tensors.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <thread>

#include "commands.h"
#include "interrupt.h"
#include "progress.h"
#include "tessera/image.h"
#include "tessera/npy.h"
#include "tessera/session.h"
#include "tessera/tiling.h"

namespace tessera::cli {

namespace {

struct RunArgs {
  std::string model;
  std::string input;
  std::string output;
  std::string backend = "auto";
  tiling::TilePlanOptions tiles;
  int threads = 1;
  bool no_tile = false;
  bool quiet = false;
  TilingCheck check_tiling;
};

// Tiles when asked to, or when the image is larger than the model's maximum.
bool wants_tiles(const RunArgs& args, const Model& model, const Shape& shape) {
  if (args.no_tile) return false;
  return args.tiles.tile > 0 || above_max(model, shape);
}

Status run_image(const RunArgs& args, std::shared_ptr<const Model> model) {
  ImageRunOptions options;
  options.tiles = args.tiles;
  options.no_tile = args.no_tile;
  options.run.threads = args.threads;
  options.run.backend = args.backend;
  options.run.cancel = install_interrupt_handler();
  std::unique_ptr<Progress> progress;
  options.run.on_tile = [&progress](int64_t done) { progress->tile_done(done); };
  auto start = std::chrono::steady_clock::now();
  Result<ImageRunInfo> info = run_image_file(model, args.input, args.output, options, [&](const ImageRunInfo& i) {
    progress = std::make_unique<Progress>(i.tiles, static_cast<double>(i.in_width * i.in_height) / 1e6,
                                          !args.quiet && isatty(STDERR_FILENO));
  });
  if (progress) progress->finish();
  if (!info.ok() && info.status().code() == Error::Cancelled)
    return Status(Error::Cancelled, "interrupted; nothing was written");
  TESSERA_RETURN_IF_ERROR(info.status());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.quiet)
    fmt::print("{} {}x{} {} -> {} {}x{}: {} tile{} of {}x{}, {} thread(s), backend {}, {:.2f} s, peak memory {}{}, model {}\n",
               args.input, info->in_width, info->in_height, info->in_description, args.output, info->out_width,
               info->out_height, info->tiles, info->tiles == 1 ? "" : "s", info->core_width, info->core_height,
               args.threads, args.backend == "auto" ? auto_backend() : args.backend, seconds,
               human_bytes(peak_rss_bytes()), info->bigtiff ? " (BigTIFF)" : "", short_hash(model->info()));
  return {};
}

Status run_run(const RunArgs& args) {
  TESSERA_RETURN_IF_ERROR(require(!(args.no_tile && args.tiles.tile > 0), Error::InvalidArgument, "--no-tile and --tile exclude each other"));
  TESSERA_RETURN_IF_ERROR(require(is_image_path(args.input) == is_image_path(args.output), Error::InvalidArgument,
                "'{}' -> '{}': give two image files or two .npy tensors", args.input, args.output));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(args.model));
  TESSERA_RETURN_IF_ERROR(args.check_tiling(*model));
  if (is_image_path(args.input)) return run_image(args, model);
  std::error_code ec;
  TESSERA_RETURN_IF_ERROR(require(!std::filesystem::equivalent(args.input, args.output, ec), Error::InvalidArgument,
                "the output '{}' is the input file; choose another output path", args.output));
  TESSERA_ASSIGN_OR_RETURN(Tensor input, read_npy(args.input));
  auto start = std::chrono::steady_clock::now();
  std::string how;
  Tensor result;
  if (wants_tiles(args, *model, input.shape())) {
    tiling::TilePlan plan;
    TESSERA_ASSIGN_OR_RETURN(result, tiling::run_tiled(model, input.view(), args.tiles,
                                                       {.threads = args.threads, .backend = args.backend}, &plan));
    how = fmt::format("{} tiles of {}x{}, {} thread(s)", plan.tiles.size(), plan.core_height, plan.core_width, args.threads);
  } else {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                             Session::create(model, SessionOptions{args.backend, args.threads}));
    ConstTensorView view = input.view();
    TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> outputs, session->run({&view, 1}));
    TESSERA_RETURN_IF_ERROR(require(outputs.size() == 1, Error::Unsupported,
                  "the model has {} outputs; tessera run writes models with one output", outputs.size()));
    result = Tensor(outputs[0].shape);
    std::copy(outputs[0].data, outputs[0].data + outputs[0].shape.element_count(), result.data());
    how = "whole image";
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  TESSERA_RETURN_IF_ERROR(write_npy(args.output, result.view()));
  if (!args.quiet) fmt::print("{} {} -> {} {} in {:.1f} ms ({}, backend {}, model {})\n", args.input, input.shape().to_string(), args.output,
             result.shape().to_string(), ms, how, args.backend == "auto" ? auto_backend() : args.backend,
             short_hash(model->info()));
  return {};
}

}  // namespace

Command add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand(
      "run", "run a compiled model on an image file (streamed through tiles) or a float32 .npy tensor");
  sub->add_option("model", args->model, "the .tsr file")->required();
  sub->add_option("input", args->input, "input image (PNG, JPEG, TIFF, WebP, ...) or .npy (float32 [1, C, H, W])")
      ->required();
  sub->add_option("output", args->output,
                  "output image (its extension picks the format; libvips options as in out.jpg[Q=95]) or .npy")
      ->required();
  add_backend_option(sub, args->backend);
  args->check_tiling = add_tiling_options(sub, args->tiles, args->threads);
  sub->add_flag("--no-tile", args->no_tile, "one full-image call, even for a large image");
  sub->add_flag("-q,--quiet", args->quiet, "no progress bar and no summary line");
  return [args] { return run_run(*args); };
}

}  // namespace tessera::cli
