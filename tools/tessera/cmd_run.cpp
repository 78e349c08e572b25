// tessera run MODEL.tsr IN.npy OUT.npy [--tile N] [--halo N] [--threads T] [--no-tile]
#include <chrono>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "io/npy.h"
#include "runtime/backend.h"
#include "tessera/session.h"
#include "tiling/tiled_runner.h"

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
};

// Tiles when asked to, or when the image is larger than the model's maximum.
bool wants_tiles(const RunArgs& args, const Model& model, const Shape& shape) {
  if (args.no_tile) return false;
  return args.tiles.tile > 0 || above_max(model, shape);
}

Status run_run(const RunArgs& args) {
  TESSERA_CHECK(!(args.no_tile && args.tiles.tile > 0), Error::InvalidArgument, "--no-tile and --tile exclude each other");
  std::error_code ec;
  TESSERA_CHECK(!std::filesystem::equivalent(args.input, args.output, ec), Error::InvalidArgument,
                "the output '{}' is the input file; choose another output path", args.output);
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(args.model));
  TESSERA_ASSIGN_OR_RETURN(Tensor input, read_npy(args.input));
  auto start = std::chrono::steady_clock::now();
  std::string how;
  Tensor result;
  if (wants_tiles(args, *model, input.shape())) {
    tiling::TilePlan plan;
    // Tiles: one worker per thread (the runner gives spare threads to the sessions when tiles are few).
    TESSERA_ASSIGN_OR_RETURN(result, tiling::run_tiled(model, input.view(), args.tiles, args.threads, &plan,
                                                       SessionOptions{args.backend, 1}));
    how = fmt::format("{} tiles of {}x{}, {} thread(s)", plan.tiles.size(), plan.core_height, plan.core_width, args.threads);
  } else {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                             Session::create(model, SessionOptions{args.backend, args.threads}));
    ConstTensorView view = input.view();
    TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> outputs, session->run({&view, 1}));
    TESSERA_CHECK(outputs.size() == 1, Error::Unsupported,
                  "the model has {} outputs; tessera run writes models with one output", outputs.size());
    result = Tensor(outputs[0].shape);
    std::copy(outputs[0].data, outputs[0].data + outputs[0].shape.element_count(), result.data());
    how = "whole image";
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  TESSERA_RETURN_IF_ERROR(write_npy(args.output, result.view()));
  fmt::print("{} {} -> {} {} in {:.1f} ms ({}, backend {})\n", args.input, input.shape().to_string(), args.output,
             result.shape().to_string(), ms, how, args.backend == "auto" ? auto_backend() : args.backend);
  return {};
}

}  // namespace

void add_backend_option(CLI::App* sub, std::string& backend) {
  std::string names = "auto";
  for (const std::string& b : available_backends()) names += "|" + b;
  sub->add_option("--backend", backend, names + " (default auto: " + auto_backend() + " here)");
}

void add_tiling_options(CLI::App* sub, tiling::TilePlanOptions& tiles, int& threads) {
  sub->add_option("--tile", tiles.tile, "core tile size in input pixels (default: the largest the model takes)");
  sub->add_option("--halo", tiles.halo, "a minimum halo in input pixels (enlarges the derived halo, never shrinks it)");
  sub->add_option("--threads", threads,
                  "threads in all (default 1): tiled, one tile worker per thread; whole image, inside the run");
}

Command add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "run a compiled model on a float32 .npy tensor in the model's layout");
  sub->add_option("model", args->model, "the .tsr file")->required();
  sub->add_option("input", args->input, "input .npy (float32, e.g. [1, C, H, W])")->required();
  sub->add_option("output", args->output, "output .npy")->required();
  add_backend_option(sub, args->backend);
  add_tiling_options(sub, args->tiles, args->threads);
  sub->add_flag("--no-tile", args->no_tile, "one full-image call, even for a large image");
  return [args] { return run_run(*args); };
}

}  // namespace tessera::cli
