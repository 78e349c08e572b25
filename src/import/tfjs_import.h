// Reads a TF.js "layers-model" (model.json + group*-shard*.bin, as written by tensorflowjs_converter
// from Keras) into an ir::Graph in NCHW, like an ONNX import: the input [batch, height, width, C]
// becomes [1, C, height, width], with dynamic dims named height and width for its null axes.
#pragma once

#include <string>

#include "ir/graph.h"
#include "tessera/status.h"

namespace tessera {

Result<ir::Graph> import_tfjs(const std::string& model_json_path);

}  // namespace tessera
