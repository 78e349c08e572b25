#include "ir/shape_inference.h"

#include <cmath>
#include <fmt/format.h>

namespace tessera::ir {

namespace {

// The largest axis any value may have: far above any image, small enough that products of a few
// axes with kernels and strides stay within 64 bits.
constexpr int64_t kMaxAxis = int64_t{1} << 32;

Status fail(const Node& node, const std::string& what) {
  return Status(Error::InvalidModel, fmt::format("node '{}' ({}): {}", node.name, op_name(node.op), what));
}

// Output length of a sliding window (conv or pool) along one axis.
int64_t window_out(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t kernel, int64_t stride,
                   int64_t dilation, bool ceil_mode) {
  int64_t span = in + pad_begin + pad_end - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // As PyTorch and ONNX: the last window must start inside the input or its leading pad.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

// A conv's optional bias holds one value per output channel.
Status check_bias(const Node& node, std::span<const Shape> shapes, int64_t channels) {
  if (node.inputs.size() < 3) return {};
  const Shape& b = shapes[node.inputs[2]];
  if (b.rank() != 1 || b[0] != channels)
    return fail(node, fmt::format("bias {} does not have one value per output channel ({})", b.to_string(), channels));
  return {};
}

Status conv_shape(const Node& node, const Shape& x, const Shape& w, Shape* out) {
  const auto& a = std::get<ConvAttrs>(node.attrs);
  if (x.rank() != 4 || w.rank() != 4)
    return fail(node, fmt::format("takes 4-D input and weight, got {} and {}", x.to_string(), w.to_string()));
  if (x[1] != w[1] * a.group || w[0] % a.group != 0)
    return fail(node, fmt::format("input {} has {} channels; weight {} with group {} expects {}",
                                  x.to_string(), x[1], w.to_string(), a.group, w[1] * a.group));
  *out = x;
  (*out)[1] = w[0];
  for (int i = 0; i < 2; ++i) {
    int64_t o = window_out(x[2 + i], a.pads[i], a.pads[2 + i], a.kernel[i], a.strides[i], a.dilations[i], false);
    if (o < 1)
      return fail(node, fmt::format("input {} is too small for the {}x{} kernel", x.to_string(), a.kernel[0],
                                    a.kernel[1]));
    (*out)[2 + i] = o;
  }
  return {};
}

Status conv_transpose_shape(const Node& node, const Shape& x, const Shape& w, Shape* out) {
  const auto& a = std::get<ConvAttrs>(node.attrs);
  if (x.rank() != 4 || w.rank() != 4 || x[1] != w[0])
    return fail(node, fmt::format("input {} does not match weight {}", x.to_string(), w.to_string()));
  *out = x;
  (*out)[1] = w[1] * a.group;
  for (int i = 0; i < 2; ++i) {
    int64_t o = (x[2 + i] - 1) * a.strides[i] - a.pads[i] - a.pads[2 + i] + a.dilations[i] * (a.kernel[i] - 1) +
                a.output_padding[i] + 1;
    if (o < 1) return fail(node, fmt::format("input {} gives an empty output", x.to_string()));
    (*out)[2 + i] = o;
  }
  return {};
}

Status pool_shape(const Node& node, const Shape& x, Shape* out) {
  const auto& a = std::get<PoolAttrs>(node.attrs);
  if (x.rank() != 4) return fail(node, fmt::format("takes a 4-D input, got {}", x.to_string()));
  *out = x;
  for (int i = 0; i < 2; ++i) {
    int64_t o =
        window_out(x[2 + i], a.pads[i], a.pads[2 + i], a.kernel[i], a.strides[i], a.dilations[i], a.ceil_mode);
    if (o < 1) return fail(node, fmt::format("input {} is smaller than the pooling window", x.to_string()));
    (*out)[2 + i] = o;
  }
  return {};
}

// Numpy-style broadcasting of two shapes, aligned on the right.
Status broadcast_shape(const Node& node, const Shape& a, const Shape& b, Shape* out) {
  int rank = std::max(a.rank(), b.rank());
  Shape s;
  for (int i = 0; i < rank; ++i) {
    int ia = i - (rank - a.rank()), ib = i - (rank - b.rank());
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return fail(node, fmt::format("cannot broadcast {} with {} (axis {}: {} vs {})", a.to_string(), b.to_string(),
                                    i, da, db));
    s.push_back(da == 1 ? db : da);
  }
  *out = s;
  return {};
}

Status concat_shape(const Node& node, std::span<const Shape> shapes, const std::vector<int>& inputs, Shape* out) {
  const auto& a = std::get<ConcatAttrs>(node.attrs);
  Shape s = shapes[inputs[0]];
  if (a.axis >= s.rank()) return fail(node, fmt::format("axis {} is outside {}", a.axis, s.to_string()));
  for (size_t k = 1; k < inputs.size(); ++k) {
    const Shape& t = shapes[inputs[k]];
    bool same_rank = t.rank() == s.rank();
    for (int i = 0; same_rank && i < s.rank(); ++i)
      if (i != a.axis && t[i] != s[i]) same_rank = false;
    if (!same_rank)
      return fail(node, fmt::format("inputs {} and {} differ outside axis {}", shapes[inputs[0]].to_string(),
                                    t.to_string(), a.axis));
    s[static_cast<int>(a.axis)] += t[static_cast<int>(a.axis)];
  }
  *out = s;
  return {};
}

Status depth_to_space_shape(const Node& node, const Shape& x, Shape* out) {
  const auto& a = std::get<DepthToSpaceAttrs>(node.attrs);
  int64_t bb = a.block * a.block;
  if (x.rank() != 4 || x[1] % bb != 0)
    return fail(node, fmt::format("input {} has channels not divisible by {}", x.to_string(), bb));
  *out = Shape{x[0], x[1] / bb, x[2] * a.block, x[3] * a.block};
  return {};
}

Status resize_shape(const Node& node, const Shape& x, Shape* out) {
  const auto& a = std::get<ResizeAttrs>(node.attrs);
  if (x.rank() != 4) return fail(node, fmt::format("takes a 4-D input, got {}", x.to_string()));
  *out = x;
  for (int i = 0; i < 2; ++i) {
    // ONNX: output size = floor(input size * scale).
    auto o = static_cast<int64_t>(std::floor(static_cast<double>(x[2 + i]) * static_cast<double>(a.scales[i])));
    if (o < 1) return fail(node, fmt::format("input {} resizes to an empty output", x.to_string()));
    (*out)[2 + i] = o;
  }
  return {};
}

Status pad_shape(const Node& node, const Shape& x, Shape* out) {
  const auto& a = std::get<PadAttrs>(node.attrs);
  if (x.rank() != 4) return fail(node, fmt::format("takes a 4-D input, got {}", x.to_string()));
  *out = x;
  for (int i = 0; i < 4; ++i) {
    int64_t o = x[i] + a.pads[i] + a.pads[4 + i];
    if (o < 1) return fail(node, fmt::format("input {} is cropped to nothing", x.to_string()));
    if (a.mode == PadMode::Reflect && (a.pads[i] >= x[i] || a.pads[4 + i] >= x[i]))
      return fail(node, fmt::format("reflect padding of axis {} needs more than {} pixels", i, x[i]));
    (*out)[i] = o;
  }
  return {};
}

Status reduce_shape(const Node& node, const Shape& x, Shape* out) {
  const auto& a = std::get<ReduceAttrs>(node.attrs);
  if (x.rank() != 4) return fail(node, fmt::format("takes a 4-D input, got {}", x.to_string()));
  Shape s;
  for (int i = 0; i < 4; ++i) {
    if (!a.axes[i]) s.push_back(x[i]);
    else if (a.keepdims) s.push_back(1);
  }
  *out = s;
  return {};
}

Status node_shape(const Node& node, std::span<const Shape> shapes, Shape* out) {
  const Shape& x = shapes[node.inputs[0]];
  switch (node.op) {
    case Op::Conv:
      TESSERA_RETURN_IF_ERROR(conv_shape(node, x, shapes[node.inputs[1]], out));
      return check_bias(node, shapes, (*out)[1]);
    case Op::ConvTranspose:
      TESSERA_RETURN_IF_ERROR(conv_transpose_shape(node, x, shapes[node.inputs[1]], out));
      return check_bias(node, shapes, (*out)[1]);
    case Op::Relu:
    case Op::LeakyRelu:
    case Op::Clip:
    case Op::Sigmoid:
    case Op::Tanh:
    case Op::HardSigmoid: *out = x; return {};
    case Op::PRelu: {
      Shape b;
      TESSERA_RETURN_IF_ERROR(broadcast_shape(node, x, shapes[node.inputs[1]], &b));
      if (!(b == x)) return fail(node, "the slope is larger than the input");
      *out = x;
      return {};
    }
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div: return broadcast_shape(node, x, shapes[node.inputs[1]], out);
    case Op::Concat: return concat_shape(node, shapes, node.inputs, out);
    case Op::DepthToSpace: return depth_to_space_shape(node, x, out);
    case Op::Resize: return resize_shape(node, x, out);
    case Op::MaxPool:
    case Op::AveragePool: return pool_shape(node, x, out);
    case Op::Pad: return pad_shape(node, x, out);
    case Op::GlobalAveragePool:
      if (x.rank() != 4) return fail(node, fmt::format("takes a 4-D input, got {}", x.to_string()));
      *out = Shape{x[0], x[1], 1, 1};
      return {};
    case Op::ReduceMean: return reduce_shape(node, x, out);
  }
  return fail(node, "unknown op");
}

}  // namespace

Shape input_shape(const Graph& graph, int input, std::span<const int64_t> dim_values) {
  Shape s;
  for (const InputDim& d : graph.values[graph.inputs[input]].input_dims)
    s.push_back(d.dynamic >= 0 ? dim_values[d.dynamic] : d.fixed);
  return s;
}

Status infer_shapes(const Graph& graph, std::span<const Shape> input_shapes, std::span<Shape> shapes) {
  for (size_t i = 0; i < graph.inputs.size(); ++i) shapes[graph.inputs[i]] = input_shapes[i];
  for (const Node& node : graph.nodes) {
    Shape& out = shapes[node.output];
    TESSERA_RETURN_IF_ERROR(node_shape(node, shapes, &out));
    // Bounds every axis so that no shape rule's arithmetic can overflow, however many nodes grow it.
    for (int64_t d : out)
      if (d > kMaxAxis) return fail(node, fmt::format("its output {} is too large", out.to_string()));
  }
  return {};
}

Result<std::vector<Shape>> shapes_at(const Graph& graph, std::span<const int64_t> dim_values) {
  std::vector<Shape> shapes(graph.values.size());
  for (size_t v = 0; v < graph.values.size(); ++v)
    if (graph.values[v].kind == ValueKind::Constant) shapes[v] = graph.values[v].constant_shape;
  std::vector<Shape> inputs;
  for (size_t i = 0; i < graph.inputs.size(); ++i) inputs.push_back(input_shape(graph, static_cast<int>(i), dim_values));
  TESSERA_RETURN_IF_ERROR(infer_shapes(graph, inputs, shapes));
  return shapes;
}

bool can_run_in_place(const Node& node, const Shape& input, const Shape& output) {
  return op_info(node.op).kind == OpKind::Elementwise && input == output;
}

}  // namespace tessera::ir
