// Exact tiling, the public API (library tessera::runtime).
//
// TilePlan: cuts an image into tiles whose stitched cores equal the full-image output bit for bit.
// Per axis, the output is cut into cores on an aligned grid (the last core smaller); each core's
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

struct TilePlanOptions {
  int64_t tile = 0;  // core size in input pixels per axis; 0: the largest that fits the model's max
  int64_t halo = 0;  // a minimum halo; it may enlarge the derived halo, never shrink it
};

struct TilePlan {
  std::vector<Tile> tiles;  // row-major
  int64_t out_height = 0;
  int64_t out_width = 0;
  int64_t core_height = 0;  // in input pixels
  int64_t core_width = 0;

  // The distinct window shapes (height, width), sorted.
  std::vector<std::pair<int64_t, int64_t>> window_shapes() const;
};

// Plans the tiles of an image of `height` x `width` for a loaded model: checks that it is tileable and computes the output size.
Result<TilePlan> plan_tiles(const Model& model, int64_t height, int64_t width, const TilePlanOptions& options);

// The smallest --tile the model takes: per axis, its minimum size rounded up to its tiling grid
// (alignment and multiple), the larger of the two. A smaller tile is refused by plan_tiles (its
// windows would be widened to the minimum anyway, running the same pixels many times over).
Result<int64_t> smallest_tile(const Model& model);

// One tile covering the whole image, for any model whose dims accept `height` x `width`.
Result<TilePlan> whole_image_plan(const Model& model, int64_t height, int64_t width);


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

struct TiledRunOptions {
  int threads = 1;               // threads in all, split between tile workers and their sessions
  // Tile workers, each with threads / workers threads; 0: tile_workers() over at most one thread
  // per CPU this process may use (more would only take turns, each worker holding a session).
  int workers = 0;
  std::string backend = "auto";  // each worker's session's
  // Called after each finished tile with the number of tiles done so far, from the worker threads.
  std::function<void(int64_t done)> on_tile;
  const std::atomic<bool>* cancel = nullptr;  // when set and true, the run stops between tiles
};

struct TiledRunStats {
  int workers = 0;
  int64_t session_arena_bytes = 0;  // per worker
  int64_t window_buffer_bytes = 0;  // per worker
};

class TiledRunner {
 public:
  // `input_shape` is the whole image's [N, C, H, W].
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
