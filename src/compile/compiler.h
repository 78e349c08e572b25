// The offline compiler: source model → ir::Graph → bound dims, folded, checked, planned → .tsr.
#pragma once

#include <string>
#include <vector>

#include "format/model_file.h"
#include "ir/graph.h"
#include "tessera/compiler.h"

namespace tessera {

// Imports a source model by its extension (.onnx, or .json for a TF.js layers-model).
Result<ir::Graph> import_model(const std::string& path);

Result<ModelFile> compile(ir::Graph graph, const CompileOptions& options);

// import → compile → write, the output written atomically.
Result<ModelFile> compile_file(const std::string& source, const std::string& output, const CompileOptions& options);

}  // namespace tessera
