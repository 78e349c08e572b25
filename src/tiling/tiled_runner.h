// TiledRunner: runs the tiles of a TilePlan on T workers, each with its own Session (one arena each),
// reading windows from a TileSource and handing cropped cores to a TileSink. Tiles of the same
// window shape run back to back, so per-shape work is paid once per worker; the result does not
// depend on the worker count or order.
#pragma once

#include <memory>

#include "tessera/session.h"
#include "tiling/tile_plan.h"

namespace tessera::tiling {

// Gives the input pixels of a window: fills `window` ([N, C, h, w]) from rows [y0, y0+h), cols [x0, x0+w).
class TileSource {
 public:
  virtual ~TileSource() = default;
  virtual Status read(int64_t y0, int64_t x0, TensorView window) = 0;
};

// Takes a finished tile: `window_output` is the model's output for the tile's window; the sink keeps
// the core. Called from several workers at once, for disjoint cores.
class TileSink {
 public:
  virtual ~TileSink() = default;
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

struct TiledRunStats {
  int workers = 0;
  int64_t session_arena_bytes = 0;  // per worker
  int64_t window_buffer_bytes = 0;  // per worker
};

// Runs every tile of `plan` with `threads` threads in all: one worker per thread, each with its own
// Session made with `session`; when there are fewer tiles than threads, each worker's session gets
// the spare threads. `input_shape` is the whole image's [N, C, H, W].
Result<TiledRunStats> run_tiles(std::shared_ptr<const Model> model, const TilePlan& plan, const Shape& input_shape,
                                TileSource& source, TileSink& sink, int threads, const SessionOptions& session = {});

// Convenience: tiles an in-memory image and returns the stitched output.
Result<Tensor> run_tiled(std::shared_ptr<const Model> model, ConstTensorView image, const TilePlanOptions& options,
                         int threads, TilePlan* plan_out = nullptr, const SessionOptions& session = {});

}  // namespace tessera::tiling
