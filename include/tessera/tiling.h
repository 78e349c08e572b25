// Exact tiling, the public API (library tessera::runtime).
//
// TilePlan: cuts an image into tiles whose stitched cores equal the full-image output bit for bit.
// Per axis, the output is cut into cores of nearly equal size on an aligned grid (as many as tiles of
// the given size need, none larger than it); each core's
// input window is the core plus the halo, clipped at the image border (never padded), aligned to the
// model's alignment and widened inward when it would be below the model's minimum size.
//
// TiledRunner: runs the tiles of a TilePlan on T workers, each with its own Session (one arena each),
// reading windows from a TileSource and handing cropped cores to a TileSink. Tiles run band by band
// (a band is one row of tiles, top to bottom), so a source can stream the image from top to bottom
// and a sink can write the output as bands finish; within a band, tiles of the same window shape run
// back to back. The result does not depend on the worker count or order.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "tessera/model.h"
#include "tessera/session.h"

namespace tessera::tiling {

// One axis of a tile, in pixels. Input window [window_begin, window_end); global output core
// [out_begin, out_end), found in the window's output at [crop_begin, crop_begin + out_end - out_begin).
struct Span {
  int64_t window_begin = 0;
  int64_t window_end = 0;
  int64_t out_begin = 0;
  int64_t out_end = 0;
  int64_t crop_begin = 0;

  int64_t window() const { return window_end - window_begin; }
};

struct Tile {
  Span rows;
  Span cols;
};

// Above this ratio of pixels run through the model to pixels kept, tiles cost more than they save:
// the CLI warns of a given --tile, and a default budget gives way (TilePlanOptions::memory_is_default).
inline constexpr double kTileOverheadLimit = 4.0;

struct TilePlanOptions {
  int64_t tile = 0;  // core size in input pixels per axis; 0: the largest that fits the model's max
  int64_t halo = 0;  // a minimum halo; it may enlarge the derived halo, never shrink it
  int64_t memory = 0;  // bytes a run may take; 0: no limit (plan_run picks the tile by it when tile is 0)
  // `memory` is a default, not a limit the caller chose: where it fits no tile, or only tiles that
  // run over 4x the image's pixels (a model with a large halo), plan_run takes the least memory
  // that runs at most 1.5x them instead (RunPlan::above_default_memory).
  bool memory_is_default = false;
};

struct TilePlan {
  std::vector<Tile> tiles;  // row-major
  int64_t out_height = 0;
  int64_t out_width = 0;
  int64_t core_height = 0;  // in input pixels: the balanced core (the last one on an axis may be smaller)
  int64_t core_width = 0;

  // The distinct window shapes (height, width), sorted.
  std::vector<std::pair<int64_t, int64_t>> window_shapes() const;
};

// Plans the tiles of an image of `height` x `width` for a loaded model: checks that it is tileable and computes the output size.
Result<TilePlan> plan_tiles(const Model& model, int64_t height, int64_t width, const TilePlanOptions& options);

// Plans tiles on given cores, as a Dask array's chunks cut an image: `row_cores` and `col_cores` are
// the cores' sizes in input pixels, adding up to the image's, each ending on the model's grid but the
// last; one tile per pair, row-major. A core whose output is empty (past the end of an output smaller
// than the input) gets empty spans: there is nothing to run.
Result<TilePlan> plan_tiles_at(const Model& model, int64_t height, int64_t width, std::span<const int64_t> row_cores,
                               std::span<const int64_t> col_cores);

// The smallest --tile the model takes: per axis, its minimum size rounded up to its tiling grid
// (alignment and multiple), the larger of the two. A smaller tile is refused by plan_tiles (its
// windows would be widened to the minimum anyway, running the same pixels many times over).
Result<int64_t> smallest_tile(const Model& model);

// One tile covering the whole image, for any model whose dims accept `height` x `width`.
Result<TilePlan> whole_image_plan(const Model& model, int64_t height, int64_t width);

// How many pixels a tile of `tile` (with at least `halo`) runs per pixel of its core: an interior
// window's area (core plus the model's halos, rounded out to its grid, at least its minimum) over
// the core's. 81 for --tile 5 and a halo of 20 on each side.
struct TileOverhead {
  double ratio = 1;
  int64_t halo_before = 0;  // the larger over height and width
  int64_t halo_after = 0;
  int64_t tile_under_1_5x = 0;  // the smallest tile with a ratio under 1.5; 0 if none up to the largest
};
Result<TileOverhead> tile_overhead(const Model& model, int64_t tile, int64_t halo = 0);

// --- Memory: what a run really touches, for picking a tile by a budget ---------------------------

// The bytes of a session's arena that become resident when it runs at `height` x `width`: the arena
// is reserved at the model's upper bound, but only the pages under the bytes of each value that the
// backend writes at this shape are touched. Makes an fp32 session of `backend` for the answer (its
// weights packed, its implementations chosen): for many shapes, ask one session
// (Session::arena_resident_bytes).
Result<int64_t> arena_resident_bytes(const Model& model, const std::string& backend, int64_t height, int64_t width);

// The resident memory of this process now (/proc/self/statm), or 0 when it cannot be read.
int64_t process_resident_bytes();

// The threads a run takes by default: the CPUs this process may use (its affinity mask, limited by
// its cgroup's CPU quota rounded up), at least 1.
int default_threads();

// What plan_run counts beyond the sessions.
struct RunMemoryOptions {
  std::string backend = "auto";  // the sessions' backend
  std::string precision = "fp32";  // and their precision (SessionOptions::precision)
  int64_t process_bytes = -1;    // resident before the run (model, libraries, input); -1: read it now
  // Bytes per sample of the rows a streamed image run holds (a band of input windows and two bands of
  // output: tessera/image.h; 1 for 8-bit images, 2 for 16-bit); 0: an in-memory run, which holds the
  // whole output as float32.
  int stream_sample_bytes = 0;
};

// A run's plan: whole or tiled, its tiles and workers, and its estimated peak resident memory.
struct RunPlan {
  TilePlan plan;
  bool tiled = false;
  int64_t tile = 0;        // the TilePlanOptions::tile that gives `plan` (0: the model's largest; whole: 0)
  int workers = 1;         // tile workers the run will have (TiledRunner's own split, or 1)
  int workers_option = 0;  // for TiledRunOptions::workers: 0 (the automatic split), or 1 when only one fits
  // process + workers x per_worker_bytes + held rows or output, + 16 MiB and 5% for what is not counted
  int64_t estimated_bytes = 0;
  int64_t per_worker_bytes = 0;  // arena pages touched + backend beyond the arena + window buffer
  // The default budget (TilePlanOptions::memory_is_default) was too small for this model and image:
  // the plan runs whole, or in tiles of at most 1.5x the pixels, above it.
  bool above_default_memory = false;
};

// Decides whole vs tiled and the tile. Whole image when it fits the model's max and options.memory
// (or `no_tile`, which still needs the model's max); otherwise tiles of options.tile when given, or
// the largest tile whose estimated peak for `threads` fits options.memory (0: the largest tile the
// model takes); with one worker when that runs 15% fewer pixels than the automatic split. An error
// when even the smallest tile does not fit: it says the budget that would (unless the budget is a
// default: TilePlanOptions::memory_is_default).
Result<RunPlan> plan_run(const Model& model, int64_t height, int64_t width, const TilePlanOptions& options,
                         bool no_tile, int threads, const RunMemoryOptions& memory = {});


// Gives the input pixels of a window: fills `window` ([N, C, h, w]) from rows [y0, y0+h), cols [x0, x0+w).
class TileSource {
 public:
  virtual ~TileSource() = default;
  // Called before each band with the input rows its windows cover; rows before `begin` are not read again.
  virtual Status prepare_rows(int64_t begin, int64_t end) { return {}; }
  virtual Status read(int64_t y0, int64_t x0, TensorView window) = 0;
};

// Takes a finished tile: `window_output` is the model's output for the tile's window; the sink keeps
// the core. Called from several workers at once, for disjoint cores.
class TileSink {
 public:
  virtual ~TileSink() = default;
  // Called before each band with the output rows its cores cover.
  virtual Status prepare_rows(int64_t begin, int64_t end) { return {}; }
  virtual Status write(const Tile& tile, ConstTensorView window_output) = 0;
};

// In-memory source and sink over whole tensors in NCHW.
class TensorSource : public TileSource {
 public:
  explicit TensorSource(ConstTensorView image) : image_(image) {}
  Status read(int64_t y0, int64_t x0, TensorView window) override;

 private:
  ConstTensorView image_;
};

class TensorSink : public TileSink {
 public:
  explicit TensorSink(TensorView output) : output_(output) {}
  Status write(const Tile& tile, ConstTensorView window_output) override;

 private:
  TensorView output_;
};

// Sessions kept between the runs of a model, e.g. a batch of images: a TiledRunner given a pool takes
// its workers' sessions from it and gives them back when it ends, so the next run skips creating them
// (the arena, and the backend's set-up for the window shapes it has seen). Safe from several threads.
class SessionPool {
 public:
  // A kept session of `model` with `options`, or a new one; kept sessions of other options are dropped.
  Result<std::unique_ptr<Session>> take(std::shared_ptr<const Model> model, const SessionOptions& options);
  void give_back(std::unique_ptr<Session> session, const SessionOptions& options);
  size_t kept() const;

 private:
  struct Kept {
    SessionOptions options;
    std::unique_ptr<Session> session;
  };
  mutable std::mutex mutex_;
  std::vector<Kept> kept_;
};

struct TiledRunOptions {
  int threads = 1;               // threads in all, split between tile workers and their sessions
  // Tile workers, each with threads / workers threads; 0: tile_workers() over at most one thread
  // per CPU this process may use (more would only take turns, each worker holding a session).
  int workers = 0;
  std::string backend = "auto";  // each worker's session's
  std::string precision = "fp32";  // each worker's session's (SessionOptions::precision)
  // Called after each finished tile with the number of tiles done so far, from the worker threads.
  std::function<void(int64_t done)> on_tile;
  const std::atomic<bool>* cancel = nullptr;  // when set and true, the run stops between tiles
  std::shared_ptr<SessionPool> sessions;      // when set, the workers' sessions come from and go back to it
};

struct TiledRunStats {
  int workers = 0;
  int64_t session_arena_bytes = 0;  // per worker
  int64_t window_buffer_bytes = 0;  // per worker
};

class TiledRunner {
 public:
  // `input_shape` is the whole image's [N, C, H, W].
  ~TiledRunner();  // gives the sessions back to options.sessions
  static Result<std::unique_ptr<TiledRunner>> create(std::shared_ptr<const Model> model, TilePlan plan,
                                                     const Shape& input_shape, TiledRunOptions options);

  const TilePlan& plan() const { return plan_; }
  int64_t band_count() const { return static_cast<int64_t>(bands_.size()); }
  // The output rows [begin, end) of a band.
  std::pair<int64_t, int64_t> band_output_rows(int64_t band) const;
  // Runs one band: prepares the source and sink rows, then runs its tiles on the workers.
  Status run_band(int64_t band, TileSource& source, TileSink& sink);
  // Runs every band in order.
  Status run(TileSource& source, TileSink& sink);
  TiledRunStats stats() const;

 private:
  TiledRunner() = default;
  Status run_tile(int worker, const Tile& tile, TileSource& source, TileSink& sink);

  TilePlan plan_;
  Shape input_shape_;
  TiledRunOptions options_;
  std::vector<std::vector<size_t>> bands_;  // tile indices per band, same-shape tiles together
  std::vector<std::unique_ptr<Session>> sessions_;
  SessionOptions session_options_;
  std::vector<Tensor> windows_;
  std::atomic<int64_t> done_{0};
};

// How many tile workers share `threads` threads when a band has `band_tiles` tiles: one per thread,
// unless the band's last round of tiles would leave more than 1/8 of the workers' time idle (3
// tiles on 2 workers): then the most workers that do not, each session working with threads /
// workers threads inside its ops. Measured: bench/thread_split.sh, docs/benchmarks.md.
int tile_workers(int threads, int64_t band_tiles);

// The shape [N, C, H, W] of the stitched output of an image of `input_shape` tiled by `plan`.
Shape tiled_output_shape(const Model& model, const Shape& input_shape, const TilePlan& plan);

// Convenience: runs every tile of `plan`.
Result<TiledRunStats> run_tiles(std::shared_ptr<const Model> model, const TilePlan& plan, const Shape& input_shape,
                                TileSource& source, TileSink& sink, const TiledRunOptions& options);

// Convenience: tiles an in-memory image and returns the stitched output.
Result<Tensor> run_tiled(std::shared_ptr<const Model> model, ConstTensorView image, const TilePlanOptions& tiles,
                         const TiledRunOptions& options, TilePlan* plan_out = nullptr,
                         TiledRunStats* stats_out = nullptr);

}  // namespace tessera::tiling
