// tessera run MODEL.tsr IN OUT          one image file (streamed through tiles) or one .npy tensor
// tessera run MODEL.tsr IN... -o DIR    a batch: image files and folders of them, into DIR
// -m NAME instead of MODEL.tsr takes a pretrained model by name (tessera models list).
// The .npy tensors run here; image files and batches through image_files.h.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <memory>

#include "commands.h"
#include "image_files.h"
#include "model_zoo.h"
#include "tessera/npy.h"
#include "tessera/session.h"
#include "tessera/tiling.h"

namespace tessera::cli {

namespace {

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
    Result<tiling::RunPlan> planned =
        tiling::plan_run(*model, tensor.shape()[2], tensor.shape()[3], args.tiles, args.no_tile, args.threads,
                         {.backend = args.backend, .precision = args.precision});
    // A tensor the model cannot take whole is the session's to refuse: it names the input and axis.
    if (!planned.ok() && above_max(*model, tensor.shape())) return planned.status();
    if (planned.ok()) run = *planned;
  }
  if (run.tiled) {
    tiling::TilePlan plan;
    tiling::TilePlanOptions tiles = args.tiles;
    tiles.tile = run.tile;
    TESSERA_ASSIGN_OR_RETURN(result, tiling::run_tiled(model, tensor.view(), tiles,
                                                       {.threads = args.threads,
                                                        .workers = run.workers_option,
                                                        .backend = args.backend,
                                                        .precision = args.precision},
                                                       &plan));
    how = fmt::format("{} tiles of {}x{}, {} thread(s)", plan.tiles.size(), plan.core_width, plan.core_height,
                      args.threads);
  } else {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                             Session::create(model, SessionOptions{args.backend, args.threads, args.precision}));
    ConstTensorView view = tensor.view();
    TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> outputs, session->run({&view, 1}));
    TESSERA_RETURN_IF_ERROR(require(outputs.size() == 1, Error::Unsupported,
                                    "the model has {} outputs; tessera run writes models with one output",
                                    outputs.size()));
    result = Tensor(outputs[0].shape);
    std::copy(outputs[0].data, outputs[0].data + outputs[0].shape.element_count(), result.data());
    how = "whole image";
  }
  if (run.above_default_memory) how += above_default_memory(run.estimated_bytes, args.tiles.memory);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  TESSERA_RETURN_IF_ERROR(write_npy(output, result.view()));
  if (!args.quiet)
    fmt::print("{} {} -> {} {} in {:.1f} ms ({}, backend {}, model {})\n", input, tensor.shape().to_string(), output,
               result.shape().to_string(), ms, how, backend_text(args.backend, args.precision),
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
  // One .npy tensor into another here; image files, and batches into -o DIR, in run_image_files.
  const bool tensors =
      args.out_dir.empty() && args.paths.size() == 2 && is_npy_path(args.paths[0]) && is_npy_path(args.paths[1]);
  if (!tensors) return run_image_files(args, model_path);
  TESSERA_RETURN_IF_ERROR(check_tensor_run(args));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(model_path));
  TESSERA_RETURN_IF_ERROR(args.check_tiling(*model));
  return run_tensor(args, model, args.paths[0], args.paths[1]);
}

}  // namespace

Command add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand(
      "run", kWithImages ? "run a compiled model on image files (streamed through tiles) or a float32 .npy tensor"
                         : "run a compiled model on a float32 .npy tensor (built without the images library)");
  sub->add_option("paths", args->paths,
                  kWithImages ? "MODEL.tsr IN OUT: the model (unless -m), the input (an image: PNG, JPEG, TIFF, WebP, "
                                "...; or .npy, float32 [1, C, H, W]) and the output (its extension picks the format; "
                                "libvips options as in out.jpg[Q=95]); with -o DIR, any number of image files and "
                                "folders"
                              : "MODEL.tsr IN.npy OUT.npy: the model (unless -m), the input (float32 [1, C, H, W]) "
                                "and the output")
      ->required();
  add_pretrained_option(sub, args->model_name);
  add_image_output_options(sub, *args);
  add_image_input_options(sub, args->image);
  add_backend_option(sub, args->backend, args->precision);
  args->check_tiling = add_tiling_options(sub, args->tiles, args->threads);
  sub->add_flag("--no-tile", args->no_tile, "one full-image call, even for a large image");
  sub->add_flag("-q,--quiet", args->quiet, "no progress bar and no summary line");
  return [args] { return run_run(*args); };
}

}  // namespace tessera::cli
