#include "ir/graph.h"

#include <cstring>

namespace tessera::ir {

namespace {
constexpr const char* kOpNames[] = {
#define TESSERA_OP(name, onnx_name) #name,
#include "ir/ops.inc"
#undef TESSERA_OP
};
static_assert(std::size(kOpNames) == kOpCount);
}  // namespace

const char* op_name(Op op) { return kOpNames[static_cast<int>(op)]; }

bool op_from_name(const std::string& name, Op* op) {
  for (int i = 0; i < kOpCount; ++i) {
    if (name == kOpNames[i]) {
      *op = static_cast<Op>(i);
      return true;
    }
  }
  return false;
}

std::string supported_op_names() {
  std::string out;
  for (int i = 0; i < kOpCount; ++i) {
    if (i > 0) out += ", ";
    out += kOpNames[i];
  }
  return out;
}

int Graph::add_value(Value v) {
  values.push_back(std::move(v));
  return static_cast<int>(values.size()) - 1;
}

int Graph::add_constant(std::string name, const Shape& shape, std::vector<float> data) {
  constant_storage.push_back(std::move(data));
  Value v;
  v.name = std::move(name);
  v.kind = ValueKind::Constant;
  v.constant_shape = shape;
  v.constant_data = constant_storage.back().data();
  return add_value(std::move(v));
}

Uses uses_of(const Graph& graph) {
  Uses uses{std::vector<int>(graph.values.size(), -1), std::vector<std::vector<int>>(graph.values.size())};
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    uses.producer[graph.nodes[i].output] = static_cast<int>(i);
    for (int v : graph.nodes[i].inputs) uses.readers[v].push_back(static_cast<int>(i));
  }
  return uses;
}

std::vector<int64_t> Graph::upper_dim_values() const {
  std::vector<int64_t> out;
  for (const DynamicDim& d : dims) out.push_back(d.upper());
  return out;
}

}  // namespace tessera::ir
