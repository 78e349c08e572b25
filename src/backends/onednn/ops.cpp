#include "backends/onednn/ops.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "backends/onednn/layout.h"

namespace tessera::onednn {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

namespace {

template <typename A>
const A& attrs_of(const ir::Node& node) {
  return std::get<A>(node.attrs);
}

bool is_constant(const ir::Graph& g, int v) { return g.values[v].kind == ir::ValueKind::Constant; }

// numpy broadcasting of `small` onto `big` (axes aligned right; each equal or 1).
bool broadcasts_onto(const Shape& small, const Shape& big) {
  if (small.rank() > big.rank()) return false;
  for (int i = 0; i < small.rank(); ++i) {
    const int64_t s = small[i], b = big[big.rank() - small.rank() + i];
    if (s != b && s != 1) return false;
  }
  return true;
}

bool is_whole(float scale) { return scale >= 1.0f && scale <= 64.0f && scale == std::floor(scale); }

// Exact in float: (o + 0.5) / n is then a binary fraction, the same for every pixel of a phase.
bool is_power_of_two(float scale) {
  const int n = static_cast<int>(scale);
  return is_whole(scale) && (n & (n - 1)) == 0;
}

std::string resize_reason(const ir::ResizeAttrs& a) {
  using ir::CoordinateMode;
  using ir::NearestMode;
  for (float s : a.scales)
    if (!is_whole(s)) return fmt::format("scale {} is not a whole number (oneDNN samples in float)", s);
  const bool half_pixel =
      a.coordinate_mode == CoordinateMode::HalfPixel || a.coordinate_mode == CoordinateMode::PytorchHalfPixel;
  if (a.mode == ir::ResizeMode::Linear) {
    if (!half_pixel) return "linear sampling with coordinates other than half-pixel";
    if (!is_power_of_two(a.scales[0]) || !is_power_of_two(a.scales[1]))
      return "linear sampling by a scale that is not a power of 2 (oneDNN's float positions would differ between tiles)";
    return "";
  }
  // oneDNN's nearest takes input pixel round((o + 0.5) / n - 0.5) = floor(o / n) for a whole scale
  // n; so do these ONNX modes (a half-pixel position is never exactly halfway between pixels).
  const bool floor_of_quotient =
      (a.coordinate_mode == CoordinateMode::Asymmetric && a.nearest_mode == NearestMode::Floor) ||
      (half_pixel && (a.nearest_mode == NearestMode::RoundPreferFloor || a.nearest_mode == NearestMode::RoundPreferCeil));
  return floor_of_quotient ? "" : "nearest sampling whose rounding differs from oneDNN's";
}

// Eltwise post-op or primitive parameters.
PostOp eltwise(int node, algorithm alg, float alpha = 0.0f, float beta = 0.0f) {
  PostOp op;
  op.node = node;
  op.algorithm = alg;
  op.alpha = alpha;
  op.beta = beta;
  return op;
}

// How value `v` is stored, seen with `rank` axes (leading 1s): constants row-major, activations
// NHWC when they are rank 4 themselves.
memory::desc operand_md(const OpContext& ctx, int v, int rank) {
  const Shape& s = ctx.shapes[v];
  return aligned_md(s, rank, !is_constant(ctx.graph, v) && s.rank() == 4);
}

// The far padding that makes a window of `kernel` taps (dilated) at `stride` over `wide` pixels
// give `narrow` outputs, after `near` pixels of near padding: what floor sizing leaves unread is
// negative, what ceil_mode or output_padding adds is positive.
int64_t far_padding(int64_t narrow, int64_t wide, int64_t kernel, int64_t stride, int64_t dilation, int64_t near) {
  return (narrow - 1) * stride + (kernel - 1) * dilation + 1 - wide - near;
}

// Conv weights are [OC, IC/G, KH, KW] (oihw), ConvTranspose weights [IC, OC/G, KH, KW] (iohw);
// oneDNN takes both as [G,] OC/G, IC/G, KH, KW with the group split off.
memory::desc source_weights_md(const ir::Node& node, const Shape& w) {
  const int64_t g = attrs_of<ir::ConvAttrs>(node).group;
  const bool transposed = node.op == ir::Op::ConvTranspose;
  const int64_t oc_g = transposed ? w[1] : w[0] / g, ic_g = transposed ? w[0] / g : w[1];
  using tag = memory::format_tag;
  if (g == 1) return memory::desc({oc_g, ic_g, w[2], w[3]}, memory::data_type::f32, transposed ? tag::iohw : tag::oihw);
  return memory::desc({g, oc_g, ic_g, w[2], w[3]}, memory::data_type::f32, transposed ? tag::giohw : tag::goihw);
}

// `pd` moved on to implementation number k of ctx.impls, the one chosen at the upper bound. Only
// while the operation descriptor `pd` was made from lives: oneDNN's iterator keeps a pointer to it.
template <typename PrimitiveDesc>
PrimitiveDesc pinned(const OpContext& ctx, size_t k, PrimitiveDesc pd) {
  if (k >= ctx.impls.size()) return pd;
  while (ctx.impls[k] != pd.impl_info_str())
    if (!pd.next_impl())
      throw OpError(fmt::format("oneDNN runs it with '{}' at the upper bound but has no such implementation at this "
                                "shape; tiles would not match the whole image",
                                ctx.impls[k]));
  return pd;
}

dnnl::post_ops post_ops_of(const OpContext& ctx, std::span<const PostOp> list, std::vector<Operand>* operands) {
  dnnl::post_ops ops;
  for (size_t i = 0; i < list.size(); ++i) {
    const PostOp& op = list[i];
    const int arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(static_cast<int>(i));
    switch (op.kind) {
      case PostOp::Kind::Eltwise: ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta); break;
      case PostOp::Kind::Sum: ops.append_sum(1.0f); break;
      case PostOp::Kind::Binary: {
        memory::desc md = operand_md(ctx, op.value, 4);
        ops.append_binary(op.algorithm, md);
        operands->push_back({arg | DNNL_ARG_SRC_1, md, op.value});
        break;
      }
      case PostOp::Kind::Prelu: {
        ops.append_prelu(1 << 1);  // one slope per channel (axis 1); one slope for all is a leaky ReLU
        operands->push_back({arg | DNNL_ARG_WEIGHTS, plain_md(Shape{ctx.shapes[op.value].element_count()}), op.value});
        break;
      }
    }
  }
  return ops;
}

// What part `part` of convolution `n` reads: its input, or one piece of it, from input channel
// `first` on.
struct PartInput {
  int value;
  int64_t first;
};

PartInput part_input(const OpContext& ctx, int n, int part) {
  const std::vector<int>& pieces = ctx.plan.nodes[n].pieces;
  if (pieces.empty()) return {ctx.graph.nodes[n].inputs[0], 0};
  int64_t first = 0;
  for (int i = 0; i < part; ++i) first += ctx.shapes[pieces[i]][1];
  return {pieces[part], first};
}

// The post-ops of part `part`: every part after the first accumulates into the output (sum), and
// the last applies the node's own post-ops.
std::vector<PostOp> part_post_ops(const NodePlan& plan, int part) {
  if (plan.pieces.empty()) return plan.post_ops;
  std::vector<PostOp> ops;
  if (part > 0) ops.push_back({PostOp::Kind::Sum});
  if (part + 1 == conv_parts(plan)) ops.insert(ops.end(), plan.post_ops.begin(), plan.post_ops.end());
  return ops;
}

// The weights of part `part` as stored: all of them, or the input channels of its piece.
memory::desc part_weights_md(const OpContext& ctx, int n, int part) {
  const ir::Node& node = ctx.graph.nodes[n];
  const Shape& w = ctx.shapes[node.inputs[1]];
  if (ctx.plan.nodes[n].pieces.empty()) return source_weights_md(node, w);
  const int64_t channels = ctx.shapes[part_input(ctx, n, part).value][1];
  return memory::desc({w[0], channels, w[2], w[3]}, memory::data_type::f32, {w[1] * w[2] * w[3], w[2] * w[3], w[3], 1});
}

// The data type convolutions multiply in.
memory::data_type conv_type(const OpContext& ctx) {
  return ctx.bf16 ? memory::data_type::bf16 : memory::data_type::f32;
}

// Part `part` of convolution or deconvolution `n` at ctx.shapes, always the direct algorithm:
// Winograd and "auto" give results that depend on where a pixel falls in its tile; held to
// ctx.impls[part] (pinned). Its input in conv_type(), its output fp32.
dnnl::primitive_desc conv_pd(const OpContext& ctx, int n, int part, const memory::desc& weights_md,
                             std::vector<Operand>* operands) {
  const ir::Node& node = ctx.graph.nodes[n];
  const ir::ConvAttrs& a = attrs_of<ir::ConvAttrs>(node);
  const bool transposed = node.op == ir::Op::ConvTranspose;
  const Shape& x = ctx.shapes[part_input(ctx, n, part).value];
  const Shape& w = ctx.shapes[node.inputs[1]];
  const Shape& y = ctx.shapes[node.output];
  const Shape& wide = transposed ? y : x;  // the convolution's input side
  const Shape& narrow = transposed ? x : y;
  memory::dims strides{a.strides[0], a.strides[1]}, dilates{a.dilations[0] - 1, a.dilations[1] - 1};
  memory::dims pad_l{a.pads[0], a.pads[1]}, pad_r(2);
  for (int k = 0; k < 2; ++k)
    pad_r[k] = far_padding(narrow[2 + k], wide[2 + k], w[2 + k], a.strides[k], a.dilations[k], a.pads[k]);
  memory::desc src = activation_md(x, conv_type(ctx)), dst = activation_md(y);
  memory::desc bias = node.inputs.size() == 3 && part == 0 ? plain_md(ctx.shapes[node.inputs[2]]) : memory::desc();
  dnnl::primitive_attr attr = user_scratchpad();
  attr.set_post_ops(post_ops_of(ctx, part_post_ops(ctx.plan.nodes[n], part), operands));
  if (transposed) {
    dnnl::deconvolution_forward::desc d(prop_kind::forward_inference, algorithm::deconvolution_direct, src, weights_md,
                                        bias, dst, strides, dilates, pad_l, pad_r);
    return pinned(ctx, part, dnnl::deconvolution_forward::primitive_desc(d, attr, ctx.engine));
  }
  dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src, weights_md, bias,
                                    dst, strides, dilates, pad_l, pad_r);
  return pinned(ctx, part, dnnl::convolution_forward::primitive_desc(d, attr, ctx.engine));
}

// Part `part`'s weights in whatever layout the implementation prefers.
memory::desc any_weights_md(const OpContext& ctx, int n, int part) {
  return memory::desc(part_weights_md(ctx, n, part).dims(), conv_type(ctx), memory::format_tag::any);
}

std::vector<PrimitiveSpec> conv_primitives(const OpContext& ctx, int n, std::span<const ConvChoice> choices,
                                           std::span<const dnnl::memory> weights) {
  const ir::Node& node = ctx.graph.nodes[n];
  const int out = ctx.plan.nodes[n].output;
  std::vector<PrimitiveSpec> specs;
  for (int part = 0; part < conv_parts(ctx.plan.nodes[n]); ++part) {
    const int x = part_input(ctx, n, part).value;
    Operand src{DNNL_ARG_SRC, activation_md(ctx.shapes[x]), x};
    if (ctx.bf16) {
      Operand copy{DNNL_ARG_DST, activation_md(ctx.shapes[x], memory::data_type::bf16), -1, nullptr, true};
      specs.push_back(
          {dnnl::reorder::primitive_desc(ctx.engine, src.md, ctx.engine, copy.md, user_scratchpad()), {src, copy}});
      src = copy;
      src.arg = DNNL_ARG_SRC;
    }
    std::vector<Operand> operands = {src,
                                     {DNNL_ARG_WEIGHTS, choices[part].weights_md, -1, weights[part].get()},
                                     {DNNL_ARG_DST, activation_md(ctx.shapes[out]), out}};
    if (node.inputs.size() == 3 && part == 0)
      operands.push_back({DNNL_ARG_BIAS, plain_md(ctx.shapes[node.inputs[2]]), node.inputs[2]});
    const size_t own = operands.size();  // conv_pd appends the post-ops' operands
    auto in_layout = [&](const memory::desc& md) { return conv_pd(ctx, n, part, md, &operands); };
    dnnl::primitive_desc pd;
    try {
      pd = in_layout(choices[part].weights_md);
    } catch (const OpError&) {
      // The same implementation, with the weights in the layout it takes at this shape.
      if (!ctx.weights_in) throw;
      operands.resize(own);
      pd = in_layout(any_weights_md(ctx, n, part));
      operands[1] = {DNNL_ARG_WEIGHTS, pd.weights_desc(), -1, ctx.weights_in(part, pd.weights_desc()).get()};
    }
    specs.push_back({std::move(pd), std::move(operands)});
  }
  return specs;
}

std::vector<PrimitiveSpec> eltwise_primitives(const OpContext& ctx, int n) {
  const ir::Node& node = ctx.graph.nodes[n];
  const int out = ctx.plan.nodes[n].output;
  memory::desc md = activation_md(ctx.shapes[out]);
  std::vector<PrimitiveSpec> specs;
  int src = node.inputs[0];
  for (const PostOp& op : unary_post_ops(ctx.graph, n)) {  // HardSigmoid: linear, then clip in place
    dnnl::eltwise_forward::desc d(prop_kind::forward_inference, op.algorithm, md, op.alpha, op.beta);
    specs.push_back({pinned(ctx, specs.size(), dnnl::eltwise_forward::primitive_desc(d, user_scratchpad(), ctx.engine)),
                     {{DNNL_ARG_SRC, md, src}, {DNNL_ARG_DST, md, out}}});
    src = out;
  }
  return specs;
}

std::vector<PrimitiveSpec> binary_primitive(const OpContext& ctx, int n) {
  const ir::Node& node = ctx.graph.nodes[n];
  const int out = node.output;
  const Shape& y = ctx.shapes[out];
  int a = node.inputs[0], b = node.inputs[1];
  const bool commutative = node.op == ir::Op::Add || node.op == ir::Op::Mul;
  const bool over_b = ctx.plan.homes[out] == Home::Arena && ctx.plan.homes[b] == Home::Arena &&
                      ctx.offsets[out] == ctx.offsets[b];
  // oneDNN broadcasts only its second operand and computes in place only over its first: an Add or
  // Mul planned over its second input takes it as the first.
  if (!(ctx.shapes[a] == y) || (commutative && over_b && ctx.shapes[b] == y)) std::swap(a, b);
  algorithm alg = algorithm::binary_add;
  if (node.op == ir::Op::Sub) alg = algorithm::binary_sub;
  if (node.op == ir::Op::Mul) alg = algorithm::binary_mul;
  if (node.op == ir::Op::Div) alg = algorithm::binary_div;
  memory::desc src0 = operand_md(ctx, a, y.rank()), src1 = operand_md(ctx, b, y.rank()), dst = activation_md(y);
  dnnl::binary::desc d(alg, src0, src1, dst);
  return {{pinned(ctx, 0, dnnl::binary::primitive_desc(d, user_scratchpad(), ctx.engine)),
           {{DNNL_ARG_SRC_0, src0, a}, {DNNL_ARG_SRC_1, src1, b}, {DNNL_ARG_DST, dst, out}}}};
}

std::vector<PrimitiveSpec> prelu_primitive(const OpContext& ctx, int n) {
  const ir::Node& node = ctx.graph.nodes[n];
  const Shape& x = ctx.shapes[node.inputs[0]];
  memory::desc data = activation_md(x), slopes = aligned_md(ctx.shapes[node.inputs[1]], x.rank(), false);
  dnnl::prelu_forward::desc d(prop_kind::forward_inference, data, slopes);
  return {{pinned(ctx, 0, dnnl::prelu_forward::primitive_desc(d, user_scratchpad(), ctx.engine)),
           {{DNNL_ARG_SRC, data, node.inputs[0]}, {DNNL_ARG_WEIGHTS, slopes, node.inputs[1]},
            {DNNL_ARG_DST, data, node.output}}}};
}

std::vector<PrimitiveSpec> concat_primitive(const OpContext& ctx, int n) {
  const ir::Node& node = ctx.graph.nodes[n];
  std::vector<memory::desc> srcs;
  std::vector<Operand> operands;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    srcs.push_back(operand_md(ctx, node.inputs[i], 4));
    operands.push_back({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), srcs.back(), node.inputs[i]});
  }
  memory::desc dst = activation_md(ctx.shapes[node.output]);
  operands.push_back({DNNL_ARG_DST, dst, node.output});
  return {{dnnl::concat::primitive_desc(dst, 1, srcs, ctx.engine, user_scratchpad()), std::move(operands)}};
}

// DepthToSpace is a pure copy: a reorder between two strided views.
std::vector<PrimitiveSpec> depth_to_space_primitive(const OpContext& ctx, int n) {
  const ir::Node& node = ctx.graph.nodes[n];
  const ir::DepthToSpaceAttrs& a = attrs_of<ir::DepthToSpaceAttrs>(node);
  DepthToSpaceViews views = depth_to_space_views(ctx.shapes[node.inputs[0]], a.block, a.mode == ir::DepthToSpaceMode::DCR,
                                                 ctx.plan.homes[node.output] == Home::ArenaNchw);
  return {{dnnl::reorder::primitive_desc(ctx.engine, views.src, ctx.engine, views.dst, user_scratchpad()),
           {{DNNL_ARG_SRC, views.src, node.inputs[0]}, {DNNL_ARG_DST, views.dst, node.output}}}};
}

std::vector<PrimitiveSpec> resize_primitive(const OpContext& ctx, int n) {
  const ir::Node& node = ctx.graph.nodes[n];
  const bool nearest = attrs_of<ir::ResizeAttrs>(node).mode == ir::ResizeMode::Nearest;
  memory::desc src = activation_md(ctx.shapes[node.inputs[0]]), dst = activation_md(ctx.shapes[node.output]);
  dnnl::resampling_forward::desc d(prop_kind::forward_inference,
                                   nearest ? algorithm::resampling_nearest : algorithm::resampling_linear, src, dst);
  return {{pinned(ctx, 0, dnnl::resampling_forward::primitive_desc(d, user_scratchpad(), ctx.engine)),
           {{DNNL_ARG_SRC, src, node.inputs[0]}, {DNNL_ARG_DST, dst, node.output}}}};
}

std::vector<PrimitiveSpec> pool_primitive(const OpContext& ctx, int n) {
  const ir::Node& node = ctx.graph.nodes[n];
  const ir::PoolAttrs& a = attrs_of<ir::PoolAttrs>(node);
  const Shape& x = ctx.shapes[node.inputs[0]];
  const Shape& y = ctx.shapes[node.output];
  algorithm alg = algorithm::pooling_max;
  if (node.op == ir::Op::AveragePool)
    alg = a.count_include_pad ? algorithm::pooling_avg_include_padding : algorithm::pooling_avg_exclude_padding;
  memory::dims pad_r(2);
  for (int k = 0; k < 2; ++k)
    pad_r[k] = far_padding(y[2 + k], x[2 + k], a.kernel[k], a.strides[k], a.dilations[k], a.pads[k]);
  memory::desc src = activation_md(x), dst = activation_md(y);
  dnnl::pooling_v2_forward::desc d(prop_kind::forward_inference, alg, src, dst, {a.strides[0], a.strides[1]},
                                   {a.kernel[0], a.kernel[1]}, {a.dilations[0] - 1, a.dilations[1] - 1},
                                   {a.pads[0], a.pads[1]}, pad_r);
  return {{pinned(ctx, 0, dnnl::pooling_v2_forward::primitive_desc(d, user_scratchpad(), ctx.engine)),
           {{DNNL_ARG_SRC, src, node.inputs[0]}, {DNNL_ARG_DST, dst, node.output}}}};
}

}  // namespace

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

std::string reference_reason(const ir::Graph& g, const ir::Node& node, std::span<const Shape> shapes) {
  const Shape& x = shapes[node.inputs[0]];
  const Shape& y = shapes[node.output];
  using ir::Op;
  switch (node.op) {
    case Op::Conv:
    case Op::ConvTranspose: {
      bool constant_params = is_constant(g, node.inputs[1]) && (node.inputs.size() < 3 || is_constant(g, node.inputs[2]));
      if (x.rank() != 4 || !constant_params) return "weights or bias computed at run time";
      return "";
    }
    case Op::Relu:
    case Op::LeakyRelu:
    case Op::Clip:
    case Op::Sigmoid:
    case Op::Tanh:
    case Op::HardSigmoid:
    case Op::DepthToSpace: return "";
    case Op::PRelu: {
      const Shape& slope = shapes[node.inputs[1]];
      bool per_channel = x.rank() == 4 && slope.element_count() == x[1] && broadcasts_onto(slope, Shape{1, x[1], 1, 1});
      if (!is_constant(g, node.inputs[1]) || !(slope.element_count() == 1 || per_channel))
        return "slopes that are not one constant or one constant per channel";
      return "";
    }
    case Op::Add:
    case Op::Mul:
      if (shapes[node.inputs[1]] == y && broadcasts_onto(x, y)) return "";
      [[fallthrough]];
    case Op::Sub:
    case Op::Div:
      if (x == y && broadcasts_onto(shapes[node.inputs[1]], y)) return "";
      return "a broadcast oneDNN cannot do (it broadcasts only the second operand)";
    case Op::Concat:
      return attrs_of<ir::ConcatAttrs>(node).axis == 1 && y.rank() == 4 ? "" : "concatenation along an axis other than channels";
    case Op::Resize: return resize_reason(attrs_of<ir::ResizeAttrs>(node));
    case Op::MaxPool: return "";
    case Op::AveragePool: {
      const ir::PoolAttrs& a = attrs_of<ir::PoolAttrs>(node);
      if (a.dilations[0] != 1 || a.dilations[1] != 1) return "dilated average pooling";
      // oneDNN divides a window that ceil_mode lets run past the padded input by the whole kernel.
      if (a.ceil_mode && a.count_include_pad) return "ceil_mode with count_include_pad";
      return "";
    }
    case Op::Pad:
    case Op::GlobalAveragePool:
    case Op::ReduceMean: return "no oneDNN primitive mapped";
  }
  return "unknown op";
}

std::vector<PostOp> unary_post_ops(const ir::Graph& g, int n) {
  const ir::Node& node = g.nodes[n];
  switch (node.op) {
    case ir::Op::Relu: return {eltwise(n, algorithm::eltwise_relu)};
    case ir::Op::LeakyRelu: return {eltwise(n, algorithm::eltwise_relu, attrs_of<ir::LeakyReluAttrs>(node).alpha)};
    case ir::Op::Clip: {
      const ir::ClipAttrs& a = attrs_of<ir::ClipAttrs>(node);
      return {eltwise(n, algorithm::eltwise_clip, a.min, a.max)};
    }
    case ir::Op::Sigmoid: return {eltwise(n, algorithm::eltwise_logistic)};
    case ir::Op::Tanh: return {eltwise(n, algorithm::eltwise_tanh)};
    case ir::Op::HardSigmoid: {  // oneDNN 2.6 has no hardsigmoid: alpha*x + beta, then clip to [0, 1]
      const ir::HardSigmoidAttrs& a = attrs_of<ir::HardSigmoidAttrs>(node);
      return {eltwise(n, algorithm::eltwise_linear, a.alpha, a.beta), eltwise(n, algorithm::eltwise_clip, 0.0f, 1.0f)};
    }
    case ir::Op::PRelu: {
      // One slope is a leaky ReLU, which has a JIT kernel at every shape (prelu has only the reference one).
      const ir::Value& slope = g.values[node.inputs[1]];
      if (slope.constant_shape.element_count() == 1) return {eltwise(n, algorithm::eltwise_relu, slope.constant_data[0])};
      PostOp op;
      op.kind = PostOp::Kind::Prelu;
      op.node = n;
      op.value = node.inputs[1];
      return {op};
    }
    case ir::Op::Conv:
    case ir::Op::ConvTranspose:
    case ir::Op::Add:
    case ir::Op::Sub:
    case ir::Op::Mul:
    case ir::Op::Div:
    case ir::Op::Concat:
    case ir::Op::DepthToSpace:
    case ir::Op::Resize:
    case ir::Op::MaxPool:
    case ir::Op::AveragePool:
    case ir::Op::Pad:
    case ir::Op::GlobalAveragePool:
    case ir::Op::ReduceMean: break;
  }
  return {};  // not a unary op
}

int conv_parts(const NodePlan& plan) { return plan.pieces.empty() ? 1 : static_cast<int>(plan.pieces.size()); }

ConvChoice choose_conv(const OpContext& ctx, int n, int part) {
  std::vector<Operand> unused;
  dnnl::primitive_desc pd = conv_pd(ctx, n, part, any_weights_md(ctx, n, part), &unused);
  return {pd.weights_desc(), pd.impl_info_str()};
}

dnnl::memory pack_weights(const OpContext& ctx, int n, int part, const memory::desc& md, dnnl::stream& stream) {
  const ir::Node& node = ctx.graph.nodes[n];
  const ir::Value& w = ctx.graph.values[node.inputs[1]];
  const int64_t taps = w.constant_shape[2] * w.constant_shape[3];
  const float* first = w.constant_data + part_input(ctx, n, part).first * taps;  // the piece's first input channel
  memory source(part_weights_md(ctx, n, part), ctx.engine, const_cast<float*>(first));
  memory packed(md, ctx.engine);
  dnnl::reorder(source, packed).execute(stream, source, packed);
  stream.wait();
  return packed;
}

std::vector<PrimitiveSpec> make_primitives(const OpContext& ctx, int n, std::span<const ConvChoice> convs,
                                           std::span<const dnnl::memory> weights) {
  switch (ctx.graph.nodes[n].op) {
    case ir::Op::Conv:
    case ir::Op::ConvTranspose: return conv_primitives(ctx, n, convs, weights);
    case ir::Op::Relu:
    case ir::Op::LeakyRelu:
    case ir::Op::Clip:
    case ir::Op::Sigmoid:
    case ir::Op::Tanh:
    case ir::Op::HardSigmoid: return eltwise_primitives(ctx, n);
    case ir::Op::PRelu:
      return unary_post_ops(ctx.graph, n)[0].kind == PostOp::Kind::Eltwise ? eltwise_primitives(ctx, n)
                                                                           : prelu_primitive(ctx, n);
    case ir::Op::Add:
    case ir::Op::Sub:
    case ir::Op::Mul:
    case ir::Op::Div: return binary_primitive(ctx, n);
    case ir::Op::Concat: return concat_primitive(ctx, n);
    case ir::Op::DepthToSpace: return depth_to_space_primitive(ctx, n);
    case ir::Op::Resize: return resize_primitive(ctx, n);
    case ir::Op::MaxPool:
    case ir::Op::AveragePool: return pool_primitive(ctx, n);
    case ir::Op::Pad:
    case ir::Op::GlobalAveragePool:
    case ir::Op::ReduceMean: break;
  }
  throw OpError("no oneDNN primitive for this op");
}

}  // namespace tessera::onednn
