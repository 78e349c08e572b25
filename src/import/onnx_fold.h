// Constant folding at import: torch.onnx.export leaves small integer subgraphs (e.g. the pads of
// F.pad: ConstantOfShape → Concat → Reshape → Slice → Transpose → Cast) that must be evaluated
// to give the op its constant attribute.
#pragma once

#include "import/onnx_context.h"

namespace tessera::onnx_import {

// True when `node` is a shape-manipulation op whose inputs are all constants: fold it.
bool can_fold(const Context& ctx, const onnx::NodeProto& node);

// Evaluates `node` into ctx.constants.
Status fold_node(Context& ctx, const onnx::NodeProto& node);

}  // namespace tessera::onnx_import
