#include "ir/validate.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "core/check.h"
#include "ir/shape_inference.h"

namespace tessera::ir {

namespace {

Status fail(const Node& node, const std::string& what) {
  return Status(Error::InvalidModel, fmt::format("node '{}' ({}): {}", node.name, op_name(node.op), what));
}

// Each of `values` in [lo, kMaxAttribute].
template <size_t N>
Status check_range(const Node& node, const char* what, const std::array<int64_t, N>& values, int64_t lo) {
  for (int64_t v : values)
    if (v < lo || v > kMaxAttribute)
      return fail(node, fmt::format("{} {} is out of range (each must lie in {}..{})", what, fmt::join(values, "x"),
                                    lo, kMaxAttribute));
  return {};
}

Status check_window(const Node& node, const std::array<int64_t, 2>& kernel, const std::array<int64_t, 2>& strides,
                    const std::array<int64_t, 2>& dilations, const std::array<int64_t, 4>& pads) {
  TESSERA_RETURN_IF_ERROR(check_range(node, "kernel", kernel, 1));
  TESSERA_RETURN_IF_ERROR(check_range(node, "strides", strides, 1));
  TESSERA_RETURN_IF_ERROR(check_range(node, "dilations", dilations, 1));
  return check_range(node, "pads", pads, 0);
}

// Weights [out, in / group, kh, kw] (Conv) or [in, out / group, kh, kw] (ConvTranspose), as constants.
Status check_conv(const Graph& g, const Node& node, const ConvAttrs& a) {
  TESSERA_RETURN_IF_ERROR(check_window(node, a.kernel, a.strides, a.dilations, a.pads));
  TESSERA_RETURN_IF_ERROR(check_range(node, "output_padding", a.output_padding, 0));
  if (a.group < 1 || a.group > kMaxAttribute)
    return fail(node, fmt::format("group {} is out of range (1..{})", a.group, kMaxAttribute));
  for (size_t k = 1; k < node.inputs.size(); ++k)
    if (g.values[node.inputs[k]].kind != ValueKind::Constant)
      return fail(node, fmt::format("its {} '{}' is not a constant; tessera takes constant weights and bias",
                                    k == 1 ? "weight" : "bias", g.values[node.inputs[k]].name));
  const Shape& w = g.values[node.inputs[1]].constant_shape;
  if (w.rank() != 4 || w[2] != a.kernel[0] || w[3] != a.kernel[1])
    return fail(node, fmt::format("its weight {} does not hold a {}x{} kernel", w.to_string(), a.kernel[0],
                                  a.kernel[1]));
  if (w[0] < 1 || w[1] < 1) return fail(node, fmt::format("its weight {} is empty", w.to_string()));
  if (node.op == Op::Conv && w[0] % a.group != 0)
    return fail(node, fmt::format("{} output channels do not split into {} groups", w[0], a.group));
  if (node.op == Op::Conv && a.output_padding != std::array<int64_t, 2>{0, 0})
    return fail(node, "output_padding is for ConvTranspose only");
  if (node.op == Op::ConvTranspose) {
    if (w[0] % a.group != 0)
      return fail(node, fmt::format("{} input channels do not split into {} groups", w[0], a.group));
    for (int i = 0; i < 2; ++i)
      if (a.output_padding[i] >= std::max(a.strides[i], a.dilations[i]))
        return fail(node, fmt::format("output_padding {} must be smaller than the stride or the dilation",
                                      a.output_padding[i]));
  }
  return {};
}

// As PyTorch: every pooling window holds at least one input pixel.
Status check_pool(const Node& node, const PoolAttrs& a) {
  TESSERA_RETURN_IF_ERROR(check_window(node, a.kernel, a.strides, a.dilations, a.pads));
  for (int i = 0; i < 4; ++i)
    if (a.pads[i] >= a.dilations[i % 2] * (a.kernel[i % 2] - 1) + 1)
      return fail(node, fmt::format("pad {} is not smaller than its {}x{} window", a.pads[i], a.kernel[0],
                                    a.kernel[1]));
  return {};
}

Status check_finite(const Node& node, const char* what, float v) {
  if (!std::isfinite(v)) return fail(node, fmt::format("{} is {}; it must be a finite number", what, v));
  return {};
}

// The node's attributes in range, for its kind of attributes.
Status check_attrs(const Graph& g, const Node& node) {
  if (node.attrs.index() != op_info(node.op).attrs_index) return fail(node, "carries the wrong kind of attributes");
  switch (node.op) {
    case Op::Conv:
    case Op::ConvTranspose: return check_conv(g, node, std::get<ConvAttrs>(node.attrs));
    case Op::MaxPool:
    case Op::AveragePool: return check_pool(node, std::get<PoolAttrs>(node.attrs));
    case Op::LeakyRelu: return check_finite(node, "alpha", std::get<LeakyReluAttrs>(node.attrs).alpha);
    case Op::Clip: {
      const auto& a = std::get<ClipAttrs>(node.attrs);
      if (std::isnan(a.min) || std::isnan(a.max) || a.min > a.max)
        return fail(node, fmt::format("bounds {}..{} are not a range", a.min, a.max));
      return {};
    }
    case Op::HardSigmoid: {
      const auto& a = std::get<HardSigmoidAttrs>(node.attrs);
      TESSERA_RETURN_IF_ERROR(check_finite(node, "alpha", a.alpha));
      return check_finite(node, "beta", a.beta);
    }
    case Op::Concat: {
      int64_t axis = std::get<ConcatAttrs>(node.attrs).axis;
      if (axis < 0 || axis >= kMaxRank) return fail(node, fmt::format("axis {} is out of range", axis));
      return {};
    }
    case Op::DepthToSpace: {
      int64_t block = std::get<DepthToSpaceAttrs>(node.attrs).block;
      if (block < 1 || block > 64) return fail(node, fmt::format("block size {} is out of range (1..64)", block));
      return {};
    }
    case Op::Resize:
      for (float s : std::get<ResizeAttrs>(node.attrs).scales)
        if (!std::isfinite(s) || s <= 0 || s > 64)
          return fail(node, fmt::format("scale {} is out of range (above 0, at most 64)", s));
      return {};
    case Op::Pad: {
      const auto& a = std::get<PadAttrs>(node.attrs);
      for (int64_t p : a.pads)
        if (p < -kMaxAttribute || p > kMaxAttribute)
          return fail(node, fmt::format("pad {} is out of range (-{}..{})", p, kMaxAttribute, kMaxAttribute));
      return {};
    }
    case Op::Relu:
    case Op::PRelu:
    case Op::Sigmoid:
    case Op::Tanh:
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::GlobalAveragePool:
    case Op::ReduceMean: return {};
  }
  return fail(node, "is not an op of this tessera");
}

Status check_dims(const Graph& g) {
  std::set<std::string> names;
  for (const DynamicDim& d : g.dims) {
    TESSERA_CHECK(!d.name.empty() && names.insert(d.name).second, Error::InvalidModel,
                  "dim '{}' is unnamed or named twice", d.name);
    TESSERA_CHECK(d.min >= 1 && d.max >= d.min && d.max <= kMaxAttribute && d.multiple_of >= 1 &&
                      d.multiple_of <= kMaxAttribute && d.upper() >= d.min,
                  Error::InvalidModel, "dim '{}' has a bad range {}..{} step {} (need 1 <= MIN <= MAX <= {} and a "
                  "multiple of the step in between)", d.name, d.min, d.max, d.multiple_of, kMaxAttribute);
  }
  return {};
}

Status check_values(const Graph& g) {
  for (const Value& v : g.values) {
    if (v.kind == ValueKind::Input) {
      TESSERA_CHECK(!v.input_dims.empty() && v.input_dims.size() <= kMaxRank, Error::InvalidModel,
                    "input '{}' has rank {}; tessera takes 1 to {} axes", v.name, v.input_dims.size(), kMaxRank);
      for (const InputDim& d : v.input_dims) {
        bool dynamic_ok = d.dynamic >= 0 && d.dynamic < static_cast<int>(g.dims.size());
        bool fixed_ok = d.dynamic == -1 && d.fixed >= 1 && d.fixed <= kMaxAttribute;
        TESSERA_CHECK(dynamic_ok || fixed_ok, Error::InvalidModel, "input '{}' has a bad axis", v.name);
      }
    }
    if (v.kind == ValueKind::Constant) {
      for (int64_t d : v.constant_shape)
        TESSERA_CHECK(d >= 0, Error::InvalidModel, "constant '{}' has a negative dim", v.name);
      TESSERA_CHECK(v.constant_data != nullptr || v.constant_shape.element_count() == 0, Error::InvalidModel,
                    "constant '{}' has no data", v.name);
    }
  }
  return {};
}

// Graph inputs are exactly the Input values, once each; outputs are computed values.
Status check_io(const Graph& g) {
  const int count = static_cast<int>(g.values.size());
  TESSERA_CHECK(!g.inputs.empty() && !g.outputs.empty(), Error::InvalidModel, "the model lacks inputs or outputs");
  std::vector<int> listed(count, 0);
  for (int v : g.inputs) {
    TESSERA_CHECK(v >= 0 && v < count && g.values[v].kind == ValueKind::Input && ++listed[v] == 1,
                  Error::InvalidModel, "the model lists a bad input {}", v);
  }
  for (int v = 0; v < count; ++v)
    TESSERA_CHECK(g.values[v].kind != ValueKind::Input || listed[v] == 1, Error::InvalidModel,
                  "input '{}' is not among the model's inputs", g.values[v].name);
  for (int v : g.outputs)
    TESSERA_CHECK(v >= 0 && v < count && g.values[v].kind == ValueKind::Activation, Error::InvalidModel,
                  "the model lists a bad output {}", v);
  return {};
}

// Values are computed once, in order, before they are read.
Status check_order(const Graph& g) {
  const int count = static_cast<int>(g.values.size());
  TESSERA_CHECK(!g.nodes.empty(), Error::InvalidModel, "the model has no nodes");
  std::vector<bool> ready(count);
  for (int v = 0; v < count; ++v) ready[v] = g.values[v].kind != ValueKind::Activation;
  for (const Node& node : g.nodes) {
    TESSERA_CHECK(static_cast<int>(node.op) >= 0 && static_cast<int>(node.op) < kOpCount, Error::InvalidModel,
                  "node '{}' has an unknown op", node.name);
    const OpInfo& op = op_info(node.op);
    const int n = static_cast<int>(node.inputs.size());
    if (n < op.min_inputs || n > op.max_inputs)
      return fail(node, n < op.min_inputs || op.min_inputs == op.max_inputs
                            ? fmt::format("has {} inputs; it takes {}", n,
                                          op.min_inputs == op.max_inputs ? fmt::format("{}", op.min_inputs)
                                                                         : fmt::format("{} to {}", op.min_inputs, op.max_inputs))
                            : fmt::format("has {} inputs; it takes at most {}", n, op.max_inputs));
    for (int v : node.inputs)
      if (v < 0 || v >= count || !ready[v])
        return fail(node, fmt::format("reads value {}, which is out of range or not computed yet", v));
    if (node.output < 0 || node.output >= count || ready[node.output])
      return fail(node, fmt::format("writes value {}, which is out of range, an input, a constant or already written",
                                    node.output));
    ready[node.output] = true;
  }
  for (int v = 0; v < count; ++v)
    TESSERA_CHECK(ready[v], Error::InvalidModel, "value '{}' is never computed", g.values[v].name);
  return {};
}

// The lowest value the dim accepts.
int64_t lowest(const DynamicDim& d) { return (d.min + d.multiple_of - 1) / d.multiple_of * d.multiple_of; }

Status check_shapes_at(const Graph& g, std::span<const int64_t> dims, std::span<const Shape> upper) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> shapes, shapes_at_dims(g, dims));
  TESSERA_RETURN_IF_ERROR(check_value_sizes(g, shapes, dims));
  for (size_t v = 0; v < shapes.size(); ++v)
    TESSERA_CHECK(shapes[v].element_count() <= upper[v].element_count(), Error::InvalidModel,
                  "value '{}' is larger at {} than at the upper bound; tessera plans memory at the upper bound",
                  g.values[v].name, dims_text(g, dims));
  return {};
}

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  for (; bytes >= 1024 && u < 6; ++u) bytes /= 1024;
  return fmt::format("{:.1f} {}", bytes, units[u]);
}

}  // namespace

std::string dims_text(const Graph& graph, std::span<const int64_t> dim_values) {
  std::string out;
  for (size_t k = 0; k < graph.dims.size(); ++k)
    out += fmt::format("{}{}={}", k ? ", " : "", graph.dims[k].name, dim_values[k]);
  return out.empty() ? "its fixed shape" : out;
}

Result<std::vector<Shape>> shapes_at_dims(const Graph& graph, std::span<const int64_t> dim_values) {
  Result<std::vector<Shape>> shapes = shapes_at(graph, dim_values);
  if (!shapes.ok())
    return Status(shapes.status().code(),
                  fmt::format("at {}: {}", dims_text(graph, dim_values), shapes.status().message()));
  return shapes;
}

Status validate_nodes(const Graph& graph) {
  TESSERA_RETURN_IF_ERROR(check_values(graph));
  TESSERA_RETURN_IF_ERROR(check_io(graph));
  TESSERA_RETURN_IF_ERROR(check_order(graph));
  for (const Node& node : graph.nodes) TESSERA_RETURN_IF_ERROR(check_attrs(graph, node));
  return {};
}

Status validate(const Graph& graph) {
  TESSERA_RETURN_IF_ERROR(check_dims(graph));
  TESSERA_RETURN_IF_ERROR(validate_nodes(graph));
  const std::vector<int64_t> upper = graph.upper_dim_values();
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> upper_shapes, shapes_at_dims(graph, upper));
  TESSERA_RETURN_IF_ERROR(check_value_sizes(graph, upper_shapes, upper));
  // Each dim at its lowest value with the others at their upper bound, then all at their lowest.
  std::vector<int64_t> all_low = upper;
  for (size_t k = 0; k < graph.dims.size(); ++k) {
    std::vector<int64_t> dims = upper;
    dims[k] = all_low[k] = lowest(graph.dims[k]);
    TESSERA_RETURN_IF_ERROR(check_shapes_at(graph, dims, upper_shapes));
  }
  return check_shapes_at(graph, all_low, upper_shapes);
}

Status check_value_sizes(const Graph& graph, std::span<const Shape> shapes, std::span<const int64_t> dim_values) {
  for (size_t v = 0; v < shapes.size(); ++v) {
    if (graph.values[v].kind == ValueKind::Constant) continue;
    int64_t count = shapes[v].element_count();
    TESSERA_CHECK(count >= 1, Error::InvalidModel, "value '{}' {} is empty at {}", graph.values[v].name,
                  shapes[v].to_string(), dims_text(graph, dim_values));
    TESSERA_CHECK(count <= kMaxArenaBytes / int64_t{sizeof(float)}, Error::InvalidModel,
                  "value '{}' {} would take {} at {}; tessera plans at most {} for a model: lower the dims' MAX "
                  "(--dim NAME=MIN:MAX)", graph.values[v].name, shapes[v].to_string(),
                  bytes_text(static_cast<double>(count) * sizeof(float)), dims_text(graph, dim_values),
                  bytes_text(kMaxArenaBytes));
  }
  return {};
}

Status check_arena_bytes(const Graph& graph, int64_t bytes) {
  TESSERA_CHECK(bytes >= 0 && bytes <= kMaxArenaBytes, Error::InvalidModel,
                "its activations need {} at {}; tessera plans at most {} for a model: lower the dims' MAX "
                "(--dim NAME=MIN:MAX)", bytes_text(static_cast<double>(bytes)),
                dims_text(graph, graph.upper_dim_values()), bytes_text(kMaxArenaBytes));
  return {};
}

}  // namespace tessera::ir
