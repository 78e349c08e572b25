// Concat of NHWC tensors (XNNPACK's operator API has no concat).
#pragma once

#include <memory>

#include "backends/xnnpack/common.h"
#include "runtime/model_data.h"

namespace tessera::xnnpack {

// Every input is an activation of rank 4 (constants are left to the reference fallback).
bool concat_supported(const ModelData& model, const ir::Node& node);

// `memory` says which inputs are stored in the output's channels already (those are not copied).
std::unique_ptr<Step> make_concat_step(const ModelData& model, const MemoryPlan& memory, const ir::Node& node);

}  // namespace tessera::xnnpack
