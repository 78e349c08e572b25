// tessera verify MODEL.tsr IN [--tile N] [--halo N] [--threads T] [--reference MODEL2.tsr] [--bands ...]
// Runs the tiled path and the full image, and exits 0 only when they are bit-identical. IN is a .npy
// tensor or an image file (held whole in memory here, turned, picked, converted and padded as
// `tessera run` does it).

#include <chrono>
#include <cstring>
#include <memory>

#include <fmt/ranges.h>

#include "commands.h"
#include "image_files.h"
#include "tessera/session.h"
#include "tessera/tiling.h"

namespace tessera::cli {

namespace {

struct VerifyArgs {
  std::string model;
  std::string input;
  std::string reference;
  std::string backend = "auto";
  std::string precision = "fp32";
  tiling::TilePlanOptions tiles;
  int threads = 1;
  TilingCheck check_tiling;
  ImageFlags image;
};

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Status run_verify(const VerifyArgs& args) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(args.model));
  TESSERA_RETURN_IF_ERROR(args.check_tiling(*model));
  TESSERA_ASSIGN_OR_RETURN(Tensor input, read_input_tensor(args.input, *model, args.image));

  // The tiled path first, so that its peak memory is not hidden by the full run's.
  auto start = std::chrono::steady_clock::now();
  tiling::TilePlan plan;
  tiling::TiledRunStats stats;
  TESSERA_ASSIGN_OR_RETURN(
      Tensor tiled, tiling::run_tiled(model, input.view(), args.tiles,
                                      {.threads = args.threads, .backend = args.backend, .precision = args.precision},
                                      &plan, &stats));
  double tiled_ms = ms_since(start);
  int64_t tiled_rss = peak_rss_bytes();

  std::shared_ptr<const Model> full_model = model;
  if (above_max(*model, input.shape())) {
    TESSERA_RETURN_IF_ERROR(require(!args.reference.empty(), Error::InvalidArgument,
                  "cannot verify: the image {} is above the model's maximum, so it cannot run whole; give "
                  "--reference MODEL2.tsr, the same model compiled for larger dims",
                  input.shape().to_string()));
    TESSERA_ASSIGN_OR_RETURN(full_model, Model::load(args.reference));
  }
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                           Session::create(full_model, SessionOptions{args.backend, args.threads, args.precision}));
  start = std::chrono::steady_clock::now();
  ConstTensorView view = input.view();
  TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> outputs, session->run({&view, 1}));
  double full_ms = ms_since(start);
  int64_t full_rss = peak_rss_bytes();
  const TensorView& full = outputs[0];
  TESSERA_RETURN_IF_ERROR(require(full.shape == tiled.shape(), Error::Internal, "the tiled output {} and the full output {} differ in shape",
                tiled.shape().to_string(), full.shape.to_string()));

  double max_diff = 0;
  int64_t differing = 0, count = full.shape.element_count();
  for (int64_t i = 0; i < count; ++i) {
    if (std::memcmp(&full.data[i], &tiled.data()[i], sizeof(float)) == 0) continue;
    ++differing;
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(full.data[i] - tiled.data()[i])));
  }
  std::vector<std::string> shapes;
  for (auto [h, w] : plan.window_shapes()) shapes.push_back(fmt::format("{}x{}", w, h));
  std::vector<std::string> dims;
  for (const DimInfo& d : model->info().dims)
    dims.push_back(d.multiple_of > 1 ? fmt::format("{} {}..{} (x{})", d.name, d.min, d.max, d.multiple_of)
                                     : fmt::format("{} {}..{}", d.name, d.min, d.max));
  fmt::print("model        {} ({}), dims {}\n", args.model, human_bytes(model->info().file_bytes), fmt::join(dims, ", "));
  fmt::print("image        {} -> {}, backend {}\n", input.shape().to_string(), full.shape.to_string(),
             backend_text(session->backend(), args.precision));
  fmt::print("tiles        {} of core {}x{}, {} thread(s)\n", plan.tiles.size(), plan.core_width, plan.core_height,
             args.threads);
  fmt::print("tile shapes  {}\n", fmt::join(shapes, ", "));
  fmt::print("tiled        {:.1f} ms, peak RSS {} (arena {} per worker)\n", tiled_ms, human_bytes(tiled_rss),
             human_bytes(stats.session_arena_bytes));
  fmt::print("full         {:.1f} ms, peak RSS {} (arena {})\n", full_ms, human_bytes(full_rss),
             human_bytes(session->arena_bytes()));
  fmt::print("max |tiled - full| = {:g}, differing elements: {} of {}\n", max_diff, differing, count);
  TESSERA_RETURN_IF_ERROR(require(differing == 0, Error::Internal, "the tiled output differs from the full image in {} elements",
                differing));
  fmt::print("result       bit-identical\n");
  return {};
}

}  // namespace

Command add_verify(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* sub = app.add_subcommand("verify", "run tiled and whole, and check that the outputs are bit-identical");
  sub->add_option("model", args->model, "the .tsr file")->required();
  sub->add_option("input", args->input,
                  kWithImages ? "input image file, or .npy (float32 [1, C, H, W])" : ".npy input (float32 [1, C, H, W])")
      ->required();
  add_backend_option(sub, args->backend, args->precision);
  args->check_tiling = add_tiling_options(sub, args->tiles, args->threads);
  add_image_input_options(sub, args->image);
  sub->add_option("--reference", args->reference,
                  "the same model compiled for larger dims, for the full run when the image exceeds the model's max");
  return [args] { return run_verify(*args); };
}

}  // namespace tessera::cli
