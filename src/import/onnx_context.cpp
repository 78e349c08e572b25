#include "import/onnx_context.h"
#include "core/check.h"

namespace tessera::onnx_import {

// Printable (core printable()): the name goes into messages and `tessera info`, never into lookups.
std::string Context::node_name(const onnx::NodeProto& node) {
  if (!node.name().empty()) return printable(node.name());
  return printable(node.output_size() > 0 ? node.op_type() + ":" + node.output(0) : node.op_type());
}

Result<int> Context::value(const onnx::NodeProto& node, int input) {
  TESSERA_CHECK(input < node.input_size() && !node.input(input).empty(), Error::InvalidModel,
                "node '{}' ({}) lacks input {}", node_name(node), node.op_type(), input);
  const std::string& name = node.input(input);
  if (auto it = values.find(name); it != values.end()) return it->second;
  auto c = constants.find(name);
  TESSERA_CHECK(c != constants.end(), Error::InvalidModel, "node '{}' reads '{}', which no earlier node produces",
                node_name(node), printable(name));
  TESSERA_CHECK(c->second.is_float, Error::Unsupported,
                "node '{}' ({}) reads integer tensor '{}' as data; tessera computes in float32", node_name(node),
                node.op_type(), name);
  int index = graph.add_constant(name, c->second.shape, c->second.floats);
  values[name] = index;
  ranks[index] = c->second.shape.rank();
  return index;
}

Result<std::optional<ConstantTensor>> Context::constant_input(const onnx::NodeProto& node, int input) {
  if (input >= node.input_size() || node.input(input).empty()) return std::optional<ConstantTensor>();
  auto c = constants.find(node.input(input));
  TESSERA_CHECK(c != constants.end(), Error::Unsupported,
                "node '{}' ({}) takes input {} ('{}') computed at run time; tessera needs it constant (export "
                "with fixed scales/pads, e.g. scale_factor instead of size)",
                node_name(node), node.op_type(), input, node.input(input));
  return std::optional<ConstantTensor>(c->second);
}

Status Context::emit(const onnx::NodeProto& node, ir::Op op, std::vector<int> inputs, ir::Attrs attrs, int rank) {
  TESSERA_CHECK(node.output_size() >= 1, Error::InvalidModel, "node '{}' has no output", node_name(node));
  ir::Node n;
  n.op = op;
  n.name = node_name(node);
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  ir::Value out;
  out.name = node.output(0);
  n.output = graph.add_value(std::move(out));
  values[node.output(0)] = n.output;
  ranks[n.output] = rank;
  graph.nodes.push_back(std::move(n));
  return {};
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t attr_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const auto* a = find_attr(node, name);
  return a ? a->i() : fallback;
}

float attr_float(const onnx::NodeProto& node, const std::string& name, float fallback) {
  const auto* a = find_attr(node, name);
  return a ? a->f() : fallback;
}

std::string attr_string(const onnx::NodeProto& node, const std::string& name, const std::string& fallback) {
  const auto* a = find_attr(node, name);
  return a ? a->s() : fallback;
}

std::vector<int64_t> attr_ints(const onnx::NodeProto& node, const std::string& name) {
  const auto* a = find_attr(node, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>();
}

}  // namespace tessera::onnx_import
