// The offline compiler: source model → ir::Graph → bound dims, folded, checked, planned → .tsr.
#pragma once

#include <string>
#include <vector>

#include "compile/memory_planner.h"
#include "ir/graph.h"
#include "tessera/model.h"

namespace tessera {

struct CompileOptions {
  std::vector<ir::DynamicDim> dims;  // from --dim NAME=MIN:MAX[:MULTIPLE]
  float pixel_min = 0.0f;
  float pixel_max = 1.0f;
};

struct CompiledModel {
  ir::Graph graph;
  MemoryPlan plan;
  std::string source;
  float pixel_min = 0.0f;
  float pixel_max = 1.0f;
  TilingInfo tiling;
};

// Imports a source model by its extension (.onnx, or .json for a TF.js layers-model).
Result<ir::Graph> import_model(const std::string& path);

Result<CompiledModel> compile(ir::Graph graph, const CompileOptions& options);

// import → compile → write, the output written atomically.
Result<CompiledModel> compile_file(const std::string& source, const std::string& output, const CompileOptions& options);

}  // namespace tessera
