// plan_run: whole image or tiles, and which tile, from the model's range and a memory budget.
#include <algorithm>
#include <numeric>

#include "core/check.h"
#include "core/cpus.h"
#include "runtime/model_data.h"
#include "tessera/session.h"
#include "tessera/tiling.h"
#include "tiling/tile_plan.h"

namespace tessera::tiling {

namespace {

std::string mib(int64_t bytes) { return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / (1 << 20)); }

// What a run holds beyond what the estimate counts (libvips's and the kernels' own allocations,
// thread stacks, the allocator's slack): measured peaks of streamed ESRGAN-slim x2 runs were 13 to 26
// MiB above the count, more with larger windows (docs/benchmarks.md, "Default tile by memory").
constexpr int64_t kUncounted = int64_t{16} << 20;

// What every candidate plan is measured with.
struct Estimator {
  const ModelData& model;
  std::unique_ptr<Session> probe;  // a session that never runs: its arena is reserved, not touched
  int64_t backend_bytes = 0;       // a session's, beyond its arena
  int64_t process_bytes = 0;
  int64_t in_channels = 0, out_channels = 0;
  int64_t width = 0;
  int stream_sample_bytes = 0;

  // Fills the estimate of `run` (its plan and workers set).
  Status estimate(RunPlan& run) const {
    int64_t window_h = 0, window_w = 0, out_rows = 0;
    for (const Tile& t : run.plan.tiles) {
      window_h = std::max(window_h, t.rows.window());
      window_w = std::max(window_w, t.cols.window());
      out_rows = std::max(out_rows, t.rows.out_end - t.rows.out_begin);
    }
    TESSERA_ASSIGN_OR_RETURN(const int64_t arena, probe->arena_resident_bytes(window_h, window_w));
    const int64_t window_buffer = in_channels * window_h * window_w * static_cast<int64_t>(sizeof(float));
    run.per_worker_bytes = arena + backend_bytes + window_buffer;
    const int64_t held =
        stream_sample_bytes > 0
            ? (window_h * width * in_channels + 2 * out_rows * run.plan.out_width * out_channels) * stream_sample_bytes
            : run.plan.out_height * run.plan.out_width * out_channels * static_cast<int64_t>(sizeof(float));
    const int64_t counted = process_bytes + run.workers * run.per_worker_bytes + held;
    run.estimated_bytes = counted + kUncounted + counted / 20;
    return {};
  }
};

// The workers a TiledRunner makes for `plan` (TiledRunner::create): its automatic split over at
// most one thread per usable CPU, or the given count; never more than a band's tiles.
int runner_workers(const TilePlan& plan, int threads, int workers_option) {
  const int64_t band = std::count_if(plan.tiles.begin(), plan.tiles.end(), [&](const Tile& t) {
    return t.rows.out_begin == plan.tiles.front().rows.out_begin;
  });
  const int split = workers_option > 0 ? workers_option : tile_workers(std::min(threads, usable_cpus()), band);
  return static_cast<int>(std::min<int64_t>(split, std::max<int64_t>(band, 1)));
}

// The pixels a plan runs through the model, for choosing between two plans that fit.
int64_t window_pixels(const TilePlan& plan) {
  int64_t sum = 0;
  for (const Tile& t : plan.tiles) sum += t.rows.window() * t.cols.window();
  return sum;
}

// The pixels a plan runs through the model per pixel of the image.
double recompute_ratio(const TilePlan& plan, int64_t height, int64_t width) {
  return static_cast<double>(window_pixels(plan)) / static_cast<double>(height * width);
}

Result<RunPlan> tiled_plan(const Model& model, const Estimator& est, int64_t height, int64_t width,
                           const TilePlanOptions& options, int threads, int workers_option) {
  RunPlan run;
  TESSERA_ASSIGN_OR_RETURN(run.plan, plan_tiles(model, height, width, options));
  run.tiled = true;
  run.tile = options.tile;
  run.workers_option = workers_option;
  run.workers = runner_workers(run.plan, threads, workers_option);
  TESSERA_RETURN_IF_ERROR(est.estimate(run));
  return run;
}

// The largest tile whose plan fits options.memory with the given workers option; no tiles when none does.
Result<RunPlan> largest_fitting(const Model& model, const Estimator& est, int64_t height, int64_t width,
                                               const TilePlanOptions& options, int threads, int workers_option) {
  TilePlanOptions o = options;
  o.tile = 0;  // the model's largest first: it may be larger on one axis than a tile both axes take
  TESSERA_ASSIGN_OR_RETURN(RunPlan run, tiled_plan(model, est, height, width, o, threads, workers_option));
  if (run.estimated_bytes <= options.memory) return run;
  TESSERA_ASSIGN_OR_RETURN(const int64_t smallest, smallest_tile(model));
  int64_t step = 1;
  TESSERA_ASSIGN_OR_RETURN(const int64_t largest, largest_tile(model, options.halo, &step));
  int64_t previous_cores = -1;
  for (int64_t c = largest; c >= smallest; c -= step) {
    // Balanced cores change only when the number of tiles does.
    const int64_t cores = ((height + c - 1) / c) * 100003 + (width + c - 1) / c;
    if (cores == previous_cores) continue;
    previous_cores = cores;
    o.tile = c;
    TESSERA_ASSIGN_OR_RETURN(run, tiled_plan(model, est, height, width, o, threads, workers_option));
    if (run.estimated_bytes <= options.memory) return run;
  }
  return RunPlan();
}

// The plan with the least memory among those that run at most 1.5x the image's pixels: tiles of the
// smallest such tile on one worker, else the whole image, else the model's largest tile.
Result<RunPlan> least_within_1_5x(const Model& model, const Estimator& est, int64_t height, int64_t width,
                                  const TilePlanOptions& options, int threads) {
  Result<TilePlan> whole = whole_image_plan(model, height, width);
  TESSERA_ASSIGN_OR_RETURN(const int64_t smallest, smallest_tile(model));
  TESSERA_ASSIGN_OR_RETURN(const TileOverhead overhead, tile_overhead(model, smallest, options.halo));
  RunPlan run;
  if (overhead.tile_under_1_5x > 0 || !whole.ok()) {
    TilePlanOptions o = options;
    o.tile = overhead.tile_under_1_5x;  // 0: the model's largest
    TESSERA_ASSIGN_OR_RETURN(run, tiled_plan(model, est, height, width, o, threads, 1));
  } else {
    run.plan = std::move(*whole);
    TESSERA_RETURN_IF_ERROR(est.estimate(run));
  }
  run.above_default_memory = run.estimated_bytes > options.memory;
  return run;
}

}  // namespace

int default_threads() { return usable_cpus(); }

Result<RunPlan> plan_run(const Model& model, int64_t height, int64_t width, const TilePlanOptions& options,
                         bool no_tile, int threads, const RunMemoryOptions& memory) {
  TESSERA_CHECK(threads >= 1, Error::InvalidArgument, "--threads must be at least 1, got {}", threads);
  TESSERA_CHECK(options.memory >= 0, Error::InvalidArgument, "--memory must not be negative");
  TESSERA_CHECK(!(no_tile && options.tile > 0), Error::InvalidArgument, "--no-tile and --tile exclude each other");
  const ModelData& d = model.data();
  const ir::Graph& g = d.graph;
  const std::string backend = memory.backend == "auto" ? auto_backend(memory.precision) : memory.backend;

  Estimator est{d};
  // Read before the probe exists: what it holds is counted per worker (backend_bytes).
  est.process_bytes = memory.process_bytes >= 0 ? memory.process_bytes : process_resident_bytes();
  // What a session's backend holds beyond the arena (packed weights, its buffers), and which of the
  // arena's pages a run at a window shape writes.
  std::shared_ptr<const Model> borrowed(&model, [](const Model*) {});
  TESSERA_ASSIGN_OR_RETURN(est.probe, Session::create(borrowed, SessionOptions{backend, 1, memory.precision}));
  est.backend_bytes = est.probe->backend_bytes();
  est.in_channels = d.upper_shapes[g.inputs[0]][1];
  est.out_channels = d.upper_shapes[g.outputs[0]][1];
  est.width = width;
  est.stream_sample_bytes = memory.stream_sample_bytes;

  Result<TilePlan> whole = whole_image_plan(model, height, width);
  const bool tileable = model.info().tiling.analysed && model.info().tiling.tileable;
  if (whole.ok() && (no_tile || options.tile == 0 || !tileable)) {
    RunPlan run;
    run.plan = std::move(*whole);
    TESSERA_RETURN_IF_ERROR(est.estimate(run));
    if (no_tile || !tileable || options.memory == 0 || run.estimated_bytes <= options.memory) return run;
  } else if (no_tile || !tileable) {
    return whole.status();
  }
  if (options.tile > 0 || options.memory == 0) return tiled_plan(model, est, height, width, options, threads, 0);

  // The largest tile that fits with the automatic split of workers, and with one worker (each
  // worker holds a session). The split unless it runs over 15% more pixels: one session of all the
  // threads is up to 15% slower on a quiet machine and far slower under load (docs/benchmarks.md,
  // "Thread split of tiled runs").
  TESSERA_ASSIGN_OR_RETURN(RunPlan split, largest_fitting(model, est, height, width, options, threads, 0));
  TESSERA_ASSIGN_OR_RETURN(RunPlan single, largest_fitting(model, est, height, width, options, threads, 1));
  const bool split_fits = !split.plan.tiles.empty(), single_fits = !single.plan.tiles.empty();
  RunPlan* fitting = nullptr;
  if (split_fits && (!single_fits || split.workers == 1 || 100 * window_pixels(split.plan) <= 115 * window_pixels(single.plan)))
    fitting = &split;
  else if (single_fits)
    fitting = &single;
  // A default budget gives way to a model whose halo it cannot afford: tiles of over 4x the
  // image's pixels take hours where the whole image takes seconds (ESRGAN-thick: halo 154).
  if (options.memory_is_default && (!fitting || recompute_ratio(fitting->plan, height, width) > kTileOverheadLimit))
    return least_within_1_5x(model, est, height, width, options, threads);
  if (fitting) return std::move(*fitting);

  // Nothing fits: say what would.
  TESSERA_ASSIGN_OR_RETURN(const int64_t smallest, smallest_tile(model));
  TilePlanOptions o = options;
  o.tile = smallest;
  TESSERA_ASSIGN_OR_RETURN(RunPlan least, tiled_plan(model, est, height, width, o, threads, 1));
  const std::string problem = fmt::format(
      "--memory {} is below the {} that the smallest tile ({}) needs on one worker for a {}x{} image ({} of it this "
      "process holds already)",
      mib(options.memory), mib(least.estimated_bytes), smallest, width, height, mib(est.process_bytes));
  const std::string smallest_fix = fmt::format("--memory {} or more", mib(least.estimated_bytes + (int64_t{1} << 20)));
  if (recompute_ratio(least.plan, height, width) <= kTileOverheadLimit)
    return Status(Error::InvalidArgument, fmt::format("{}; give {}", problem, smallest_fix));
  // Where the smallest tile would run over kTileOverheadLimit times the pixels, first the budget that keeps 1.5x.
  TESSERA_ASSIGN_OR_RETURN(const RunPlan run, least_within_1_5x(model, est, height, width, options, threads));
  return Status(
      Error::InvalidArgument,
      fmt::format("{}; give --memory {} to run it {}, or {} for the smallest tiles, which run {:.0f}x the image's "
                  "pixels through the model",
                  problem, mib(run.estimated_bytes + (int64_t{1} << 20)),
                  run.tiled ? fmt::format("in tiles of {}x{}", run.plan.core_width, run.plan.core_height)
                            : std::string("whole"),
                  smallest_fix, recompute_ratio(least.plan, height, width)));
}

}  // namespace tessera::tiling
