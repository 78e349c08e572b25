// State shared by the ONNX importer's driver (onnx_import.cpp) and its per-op converters (onnx_ops.cpp).
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "import/onnx_tensor.h"
#include "ir/graph.h"

namespace tessera::onnx_import {

class Context {
 public:
  ir::Graph graph;
  int opset = 13;

  // Constants seen so far (initializers and Constant nodes), by tensor name.
  std::map<std::string, ConstantTensor> constants;
  // Activations and materialised constants, by tensor name.
  std::map<std::string, int> values;
  // Rank of each value index (activations are 4-D unless a reduction drops axes).
  std::map<int, int> ranks;

  // The value for a tensor name: an activation, or a float constant made into a graph value.
  Result<int> value(const onnx::NodeProto& node, int input);
  // An optional constant input ("" or missing → nullopt); an error when it is computed at run time.
  Result<std::optional<ConstantTensor>> constant_input(const onnx::NodeProto& node, int input);
  // Adds an ir node producing the node's first output.
  Status emit(const onnx::NodeProto& node, ir::Op op, std::vector<int> inputs, ir::Attrs attrs, int rank = 4);
  // Makes a tensor name refer to an existing value (Identity, folded ops).
  void alias(const std::string& name, int value) { values[name] = value; }

  static std::string node_name(const onnx::NodeProto& node);
};

// Attribute readers with ONNX defaults.
const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name);
int64_t attr_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback);
float attr_float(const onnx::NodeProto& node, const std::string& name, float fallback);
std::string attr_string(const onnx::NodeProto& node, const std::string& name, const std::string& fallback);
std::vector<int64_t> attr_ints(const onnx::NodeProto& node, const std::string& name);

// Converts one ONNX node; Unsupported with the supported list for an unknown op type.
Status convert_node(Context& ctx, const onnx::NodeProto& node);

}  // namespace tessera::onnx_import
