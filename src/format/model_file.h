// What a .tsr file holds, as the writer takes it and the reader gives it back: the graph with its
// bound dims and constants, the memory plan at the upper bound, the tiling analysis, the pixel range.
#pragma once

#include <string>

#include "ir/graph.h"
#include "planner/memory_planner.h"
#include "tessera/model.h"

namespace tessera {

struct ModelFile {
  ir::Graph graph;
  MemoryPlan plan;
  std::string source;
  std::string layout = "NCHW";
  float pixel_min = 0.0f;
  float pixel_max = 1.0f;
  TilingInfo tiling;
  std::string content_hash;  // as read from a file ("" when it has none); write_tsr computes its own
};

}  // namespace tessera
