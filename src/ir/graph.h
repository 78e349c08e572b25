// The in-memory graph shared by the importers, the compiler, the file format and the runtime.
// Activations are float32 tensors in the source model's layout (NCHW for ONNX).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "ir/attrs.h"
#include "tessera/model.h"
#include "tessera/tensor.h"

namespace tessera::ir {

enum class Op {
#define TESSERA_OP(name, min_inputs, max_inputs, attrs, kind) name,
#include "ir/ops.inc"
#undef TESSERA_OP
};

inline constexpr int kOpCount = 0
#define TESSERA_OP(name, min_inputs, max_inputs, attrs, kind) +1
#include "ir/ops.inc"
#undef TESSERA_OP
    ;

enum class OpKind { Elementwise, Spatial, Channel, Global };

// An op's facts, as ops.inc states them.
struct OpInfo {
  const char* name;
  int min_inputs;
  int max_inputs;
  size_t attrs_index;  // the alternative of ir::Attrs its nodes carry
  OpKind kind;
};
const OpInfo& op_info(Op op);

const char* op_name(Op op);
// Looks an op up by its name; false when there is no such op.
bool op_from_name(const std::string& name, Op* op);
// "Add, AveragePool, ..." for error messages.
std::string supported_op_names();

// A dynamic input axis: its symbolic name (ONNX dim_param) and the range it may take.
struct DynamicDim : DimInfo {
  bool accepts(int64_t v) const { return v >= min && v <= max && v % multiple_of == 0; }
  // The largest accepted value (max rounded down to the multiple).
  int64_t upper() const { return max / multiple_of * multiple_of; }
};

// One axis of a graph input: either fixed, or one of the graph's dynamic dims.
struct InputDim {
  int64_t fixed = 0;
  int dynamic = -1;  // index into Graph::dims, or -1 when fixed
};

enum class ValueKind { Input, Constant, Activation };

struct Value {
  std::string name;
  ValueKind kind = ValueKind::Activation;
  std::vector<InputDim> input_dims;  // Input only
  Shape constant_shape;              // Constant only
  const float* constant_data = nullptr;  // Constant only; owned by the Graph or a mapped file
};

struct Node {
  Op op = Op::Relu;
  std::string name;
  std::vector<int> inputs;  // value indices; constants included (weights, bias, slopes)
  int output = -1;
  Attrs attrs;
};

// A Concat along channels (NCHW axis 1): the one that dense blocks and U-Net skips use.
inline bool is_channel_concat(const Node& node) {
  return node.op == Op::Concat && std::get<ConcatAttrs>(node.attrs).axis == 1;
}

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;  // in execution order
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::vector<DynamicDim> dims;
  // Storage for constants made by importers and passes (stable addresses).
  std::deque<std::vector<float>> constant_storage;

  int add_value(Value v);
  // Adds a constant that the graph owns.
  int add_constant(std::string name, const Shape& shape, std::vector<float> data);
  // The dim values of every input at which the graph is the largest (each dim at its upper()).
  std::vector<int64_t> upper_dim_values() const;
};

// Who writes and who reads each value of a graph.
struct Uses {
  std::vector<int> producer;              // per value: the node that makes it, or -1
  std::vector<std::vector<int>> readers;  // per value: the nodes that read it, once per read
};
Uses uses_of(const Graph& graph);

// A Conv whose weights (and bias) are constants, over channels that are not split into groups.
inline bool is_plain_conv(const Graph& g, const Node& node) {
  return node.op == Op::Conv && std::get<ConvAttrs>(node.attrs).group == 1 &&
         g.values[node.inputs[1]].kind == ValueKind::Constant &&
         (node.inputs.size() < 3 || g.values[node.inputs[2]].kind == ValueKind::Constant);
}

// A 1x1 Conv with stride 1 and no padding: one pixel in, one pixel out.
inline bool is_pointwise_conv(const Node& node) {
  if (node.op != Op::Conv) return false;
  const ConvAttrs& a = std::get<ConvAttrs>(node.attrs);
  return a.kernel == std::array<int64_t, 2>{1, 1} && a.strides == std::array<int64_t, 2>{1, 1} &&
         a.pads == std::array<int64_t, 4>{0, 0, 0, 0};
}

}  // namespace tessera::ir
