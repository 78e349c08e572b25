// Internal: one function per reference kernel, dispatched by run_node (kernels.cpp).
#pragma once

#include <span>

#include "core/check.h"
#include "ir/attrs.h"
#include "ir/graph.h"
#include "tessera/status.h"
#include "tessera/tensor.h"

namespace tessera::reference {

using Inputs = std::span<const ConstTensorView>;

// Cheap sanity check for invariants that shape inference should already guarantee.
#define TESSERA_REF_EXPECT(cond, ...) TESSERA_CHECK(cond, ::tessera::Error::Internal, __VA_ARGS__)

Status conv(const ir::ConvAttrs& attrs, Inputs in, TensorView out);
Status conv_transpose(const ir::ConvAttrs& attrs, Inputs in, TensorView out);

Status relu(Inputs in, TensorView out);
Status leaky_relu(const ir::LeakyReluAttrs& attrs, Inputs in, TensorView out);
Status clip(const ir::ClipAttrs& attrs, Inputs in, TensorView out);
Status sigmoid(Inputs in, TensorView out);
Status tanh(Inputs in, TensorView out);
Status hard_sigmoid(const ir::HardSigmoidAttrs& attrs, Inputs in, TensorView out);
Status prelu(Inputs in, TensorView out);

// Add, Sub, Mul or Div, with numpy broadcasting.
Status binary(ir::Op op, Inputs in, TensorView out);

Status concat(const ir::ConcatAttrs& attrs, Inputs in, TensorView out);
Status depth_to_space(const ir::DepthToSpaceAttrs& attrs, Inputs in, TensorView out);
Status resize(const ir::ResizeAttrs& attrs, Inputs in, TensorView out);
Status max_pool(const ir::PoolAttrs& attrs, Inputs in, TensorView out);
Status average_pool(const ir::PoolAttrs& attrs, Inputs in, TensorView out);
Status pad(const ir::PadAttrs& attrs, Inputs in, TensorView out);
Status global_average_pool(Inputs in, TensorView out);
Status reduce_mean(const ir::ReduceAttrs& attrs, Inputs in, TensorView out);

}  // namespace tessera::reference
