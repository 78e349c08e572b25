// Reads an ONNX model (as exported by torch.onnx.export, opsets 7-18) into an ir::Graph.
// Dynamic axes become ir::DynamicDim with their dim_param name and a placeholder range (1..1)
// that the compiler binds from the user's --dim flags.
#pragma once

#include <string>

#include "ir/graph.h"
#include "tessera/status.h"

namespace tessera {

Result<ir::Graph> import_onnx(const std::string& path);

}  // namespace tessera
