// Tiling analysis: from the graph alone, per spatial axis, how far an output region reaches into the
// input (the halo), where tiles may start (the alignment) and how input maps to output coordinates
// (scale and offset). Graphs that mix all pixels are refused with the node and the reason.
#pragma once

#include "ir/graph.h"
#include "tessera/model.h"

namespace tessera::tiling {

// An interval of pixel indices along one axis, both ends included.
struct Interval {
  int64_t lo = 0;
  int64_t hi = -1;
};

// The input interval (along `axis`, 2 = height or 3 = width) that the output interval `out` of the
// graph's only output depends on, on an unbounded image (the image border clips it). Requires a
// tileable graph.
Interval input_interval(const ir::Graph& graph, int axis, Interval out);

// Analyses the graph; never fails: a graph that cannot be tiled gets tileable = false and a reason.
TilingInfo analyse_tiling(const ir::Graph& graph);

}  // namespace tessera::tiling
