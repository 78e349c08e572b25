// What a loaded Model holds: the verified graph (constants point into the mapped file) and its plan.
#pragma once

#include "ir/graph.h"
#include "planner/memory_planner.h"
#include "runtime/mapped_file.h"
#include "tessera/model.h"

namespace tessera {

struct ModelData {
  std::unique_ptr<MappedFile> file;
  ir::Graph graph;
  MemoryPlan plan;
  std::vector<Shape> upper_shapes;  // every value's shape at the dims' upper bounds
  ModelInfo info;
};

}  // namespace tessera
