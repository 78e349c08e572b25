// Nodes run by XNNPACK operators (libxnnpack 2022-02 operator API, NHWC f32).
#pragma once

#include <memory>

#include "backends/xnnpack/common.h"
#include "backends/xnnpack/lowering.h"

namespace tessera::xnnpack {

// Whether an XNNPACK operator computes `node` as the reference kernel does (up to rounding) for every
// shape in the model's range, and the same way at every image position (so tiles stay exact).
bool xnnpack_supports(const ModelData& model, const ir::Node& node);

// Whether the op's XNNPACK operator can clamp its output (so a following Relu or Clip fuses into it).
bool takes_output_clamp(ir::Op op);

// Creates the node's operator (packing its weights, reordered and clamped as `plan` says).
Result<std::unique_ptr<Step>> make_xnnpack_step(const ModelData& model, const ir::Node& node, const NodePlan& plan);

}  // namespace tessera::xnnpack
