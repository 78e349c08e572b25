// run_node: dispatches one node to its reference kernel.
#include "backends/reference/kernels.h"

#include <fmt/format.h>
#include <variant>

#include "backends/reference/ops.h"

namespace tessera::reference {
namespace {

// Unwraps the node's attributes as A (the importer normalised them) and runs `kernel`.
template <typename A, typename Kernel>
Status with_attrs(const ir::Node& node, Kernel kernel, Inputs in, TensorView out) {
  const A* attrs = std::get_if<A>(&node.attrs);
  TESSERA_REF_EXPECT(attrs != nullptr, "{} node '{}' carries the wrong kind of attributes",
                     ir::op_name(node.op), node.name);
  return kernel(*attrs, in, out);
}

}  // namespace

Status run_node(const ir::Node& node, std::span<const ConstTensorView> inputs, TensorView output) {
  using ir::Op;
  switch (node.op) {
    case Op::Conv: return with_attrs<ir::ConvAttrs>(node, conv, inputs, output);
    case Op::ConvTranspose: return with_attrs<ir::ConvAttrs>(node, conv_transpose, inputs, output);
    case Op::Relu: return relu(inputs, output);
    case Op::LeakyRelu: return with_attrs<ir::LeakyReluAttrs>(node, leaky_relu, inputs, output);
    case Op::PRelu: return prelu(inputs, output);
    case Op::Clip: return with_attrs<ir::ClipAttrs>(node, clip, inputs, output);
    case Op::Sigmoid: return sigmoid(inputs, output);
    case Op::Tanh: return tanh(inputs, output);
    case Op::HardSigmoid: return with_attrs<ir::HardSigmoidAttrs>(node, hard_sigmoid, inputs, output);
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div: return binary(node.op, inputs, output);
    case Op::Concat: return with_attrs<ir::ConcatAttrs>(node, concat, inputs, output);
    case Op::DepthToSpace:
      return with_attrs<ir::DepthToSpaceAttrs>(node, depth_to_space, inputs, output);
    case Op::Resize: return with_attrs<ir::ResizeAttrs>(node, resize, inputs, output);
    case Op::MaxPool: return with_attrs<ir::PoolAttrs>(node, max_pool, inputs, output);
    case Op::AveragePool: return with_attrs<ir::PoolAttrs>(node, average_pool, inputs, output);
    case Op::Pad: return with_attrs<ir::PadAttrs>(node, pad, inputs, output);
    case Op::GlobalAveragePool: return global_average_pool(inputs, output);
    case Op::ReduceMean: return with_attrs<ir::ReduceAttrs>(node, reduce_mean, inputs, output);
  }
  return Status(Error::Internal, fmt::format("run_node: op value {} is not in ops.inc",
                                             static_cast<int>(node.op)));
}

}  // namespace tessera::reference
