// The tile planner at the level of the graph's dims, under the public plan_tiles (tessera/tiling.h).
#pragma once

#include "ir/graph.h"
#include "tessera/tiling.h"

namespace tessera::tiling {

// Plans tiles for an image of `height` x `width` whose full output is `out_height` x `out_width`.
// `dims` are the model's height and width dims.
Result<TilePlan> plan_tiles(const TilingInfo& tiling, const ir::DynamicDim& height_dim, const ir::DynamicDim& width_dim,
                            int64_t height, int64_t width, int64_t out_height, int64_t out_width,
                            const TilePlanOptions& options);

// The largest tile that both axes take as a given --tile (the windows of its cores stay within the
// model's maximum), on the grid of both axes (the lcm of their grids, in `grid` when given).
Result<int64_t> largest_tile(const Model& model, int64_t halo, int64_t* grid = nullptr);

}  // namespace tessera::tiling
