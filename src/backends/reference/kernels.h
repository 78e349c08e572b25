// The reference backend: plain scalar kernels for every op, the ground truth for optimized backends.
#pragma once

#include <span>

#include "ir/graph.h"
#include "tessera/status.h"
#include "tessera/tensor.h"

namespace tessera::reference {

// Runs one node. `inputs` are the node's inputs in node.inputs order (constants such as weights
// included), with their shapes; `output` has its shape already set (computed by shape inference
// elsewhere) and room for output.shape.element_count() floats. For element-wise unary ops, and for
// binary ops whose output shape equals inputs[0]'s shape, output.data may equal inputs[0].data
// (in-place): the kernels handle that. Never allocates except on error paths.
Status run_node(const ir::Node& node, std::span<const ConstTensorView> inputs, TensorView output);

}  // namespace tessera::reference
