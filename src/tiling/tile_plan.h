// TilePlan: cuts an image into tiles whose stitched cores equal the full-image output bit for bit.
// Per axis, the output is cut into cores on an aligned grid (the last core smaller); each core's
// input window is the core plus the halo, clipped at the image border (never padded), aligned to the
// model's alignment and widened inward when it would be below the model's minimum size.
#pragma once

#include <utility>
#include <vector>

#include "ir/graph.h"
#include "tessera/model.h"

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

// Plans tiles for an image of `height` x `width` whose full output is `out_height` x `out_width`.
// `dims` are the model's height and width dims.
Result<TilePlan> plan_tiles(const TilingInfo& tiling, const ir::DynamicDim& height_dim, const ir::DynamicDim& width_dim,
                            int64_t height, int64_t width, int64_t out_height, int64_t out_width,
                            const TilePlanOptions& options);

// The same for a loaded model: checks that it is tileable and computes the output size.
Result<TilePlan> plan_tiles(const Model& model, int64_t height, int64_t width, const TilePlanOptions& options);

// One tile covering the whole image, for any model whose dims accept `height` x `width`.
Result<TilePlan> whole_image_plan(const Model& model, int64_t height, int64_t width);

}  // namespace tessera::tiling
