#include "ir/graph.h"

#include <cstring>
#include <type_traits>

namespace tessera::ir {

namespace {

// The position of T among the alternatives of ir::Attrs.
template <typename T, size_t I = 0>
constexpr size_t attrs_index() {
  if constexpr (std::is_same_v<T, std::variant_alternative_t<I, Attrs>>) return I;
  else return attrs_index<T, I + 1>();
}

constexpr OpInfo kOps[] = {
#define TESSERA_OP(name, min_inputs, max_inputs, attrs, kind) \
  {#name, min_inputs, max_inputs, attrs_index<attrs>(), OpKind::kind},
#include "ir/ops.inc"
#undef TESSERA_OP
};
static_assert(std::size(kOps) == kOpCount);

}  // namespace

const OpInfo& op_info(Op op) { return kOps[static_cast<int>(op)]; }

const char* op_name(Op op) { return op_info(op).name; }

bool op_from_name(const std::string& name, Op* op) {
  for (int i = 0; i < kOpCount; ++i) {
    if (name == kOps[i].name) {
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
    out += kOps[i].name;
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
