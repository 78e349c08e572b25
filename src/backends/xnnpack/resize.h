// Resize of NHWC tensors that XNNPACK cannot do exactly: every nearest resize, and bilinear ones whose
// sampling positions XNNPACK would round differently at different image positions.
#pragma once

#include <memory>

#include "backends/xnnpack/common.h"
#include "runtime/model_data.h"

namespace tessera::xnnpack {

std::unique_ptr<Step> make_resize_step(const ModelData& model, const MemoryPlan& memory, const ir::Node& node);

}  // namespace tessera::xnnpack
