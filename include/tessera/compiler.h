// The offline compiler: an ONNX model or a TF.js layers-model in, one .tsr file out that runs every
// input size in the declared ranges. Runs on the developer's machine (library tessera::compiler).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tessera/model.h"
#include "tessera/status.h"

namespace tessera {

struct CompileOptions {
  std::vector<DimInfo> dims;  // a range for every dynamic dim of the source model (its dim_param names)
  float pixel_min = 0.0f;     // the pixel values the model takes
  float pixel_max = 1.0f;
};

// Parses "NAME=MIN:MAX[:MULTIPLE]", e.g. "height=256:1024:8".
Result<DimInfo> parse_dim(const std::string& text);

// Imports `source` (.onnx, or a TF.js model.json), binds and checks the dims over their whole
// ranges, plans memory at the upper bound, analyses tiling and writes `output` atomically. Returns
// the written model, loaded. Errors name the node and a range that works ("try --dim height=32:256:4").
Result<std::shared_ptr<const Model>> compile_model(const std::string& source, const std::string& output,
                                                   const CompileOptions& options);

}  // namespace tessera
