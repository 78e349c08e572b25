// Converters from ONNX nodes to ir nodes: every attribute variant is normalised here (auto_pad,
// optional inputs, opset differences), so that shape rules and kernels see one form per op.
#include <cmath>
#include <functional>

#include "core/check.h"
#include "import/onnx_context.h"
#include "import/onnx_fold.h"

namespace tessera::onnx_import {

namespace {

using onnx::NodeProto;

// Ops that the importer removes or rewrites and that therefore have no ir op of their own.
constexpr const char* kImportOnlyOps =
    "BatchNormalization, Constant, Dropout, Identity, Reciprocal, Upsample, and shape ops on constants (Cast, Concat, "
    "ConstantOfShape, Reshape, Slice, Squeeze, Transpose, Unsqueeze)";

Status unsupported(const NodeProto& node, const std::string& what) {
  return Status(Error::Unsupported, fmt::format("node '{}' ({}): {}", Context::node_name(node), node.op_type(), what));
}

// Reads a 2-D spatial attribute ([h, w]); `fallback` when absent.
Status spatial2(const NodeProto& node, const char* name, std::array<int64_t, 2> fallback, std::array<int64_t, 2>* out) {
  std::vector<int64_t> v = attr_ints(node, name);
  if (v.empty()) {
    *out = fallback;
    return {};
  }
  if (v.size() != 2) return unsupported(node, fmt::format("'{}' has {} values; only 2-D (H, W) ops are supported", name, v.size()));
  for (int64_t x : v)
    if (x < 1 && std::string(name) != "output_padding") return unsupported(node, fmt::format("'{}' must be positive", name));
  *out = {v[0], v[1]};
  return {};
}

// Pads from `pads` or `auto_pad`. SAME padding is size-independent only with stride 1.
Status read_pads(const NodeProto& node, const std::array<int64_t, 2>& kernel, const std::array<int64_t, 2>& strides,
                 const std::array<int64_t, 2>& dilations, std::array<int64_t, 4>* pads) {
  std::string auto_pad = attr_string(node, "auto_pad", "NOTSET");
  *pads = {0, 0, 0, 0};
  if (auto_pad == "NOTSET") {
    std::vector<int64_t> p = attr_ints(node, "pads");
    if (p.empty()) return {};
    if (p.size() != 4) return unsupported(node, fmt::format("'pads' has {} values; expected 4", p.size()));
    for (int i = 0; i < 4; ++i) {
      if (p[i] < 0) return unsupported(node, "negative pads are not supported");
      (*pads)[i] = p[i];
    }
    return {};
  }
  if (auto_pad == "VALID") return {};
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    return unsupported(node, fmt::format("unknown auto_pad '{}'", auto_pad));
  if (strides[0] != 1 || strides[1] != 1)
    return unsupported(node, "auto_pad SAME with a stride above 1 pads by an amount that depends on the input size; "
                             "export with explicit padding");
  for (int i = 0; i < 2; ++i) {
    int64_t total = dilations[i] * (kernel[i] - 1);
    int64_t small = total / 2, large = total - small;
    (*pads)[i] = auto_pad == "SAME_UPPER" ? small : large;
    (*pads)[2 + i] = auto_pad == "SAME_UPPER" ? large : small;
  }
  return {};
}

Result<int> constant_weight(Context& ctx, const NodeProto& node, int input) {
  TESSERA_ASSIGN_OR_RETURN(int w, ctx.value(node, input));
  const ir::Value& v = ctx.graph.values[w];
  TESSERA_CHECK(v.kind == ir::ValueKind::Constant, Error::Unsupported,
                "node '{}' ({}): weight '{}' is computed at run time; tessera needs constant weights",
                Context::node_name(node), node.op_type(), v.name);
  TESSERA_CHECK(v.constant_shape.rank() == 4, Error::Unsupported,
                "node '{}' ({}): weight '{}' has shape {}; only 2-D convolutions (4-D weights) are supported",
                Context::node_name(node), node.op_type(), v.name, v.constant_shape.to_string());
  return w;
}

Status convert_conv(Context& ctx, const NodeProto& node, bool transpose) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  TESSERA_ASSIGN_OR_RETURN(int w, constant_weight(ctx, node, 1));
  const Shape& ws = ctx.graph.values[w].constant_shape;
  ir::ConvAttrs a;
  TESSERA_RETURN_IF_ERROR(spatial2(node, "kernel_shape", {ws[2], ws[3]}, &a.kernel));
  if (a.kernel[0] != ws[2] || a.kernel[1] != ws[3])
    return unsupported(node, fmt::format("kernel_shape differs from the weight shape {}", ws.to_string()));
  TESSERA_RETURN_IF_ERROR(spatial2(node, "strides", {1, 1}, &a.strides));
  TESSERA_RETURN_IF_ERROR(spatial2(node, "dilations", {1, 1}, &a.dilations));
  a.group = attr_int(node, "group", 1);
  if (a.group < 1) return unsupported(node, "group must be at least 1");
  if (transpose) {
    if (find_attr(node, "output_shape"))
      return unsupported(node, "'output_shape' fixes the output size; export with output_padding instead");
    TESSERA_RETURN_IF_ERROR(spatial2(node, "output_padding", {0, 0}, &a.output_padding));
    if (attr_string(node, "auto_pad", "NOTSET") != "NOTSET" && attr_string(node, "auto_pad", "") != "VALID")
      return unsupported(node, "auto_pad SAME on ConvTranspose is not supported; export with explicit pads");
  }
  TESSERA_RETURN_IF_ERROR(read_pads(node, a.kernel, a.strides, a.dilations, &a.pads));
  std::vector<int> inputs = {x, w};
  if (node.input_size() > 2 && !node.input(2).empty()) {
    TESSERA_ASSIGN_OR_RETURN(int b, ctx.value(node, 2));
    inputs.push_back(b);
  }
  return ctx.emit(node, transpose ? ir::Op::ConvTranspose : ir::Op::Conv, inputs, a);
}

Status convert_pool(Context& ctx, const NodeProto& node, ir::Op op) {
  if (node.output_size() > 1 && !node.output(1).empty())
    return unsupported(node, "the Indices output of MaxPool is not supported");
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  ir::PoolAttrs a;
  if (!find_attr(node, "kernel_shape")) return unsupported(node, "kernel_shape is missing");
  TESSERA_RETURN_IF_ERROR(spatial2(node, "kernel_shape", {1, 1}, &a.kernel));
  TESSERA_RETURN_IF_ERROR(spatial2(node, "strides", {1, 1}, &a.strides));
  TESSERA_RETURN_IF_ERROR(spatial2(node, "dilations", {1, 1}, &a.dilations));
  TESSERA_RETURN_IF_ERROR(read_pads(node, a.kernel, a.strides, a.dilations, &a.pads));
  a.ceil_mode = attr_int(node, "ceil_mode", 0) != 0;
  a.count_include_pad = attr_int(node, "count_include_pad", 0) != 0;
  if (attr_int(node, "storage_order", 0) != 0) return unsupported(node, "storage_order 1 is not supported");
  return ctx.emit(node, op, {x}, a);
}

Result<float> scalar_input(Context& ctx, const NodeProto& node, int input, float fallback) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<ConstantTensor> c, ctx.constant_input(node, input));
  if (!c) return fallback;
  TESSERA_CHECK(c->is_float && c->floats.size() == 1, Error::Unsupported,
                "node '{}' ({}): input {} must be a float scalar", Context::node_name(node), node.op_type(), input);
  return c->floats[0];
}

Status convert_clip(Context& ctx, const NodeProto& node) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  ir::ClipAttrs a;
  if (ctx.opset < 11) {
    a.min = attr_float(node, "min", a.min);
    a.max = attr_float(node, "max", a.max);
  } else {
    TESSERA_ASSIGN_OR_RETURN(a.min, scalar_input(ctx, node, 1, a.min));
    TESSERA_ASSIGN_OR_RETURN(a.max, scalar_input(ctx, node, 2, a.max));
  }
  return ctx.emit(node, ir::Op::Clip, {x}, a);
}

Status convert_binary(Context& ctx, const NodeProto& node, ir::Op op) {
  TESSERA_ASSIGN_OR_RETURN(int a, ctx.value(node, 0));
  TESSERA_ASSIGN_OR_RETURN(int b, ctx.value(node, 1));
  if (ctx.graph.values[a].kind == ir::ValueKind::Constant && ctx.graph.values[b].kind == ir::ValueKind::Constant)
    return unsupported(node, "both inputs are constants (fold them before export)");
  return ctx.emit(node, op, {a, b}, std::monostate{}, std::max(ctx.ranks[a], ctx.ranks[b]));
}

Status convert_concat(Context& ctx, const NodeProto& node) {
  std::vector<int> inputs;
  for (int i = 0; i < node.input_size(); ++i) {
    TESSERA_ASSIGN_OR_RETURN(int v, ctx.value(node, i));
    inputs.push_back(v);
  }
  if (inputs.empty()) return unsupported(node, "has no inputs");
  int rank = ctx.ranks[inputs[0]];
  int64_t axis = attr_int(node, "axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return unsupported(node, fmt::format("axis {} is outside rank {}", axis, rank));
  return ctx.emit(node, ir::Op::Concat, inputs, ir::ConcatAttrs{axis}, rank);
}

Status convert_depth_to_space(Context& ctx, const NodeProto& node) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  ir::DepthToSpaceAttrs a;
  a.block = attr_int(node, "blocksize", 0);
  if (a.block < 1) return unsupported(node, "blocksize must be at least 1");
  std::string mode = attr_string(node, "mode", "DCR");
  if (mode != "DCR" && mode != "CRD") return unsupported(node, fmt::format("unknown mode '{}'", mode));
  a.mode = mode == "DCR" ? ir::DepthToSpaceMode::DCR : ir::DepthToSpaceMode::CRD;
  return ctx.emit(node, ir::Op::DepthToSpace, {x}, a);
}

Result<ir::ResizeAttrs> resize_modes(const NodeProto& node, bool legacy) {
  ir::ResizeAttrs a;
  std::string mode = attr_string(node, "mode", "nearest");
  if (mode == "nearest") a.mode = ir::ResizeMode::Nearest;
  else if (mode == "linear" || mode == "bilinear") a.mode = ir::ResizeMode::Linear;
  else return unsupported(node, fmt::format("mode '{}' is not supported (nearest and linear are)", mode));
  if (legacy) {  // Upsample and opset-10 Resize: asymmetric coordinates, floor for nearest
    a.coordinate_mode = ir::CoordinateMode::Asymmetric;
    a.nearest_mode = ir::NearestMode::Floor;
    return a;
  }
  std::string coord = attr_string(node, "coordinate_transformation_mode", "half_pixel");
  if (coord == "half_pixel") a.coordinate_mode = ir::CoordinateMode::HalfPixel;
  else if (coord == "pytorch_half_pixel") a.coordinate_mode = ir::CoordinateMode::PytorchHalfPixel;
  else if (coord == "align_corners") a.coordinate_mode = ir::CoordinateMode::AlignCorners;
  else if (coord == "asymmetric") a.coordinate_mode = ir::CoordinateMode::Asymmetric;
  else if (coord == "tf_half_pixel_for_nearest") a.coordinate_mode = ir::CoordinateMode::TfHalfPixelForNearest;
  else return unsupported(node, fmt::format("coordinate_transformation_mode '{}' is not supported", coord));
  std::string nearest = attr_string(node, "nearest_mode", "round_prefer_floor");
  if (nearest == "round_prefer_floor") a.nearest_mode = ir::NearestMode::RoundPreferFloor;
  else if (nearest == "round_prefer_ceil") a.nearest_mode = ir::NearestMode::RoundPreferCeil;
  else if (nearest == "floor") a.nearest_mode = ir::NearestMode::Floor;
  else if (nearest == "ceil") a.nearest_mode = ir::NearestMode::Ceil;
  else return unsupported(node, fmt::format("nearest_mode '{}' is not supported", nearest));
  return a;
}

Status set_scales(const NodeProto& node, const std::vector<float>& scales, ir::ResizeAttrs* a) {
  if (scales.size() != 4 || scales[0] != 1.0f || scales[1] != 1.0f || !(scales[2] > 0) || !(scales[3] > 0))
    return unsupported(node, "only resizes of H and W by positive scales are supported (batch and channel scales 1)");
  a->scales = {scales[2], scales[3]};
  return {};
}

// Resize (opset 10+) and Upsample (opsets 7-9).
Status convert_resize(Context& ctx, const NodeProto& node) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  bool upsample = node.op_type() == "Upsample";
  bool legacy = upsample || ctx.opset < 11;
  TESSERA_ASSIGN_OR_RETURN(ir::ResizeAttrs a, resize_modes(node, legacy));
  std::vector<float> scales;
  if (upsample && ctx.opset < 9) {
    const auto* s = find_attr(node, "scales");
    if (s) scales.assign(s->floats().begin(), s->floats().end());
  } else {
    int scales_input = legacy ? 1 : 2;
    TESSERA_ASSIGN_OR_RETURN(std::optional<ConstantTensor> s, ctx.constant_input(node, scales_input));
    if (s && s->is_float) scales = s->floats;
    if (!legacy && node.input_size() > 3 && !node.input(3).empty())
      return unsupported(node, "resizing to fixed 'sizes' does not work with dynamic shapes; export with "
                               "scale_factor instead of size");
  }
  if (attr_string(node, "coordinate_transformation_mode", "") == "tf_crop_and_resize")
    return unsupported(node, "tf_crop_and_resize is not supported");
  TESSERA_RETURN_IF_ERROR(set_scales(node, scales, &a));
  return ctx.emit(node, ir::Op::Resize, {x}, a);
}

Status convert_pad(Context& ctx, const NodeProto& node) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  ir::PadAttrs a;
  std::string mode = attr_string(node, "mode", "constant");
  if (mode == "constant") a.mode = ir::PadMode::Constant;
  else if (mode == "reflect") a.mode = ir::PadMode::Reflect;
  else if (mode == "edge") a.mode = ir::PadMode::Edge;
  else return unsupported(node, fmt::format("mode '{}' is not supported (constant, reflect, edge are)", mode));
  std::vector<int64_t> pads;
  if (ctx.opset < 11) {
    pads = attr_ints(node, "pads");
    a.value = attr_float(node, "value", 0.0f);
  } else {
    TESSERA_ASSIGN_OR_RETURN(std::optional<ConstantTensor> p, ctx.constant_input(node, 1));
    if (p && !p->is_float) pads = p->ints;
    TESSERA_ASSIGN_OR_RETURN(a.value, scalar_input(ctx, node, 2, 0.0f));
    if (node.input_size() > 3 && !node.input(3).empty()) return unsupported(node, "the 'axes' input is not supported");
  }
  if (pads.size() != 8 || ctx.ranks[x] != 4)
    return unsupported(node, fmt::format("needs 8 int64 pads for a 4-D input, got {}", pads.size()));
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) {
    ctx.alias(node.output(0), x);  // torch emits all-zero Pads before some pooling ops
    return {};
  }
  std::copy(pads.begin(), pads.end(), a.pads.begin());
  return ctx.emit(node, ir::Op::Pad, {x}, a);
}

Status convert_reduce_mean(Context& ctx, const NodeProto& node) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  int rank = ctx.ranks[x];
  if (rank != 4) return unsupported(node, fmt::format("takes a 4-D input, got rank {}", rank));
  std::vector<int64_t> axes = attr_ints(node, "axes");
  if (ctx.opset >= 18) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<ConstantTensor> c, ctx.constant_input(node, 1));
    if (c) axes = c->ints;
  }
  ir::ReduceAttrs a;
  a.keepdims = attr_int(node, "keepdims", 1) != 0;
  if (axes.empty()) a.axes = {true, true, true, true};
  for (int64_t axis : axes) {
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return unsupported(node, fmt::format("axis {} is outside rank {}", axis, rank));
    a.axes[axis] = true;
  }
  int out_rank = a.keepdims ? 4 : 4 - static_cast<int>(std::count(a.axes.begin(), a.axes.end(), true));
  return ctx.emit(node, ir::Op::ReduceMean, {x}, a, out_rank);
}

// Inference-mode BatchNormalization becomes y = x * s + b per channel; compile folds it into the conv.
Status convert_batch_norm(Context& ctx, const NodeProto& node) {
  if (attr_int(node, "training_mode", 0) != 0) return unsupported(node, "training_mode is not supported");
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  std::vector<std::vector<float>> p;
  for (int i = 1; i <= 4; ++i) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<ConstantTensor> c, ctx.constant_input(node, i));
    if (!c || !c->is_float) return unsupported(node, fmt::format("input {} must be a float constant", i));
    p.push_back(c->floats);
  }
  size_t channels = p[0].size();
  for (const auto& v : p)
    if (v.size() != channels) return unsupported(node, "scale, bias, mean and variance differ in length");
  float eps = attr_float(node, "epsilon", 1e-5f);
  std::vector<float> scale(channels), shift(channels);
  for (size_t c = 0; c < channels; ++c) {
    scale[c] = p[0][c] / std::sqrt(p[3][c] + eps);
    shift[c] = p[1][c] - p[2][c] * scale[c];
  }
  Shape per_channel{1, static_cast<int64_t>(channels), 1, 1};
  std::string name = Context::node_name(node);
  int s = ctx.graph.add_constant(name + "/scale", per_channel, std::move(scale));
  int b = ctx.graph.add_constant(name + "/shift", per_channel, std::move(shift));
  TESSERA_RETURN_IF_ERROR(ctx.emit(node, ir::Op::Mul, {x, s}, std::monostate{}));
  int scaled = ctx.values[node.output(0)];
  ctx.graph.values[scaled].name += "/scaled";
  return ctx.emit(node, ir::Op::Add, {scaled, b}, std::monostate{});
}

Status convert_constant(Context& ctx, const NodeProto& node) {
  const auto* v = find_attr(node, "value");
  if (v && v->has_t()) {
    TESSERA_ASSIGN_OR_RETURN(ctx.constants[node.output(0)], decode_tensor(v->t(), "."));
    return {};
  }
  ConstantTensor c;
  if (const auto* f = find_attr(node, "value_float")) {
    c.floats = {f->f()};
  } else if (const auto* fs = find_attr(node, "value_floats")) {
    c.floats.assign(fs->floats().begin(), fs->floats().end());
    c.shape.push_back(static_cast<int64_t>(c.floats.size()));
  } else if (const auto* i = find_attr(node, "value_int")) {
    c.is_float = false;
    c.ints = {i->i()};
  } else if (const auto* is = find_attr(node, "value_ints")) {
    c.is_float = false;
    c.ints.assign(is->ints().begin(), is->ints().end());
    c.shape.push_back(static_cast<int64_t>(c.ints.size()));
  } else {
    return unsupported(node, "only tensor, float and int constants are supported");
  }
  ctx.constants[node.output(0)] = std::move(c);
  return {};
}

Status convert_simple(Context& ctx, const NodeProto& node, ir::Op op, ir::Attrs attrs = std::monostate{}) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  std::vector<int> inputs = {x};
  if (op == ir::Op::PRelu) {
    TESSERA_ASSIGN_OR_RETURN(int slope, ctx.value(node, 1));
    inputs.push_back(slope);
  }
  return ctx.emit(node, op, inputs, std::move(attrs), ctx.ranks[x]);
}

// 1/x, as torch exports `c / x`: Div by a constant numerator, with no op of its own.
Status convert_reciprocal(Context& ctx, const NodeProto& node) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  int one = ctx.graph.add_constant(Context::node_name(node) + "/one", Shape{1}, {1.0f});
  return ctx.emit(node, ir::Op::Div, {one, x}, std::monostate{}, ctx.ranks[x]);
}

Status convert_identity(Context& ctx, const NodeProto& node) {
  TESSERA_ASSIGN_OR_RETURN(int x, ctx.value(node, 0));
  ctx.alias(node.output(0), x);
  return {};
}

using Converter = std::function<Status(Context&, const NodeProto&)>;

const std::map<std::string, Converter>& converters() {
  using ir::Op;
  static const std::map<std::string, Converter> table = {
      {"Conv", [](Context& c, const NodeProto& n) { return convert_conv(c, n, false); }},
      {"ConvTranspose", [](Context& c, const NodeProto& n) { return convert_conv(c, n, true); }},
      {"Relu", [](Context& c, const NodeProto& n) { return convert_simple(c, n, Op::Relu); }},
      {"LeakyRelu",
       [](Context& c, const NodeProto& n) {
         return convert_simple(c, n, Op::LeakyRelu, ir::LeakyReluAttrs{attr_float(n, "alpha", 0.01f)});
       }},
      {"PRelu", [](Context& c, const NodeProto& n) { return convert_simple(c, n, Op::PRelu); }},
      {"Clip", convert_clip},
      {"Sigmoid", [](Context& c, const NodeProto& n) { return convert_simple(c, n, Op::Sigmoid); }},
      {"Tanh", [](Context& c, const NodeProto& n) { return convert_simple(c, n, Op::Tanh); }},
      {"HardSigmoid",
       [](Context& c, const NodeProto& n) {
         return convert_simple(c, n, Op::HardSigmoid,
                               ir::HardSigmoidAttrs{attr_float(n, "alpha", 0.2f), attr_float(n, "beta", 0.5f)});
       }},
      {"Add", [](Context& c, const NodeProto& n) { return convert_binary(c, n, Op::Add); }},
      {"Sub", [](Context& c, const NodeProto& n) { return convert_binary(c, n, Op::Sub); }},
      {"Mul", [](Context& c, const NodeProto& n) { return convert_binary(c, n, Op::Mul); }},
      {"Div", [](Context& c, const NodeProto& n) { return convert_binary(c, n, Op::Div); }},
      {"Concat", convert_concat},
      {"DepthToSpace", convert_depth_to_space},
      {"Resize", convert_resize},
      {"Upsample", convert_resize},
      {"MaxPool", [](Context& c, const NodeProto& n) { return convert_pool(c, n, Op::MaxPool); }},
      {"AveragePool", [](Context& c, const NodeProto& n) { return convert_pool(c, n, Op::AveragePool); }},
      {"Pad", convert_pad},
      {"GlobalAveragePool", [](Context& c, const NodeProto& n) { return convert_simple(c, n, Op::GlobalAveragePool); }},
      {"ReduceMean", convert_reduce_mean},
      {"BatchNormalization", convert_batch_norm},
      {"Constant", convert_constant},
      {"Identity", convert_identity},
      {"Dropout", convert_identity},
      {"Reciprocal", convert_reciprocal},
  };
  return table;
}

}  // namespace

Status convert_node(Context& ctx, const NodeProto& node) {
  if (can_fold(ctx, node)) return fold_node(ctx, node);
  auto it = converters().find(node.op_type());
  if (it == converters().end())
    return Status(Error::Unsupported,
                  fmt::format("node '{}' is op '{}', which tessera does not support. Supported ONNX ops: {}; "
                              "rewritten at import: {}",
                              Context::node_name(node), node.op_type(), ir::supported_op_names(), kImportOnlyOps));
  return it->second(ctx, node);
}

}  // namespace tessera::onnx_import
