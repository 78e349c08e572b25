// Nodes XNNPACK cannot run (exactly): the reference kernel on NCHW copies of the NHWC activations.
#pragma once

#include <memory>

#include "backends/xnnpack/common.h"
#include "runtime/model_data.h"

namespace tessera::xnnpack {

// The scratch floats the node needs for NCHW copies of its inputs and output, at the upper bound.
int64_t fallback_scratch_floats(const ModelData& model, const ir::Node& node);

// `scratch` holds fallback_scratch_floats(model, node) floats; fallback steps run one at a time and share it.
std::unique_ptr<Step> make_fallback_step(const ModelData& model, const ir::Node& node, float* scratch);

}  // namespace tessera::xnnpack
