// One XNNPACK operator per node: which nodes map, how their weights are repacked for NHWC, and the
// setup call for each shape.
#include "backends/xnnpack/xnnpack_ops.h"

#include <cmath>
#include <variant>
#include <vector>

#include "backends/xnnpack/layout.h"
#include "core/check.h"

namespace tessera::xnnpack {
namespace {

using ir::Op;

bool is_binary(Op op) { return op == Op::Add || op == Op::Sub || op == Op::Mul || op == Op::Div; }

bool is_power_of_two_upscale(float scale) { return scale >= 2.0f && scale == std::exp2(std::round(std::log2(scale))); }

// With ceil_mode, XNNPACK (which always floors) gets stride - 1 more padding at the end, which yields
// the ceil output size. Its padded taps never win a max nor count in an average that excludes padding.
// That is only right when no window would start in the end padding (ONNX drops such a window, XNNPACK
// would not), which holds when pad_end + stride <= the dilated kernel extent.
bool ceil_mode_maps(const ir::PoolAttrs& a) {
  if (!a.ceil_mode) return true;
  for (int i = 0; i < 2; ++i)
    if (a.pads[2 + i] + a.strides[i] > a.dilations[i] * (a.kernel[i] - 1) + 1) return false;
  return true;
}

// XNNPACK's pooling refuses 1x1 windows.
bool pool_maps(const ir::PoolAttrs& a) { return a.kernel[0] * a.kernel[1] > 1 && ceil_mode_maps(a); }

// XNNPACK averages only the real pixels of a window (count_include_pad = 0), has no dilation and
// needs stride <= window.
bool average_pool_maps(const ir::PoolAttrs& a) {
  const bool padded = a.pads[0] || a.pads[1] || a.pads[2] || a.pads[3];
  return pool_maps(a) && !(a.count_include_pad && padded) && a.dilations[0] == 1 && a.dilations[1] == 1 &&
         a.strides[0] <= a.kernel[0] && a.strides[1] <= a.kernel[1];
}

// XNNPACK's bilinear sampling position is computed in float as o * in/out (+ a half-pixel offset).
// It equals the reference's exact one at every position only for power-of-two upscales; align_corners
// (never tiled) only needs to be close.
bool resize_maps(const ir::ResizeAttrs& a) {
  if (a.mode != ir::ResizeMode::Linear) return false;
  if (a.coordinate_mode == ir::CoordinateMode::AlignCorners) return true;
  const bool modes = a.coordinate_mode == ir::CoordinateMode::HalfPixel ||
                     a.coordinate_mode == ir::CoordinateMode::PytorchHalfPixel ||
                     a.coordinate_mode == ir::CoordinateMode::Asymmetric;
  return modes && is_power_of_two_upscale(a.scales[0]) && is_power_of_two_upscale(a.scales[1]);
}

// XNNPACK's PReLU takes one slope per channel: a single slope or one of shape [C,1,1] / [1,C,1,1].
bool prelu_maps(const ModelData& m, const ir::Node& n) {
  const int slope = n.inputs[1];
  if (!is_constant(m, slope)) return false;
  const Shape& s = m.graph.values[slope].constant_shape;
  if (s.element_count() == 1) return true;
  const std::array<size_t, 4> d = nhwc_dims(s);  // [N, H, W, C]
  return s.rank() <= 4 && d[0] == 1 && d[1] == 1 && d[2] == 1 &&
         static_cast<int64_t>(d[3]) == m.upper_shapes[n.inputs[0]][1];
}

bool weights_are_constant(const ModelData& m, const ir::Node& n) {
  return is_constant(m, n.inputs[1]) && m.graph.values[n.inputs[1]].constant_shape.rank() == 4 &&
         (n.inputs.size() < 3 || is_constant(m, n.inputs[2]));
}

// The estimated bytes of XNNPACK's indirection buffer: one pointer per tap per output pixel.
int64_t indirection_bytes(const Shape& upper_output, int64_t taps) {
  return upper_output[0] * upper_output[2] * upper_output[3] * taps * static_cast<int64_t>(sizeof(void*));
}

class XnnpackStep : public Step {
 public:
  XnnpackStep(const ModelData& model, const ir::Node& node, const NodePlan& plan)
      : model_(model),
        node_(node),
        output_(plan.output),
        in_stride_(static_cast<size_t>(plan.input_stride)),
        out_stride_(static_cast<size_t>(plan.output_stride)) {
    const Shape& x = model.upper_shapes[node.inputs[0]];
    channels_ = x.rank() == 4 ? x[1] : 0;
  }

  Status create(const NodePlan& plan);
  Status setup(const StepContext& ctx) override;
  Status run(const StepContext& ctx) override {
    return check(xnn_run_operator(op_.get(), ctx.pool), node_, "xnn_run_operator");
  }
  int64_t extra_bytes() const override { return extra_bytes_; }

 private:
  Status create_conv(const NodePlan& plan, xnn_operator_t* op);
  Status create_conv_transpose(const NodePlan& plan, xnn_operator_t* op);
  Status create_binary(const NodePlan& plan, xnn_operator_t* op);
  Status create_pool(xnn_operator_t* op);
  Status create_other(xnn_operator_t* op);
  Status setup_binary(const StepContext& ctx, float* out);

  const float* constant(int k) const { return model_.graph.values[node_.inputs[k]].constant_data; }
  const Shape& constant_shape(int k) const { return model_.graph.values[node_.inputs[k]].constant_shape; }
  const Shape& upper_output() const { return model_.upper_shapes[node_.output]; }

  const ModelData& model_;
  const ir::Node& node_;
  int output_;
  int64_t channels_ = 0;  // the input's channels, fixed when the operator is created (binary ops excepted)
  size_t in_stride_, out_stride_;  // floats from one pixel to the next in the input and the output
  Operator op_;
  std::array<std::vector<float>, 2> operands_;  // NHWC copies of a binary op's constant operands
  int64_t extra_bytes_ = 0;
};

Status XnnpackStep::create(const NodePlan& plan) {
  xnn_operator_t op = nullptr;
  Status status;
  switch (node_.op) {
    case Op::Conv:
      status = create_conv(plan, &op);
      break;
    case Op::ConvTranspose:
      status = create_conv_transpose(plan, &op);
      break;
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
      status = create_binary(plan, &op);
      break;
    case Op::MaxPool:
    case Op::AveragePool:
      status = create_pool(&op);
      break;
    case Op::Relu:
    case Op::LeakyRelu:
    case Op::PRelu:
    case Op::Clip:
    case Op::Sigmoid:
    case Op::Tanh:
    case Op::HardSigmoid:
    case Op::Concat:
    case Op::DepthToSpace:
    case Op::Resize:
    case Op::Pad:
    case Op::GlobalAveragePool:
    case Op::ReduceMean:
      status = create_other(&op);
      break;
  }
  op_.reset(op);
  return status;
}

// ONNX weights [O][I/g][kh][kw] become XNNPACK's [O][kh][kw][I/g]. With crd_block = b, output channel
// (i*b + j)*C + c takes ONNX channel c*b*b + i*b + j, so that XNNPACK's DCR DepthToSpace of this
// output equals the ONNX CRD one of the original.
Status XnnpackStep::create_conv(const NodePlan& plan, xnn_operator_t* op) {
  const auto& a = std::get<ir::ConvAttrs>(node_.attrs);
  const Shape& ws = constant_shape(1);
  const int64_t out_c = ws[0], group_in = ws[1], kh = ws[2], kw = ws[3], taps = kh * kw;
  std::vector<int64_t> source(out_c);  // output channel -> ONNX channel
  for (int64_t o = 0; o < out_c; ++o) source[o] = o;
  if (const int64_t b = plan.crd_block; b > 0) {
    const int64_t c_out = out_c / (b * b);
    for (int64_t c = 0; c < c_out; ++c)
      for (int64_t ij = 0; ij < b * b; ++ij) source[ij * c_out + c] = c * b * b + ij;
  }
  std::vector<float> weights(out_c * taps * group_in), bias;
  for (int64_t o = 0; o < out_c; ++o)
    for (int64_t ci = 0; ci < group_in; ++ci)
      for (int64_t t = 0; t < taps; ++t)
        weights[(o * taps + t) * group_in + ci] = constant(1)[(source[o] * group_in + ci) * taps + t];
  if (node_.inputs.size() == 3) {
    bias.resize(out_c);
    for (int64_t o = 0; o < out_c; ++o) bias[o] = constant(2)[source[o]];
  }
  const bool pointwise = taps == 1 && a.strides[0] == 1 && a.strides[1] == 1 && a.pads == std::array<int64_t, 4>{};
  extra_bytes_ = static_cast<int64_t>((weights.size() + out_c) * sizeof(float)) +
                 (pointwise ? 0 : indirection_bytes(upper_output(), taps));
  return check(xnn_create_convolution2d_nhwc_f32(
                   a.pads[0], a.pads[3], a.pads[2], a.pads[1], kh, kw, a.strides[0], a.strides[1], a.dilations[0],
                   a.dilations[1], a.group, group_in, out_c / a.group, in_stride_, out_stride_, weights.data(),
                   bias.empty() ? nullptr : bias.data(), plan.output_min, plan.output_max, 0, op),
               node_, "xnn_create_convolution2d_nhwc_f32");
}

// ONNX weights [I][O/g][kh][kw] (I = g * I/g) become XNNPACK's [g][O/g][kh][kw][I/g]. ONNX pads crop
// the output as XNNPACK's output paddings do; output_padding is XNNPACK's adjustment (at setup).
Status XnnpackStep::create_conv_transpose(const NodePlan& plan, xnn_operator_t* op) {
  const auto& a = std::get<ir::ConvAttrs>(node_.attrs);
  const Shape& ws = constant_shape(1);
  const int64_t in_c = ws[0], group_out = ws[1], kh = ws[2], kw = ws[3], taps = kh * kw;
  const int64_t groups = a.group, group_in = in_c / groups;
  std::vector<float> weights(in_c * group_out * taps);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t o = 0; o < group_out; ++o)
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t i = 0; i < group_in; ++i)
          weights[((g * group_out + o) * taps + t) * group_in + i] =
              constant(1)[((g * group_in + i) * group_out + o) * taps + t];
  extra_bytes_ = static_cast<int64_t>((weights.size() + groups * group_out) * sizeof(float)) +
                 indirection_bytes(upper_output(),
                                   (kh + a.strides[0] - 1) / a.strides[0] * ((kw + a.strides[1] - 1) / a.strides[1]));
  return check(xnn_create_deconvolution2d_nhwc_f32(
                   a.pads[0], a.pads[3], a.pads[2], a.pads[1], kh, kw, a.strides[0], a.strides[1], a.dilations[0],
                   a.dilations[1], groups, group_in, group_out, in_stride_, out_stride_, weights.data(),
                   node_.inputs.size() == 3 ? constant(2) : nullptr, plan.output_min, plan.output_max, 0, op),
               node_, "xnn_create_deconvolution2d_nhwc_f32");
}

Status XnnpackStep::create_binary(const NodePlan& plan, xnn_operator_t* op) {
  for (int k = 0; k < 2; ++k) {
    if (!is_constant(model_, node_.inputs[k])) continue;
    operands_[k] = constant_to_nhwc(constant(k), constant_shape(k));
    operands_[k].resize(operands_[k].size() + XNN_EXTRA_BYTES / sizeof(float));  // readable slack
    extra_bytes_ += static_cast<int64_t>(operands_[k].size() * sizeof(float));
  }
  const float lo = plan.output_min, hi = plan.output_max;
  // Called for the binary ops only (create()).
  if (node_.op == Op::Add) return check(xnn_create_add_nd_f32(lo, hi, 0, op), node_, "xnn_create_add_nd_f32");
  if (node_.op == Op::Sub) return check(xnn_create_subtract_nd_f32(lo, hi, 0, op), node_, "xnn_create_subtract_nd_f32");
  if (node_.op == Op::Mul) return check(xnn_create_multiply_nd_f32(lo, hi, 0, op), node_, "xnn_create_multiply_nd_f32");
  return check(xnn_create_divide_nd_f32(lo, hi, 0, op), node_, "xnn_create_divide_nd_f32");
}

Status XnnpackStep::create_pool(xnn_operator_t* op) {
  const auto& a = std::get<ir::PoolAttrs>(node_.attrs);
  const int64_t extra_h = a.ceil_mode ? a.strides[0] - 1 : 0, extra_w = a.ceil_mode ? a.strides[1] - 1 : 0;
  const float inf = std::numeric_limits<float>::infinity();
  const size_t c = static_cast<size_t>(channels_);
  extra_bytes_ = indirection_bytes(upper_output(), a.kernel[0] * a.kernel[1]);
  if (node_.op == Op::MaxPool)
    return check(xnn_create_max_pooling2d_nhwc_f32(a.pads[0], a.pads[3] + extra_w, a.pads[2] + extra_h, a.pads[1],
                                                   a.kernel[0], a.kernel[1], a.strides[0], a.strides[1], a.dilations[0],
                                                   a.dilations[1], c, in_stride_, out_stride_, -inf, inf, 0, op),
                 node_, "xnn_create_max_pooling2d_nhwc_f32");
  return check(
      xnn_create_average_pooling2d_nhwc_f32(a.pads[0], a.pads[3] + extra_w, a.pads[2] + extra_h, a.pads[1], a.kernel[0],
                                            a.kernel[1], a.strides[0], a.strides[1], c, in_stride_, out_stride_, -inf,
                                            inf, 0, op),
      node_, "xnn_create_average_pooling2d_nhwc_f32");
}

Status XnnpackStep::create_other(xnn_operator_t* op) {
  const size_t c = static_cast<size_t>(channels_);
  const float inf = std::numeric_limits<float>::infinity();
  switch (node_.op) {
    case Op::Relu:
      return check(xnn_create_clamp_nc_f32(c, in_stride_, out_stride_, 0.0f, inf, 0, op), node_, "xnn_create_clamp_nc_f32");
    case Op::Clip: {
      const auto& a = std::get<ir::ClipAttrs>(node_.attrs);
      return check(xnn_create_clamp_nc_f32(c, in_stride_, out_stride_, a.min, a.max, 0, op), node_, "xnn_create_clamp_nc_f32");
    }
    case Op::LeakyRelu:
      return check(xnn_create_leaky_relu_nc_f32(c, in_stride_, out_stride_, std::get<ir::LeakyReluAttrs>(node_.attrs).alpha, 0, op), node_,
                   "xnn_create_leaky_relu_nc_f32");
    case Op::PRelu: {
      std::vector<float> slopes(c);
      for (size_t i = 0; i < c; ++i) slopes[i] = constant(1)[constant_shape(1).element_count() == 1 ? 0 : i];
      extra_bytes_ = static_cast<int64_t>(c * sizeof(float));
      return check(xnn_create_prelu_nc_f32(c, in_stride_, out_stride_, slopes.data(), 0, op), node_, "xnn_create_prelu_nc_f32");
    }
    case Op::Sigmoid:
      return check(xnn_create_sigmoid_nc_f32(c, in_stride_, out_stride_, 0, op), node_, "xnn_create_sigmoid_nc_f32");
    case Op::GlobalAveragePool:
      return check(xnn_create_global_average_pooling_nwc_f32(c, in_stride_, out_stride_, -inf, inf, 0, op), node_,
                   "xnn_create_global_average_pooling_nwc_f32");
    case Op::DepthToSpace: {
      const int64_t b = std::get<ir::DepthToSpaceAttrs>(node_.attrs).block;
      return check(xnn_create_depth_to_space_nhwc_x32(c / (b * b), in_stride_, out_stride_, b, 0, op), node_,
                   "xnn_create_depth_to_space_nhwc_x32");
    }
    case Op::Resize: {
      const auto& a = std::get<ir::ResizeAttrs>(node_.attrs);
      const uint32_t flags = a.coordinate_mode == ir::CoordinateMode::AlignCorners ? XNN_FLAG_ALIGN_CORNERS
                             : a.coordinate_mode == ir::CoordinateMode::Asymmetric ? XNN_FLAG_TENSORFLOW_LEGACY_MODE
                                                                                   : 0;
      // Four input pointers and two weights per output pixel.
      extra_bytes_ = indirection_bytes(upper_output(), 4) + upper_output()[2] * upper_output()[3] * 8;
      return check(xnn_create_resize_bilinear2d_nhwc_f32(c, in_stride_, out_stride_, flags, op), node_,
                   "xnn_create_resize_bilinear2d_nhwc_f32");
    }
    case Op::Pad: {
      const float value = std::get<ir::PadAttrs>(node_.attrs).value;
      return check(xnn_create_constant_pad_nd_x32(&value, 0, op), node_, "xnn_create_constant_pad_nd_x32");
    }
    case Op::Conv:
    case Op::ConvTranspose:
    case Op::Tanh:
    case Op::HardSigmoid:
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Concat:
    case Op::MaxPool:
    case Op::AveragePool:
    case Op::ReduceMean:
      break;
  }
  return Status(Error::Internal,
                fmt::format("{} node '{}' has no XNNPACK operator", ir::op_name(node_.op), node_.name));
}

Status XnnpackStep::setup_binary(const StepContext& ctx, float* y) {
  std::array<std::array<size_t, 4>, 2> dims;
  std::array<const float*, 2> data;
  for (int k = 0; k < 2; ++k) {
    const int v = node_.inputs[k];
    const bool constant = !operands_[k].empty();
    dims[k] = nhwc_dims(constant ? constant_shape(k) : ctx.shapes[v]);
    data[k] = constant ? operands_[k].data() : ctx.data[v];
  }
  const size_t* a = dims[0].data();
  const size_t* b = dims[1].data();
  xnn_operator_t op = op_.get();
  // Called for the binary ops only (setup()).
  if (node_.op == Op::Add)
    return check(xnn_setup_add_nd_f32(op, 4, a, 4, b, data[0], data[1], y, ctx.pool), node_, "xnn_setup_add_nd_f32");
  if (node_.op == Op::Sub)
    return check(xnn_setup_subtract_nd_f32(op, 4, a, 4, b, data[0], data[1], y, ctx.pool), node_,
                 "xnn_setup_subtract_nd_f32");
  if (node_.op == Op::Mul)
    return check(xnn_setup_multiply_nd_f32(op, 4, a, 4, b, data[0], data[1], y, ctx.pool), node_,
                 "xnn_setup_multiply_nd_f32");
  return check(xnn_setup_divide_nd_f32(op, 4, a, 4, b, data[0], data[1], y, ctx.pool), node_,
               "xnn_setup_divide_nd_f32");
}

Status XnnpackStep::setup(const StepContext& ctx) {
  float* y = ctx.data[output_];
  if (is_binary(node_.op)) return setup_binary(ctx, y);
  const Shape& xs = ctx.shapes[node_.inputs[0]];
  const Shape& ys = ctx.shapes[node_.output];
  const float* x = ctx.data[node_.inputs[0]];
  // Channel counts are fixed at creation; dynamic dims are height and width.
  TESSERA_CHECK(xs[1] == channels_, Error::Internal,
                "{} node '{}': input {} does not have the {} channels its XNNPACK operator was made for",
                ir::op_name(node_.op), node_.name, xs.to_string(), channels_);
  const size_t n = xs[0], h = xs[2], w = xs[3];
  pthreadpool_t pool = ctx.pool;
  xnn_operator_t op = op_.get();
  switch (node_.op) {
    case Op::Conv:
      return check(xnn_setup_convolution2d_nhwc_f32(op, n, h, w, x, y, pool), node_,
                   "xnn_setup_convolution2d_nhwc_f32");
    case Op::ConvTranspose: {
      const auto& a = std::get<ir::ConvAttrs>(node_.attrs);
      return check(
          xnn_setup_deconvolution2d_nhwc_f32(op, n, h, w, a.output_padding[0], a.output_padding[1], x, y, pool), node_,
          "xnn_setup_deconvolution2d_nhwc_f32");
    }
    case Op::Relu:
    case Op::Clip:
      return check(xnn_setup_clamp_nc_f32(op, n * h * w, x, y, pool), node_, "xnn_setup_clamp_nc_f32");
    case Op::LeakyRelu:
      return check(xnn_setup_leaky_relu_nc_f32(op, n * h * w, x, y, pool), node_, "xnn_setup_leaky_relu_nc_f32");
    case Op::PRelu:
      return check(xnn_setup_prelu_nc_f32(op, n * h * w, x, y, pool), node_, "xnn_setup_prelu_nc_f32");
    case Op::Sigmoid:
      return check(xnn_setup_sigmoid_nc_f32(op, n * h * w, x, y, pool), node_, "xnn_setup_sigmoid_nc_f32");
    case Op::MaxPool:
      return check(xnn_setup_max_pooling2d_nhwc_f32(op, n, h, w, x, y, pool), node_,
                   "xnn_setup_max_pooling2d_nhwc_f32");
    case Op::AveragePool:
      return check(xnn_setup_average_pooling2d_nhwc_f32(op, n, h, w, x, y, pool), node_,
                   "xnn_setup_average_pooling2d_nhwc_f32");
    case Op::GlobalAveragePool:
      return check(xnn_setup_global_average_pooling_nwc_f32(op, n, h * w, x, y, pool), node_,
                   "xnn_setup_global_average_pooling_nwc_f32");
    case Op::DepthToSpace:
      return check(xnn_setup_depth_to_space_nhwc_x32(op, n, h, w, x, y, pool), node_,
                   "xnn_setup_depth_to_space_nhwc_x32");
    case Op::Resize:
      return check(xnn_setup_resize_bilinear2d_nhwc_f32(op, n, h, w, ys[2], ys[3], x, y, pool), node_,
                   "xnn_setup_resize_bilinear2d_nhwc_f32");
    case Op::Pad: {
      // ONNX pads are [N, C, H, W] begins then ends; XNNPACK's are per NHWC axis.
      const auto& p = std::get<ir::PadAttrs>(node_.attrs).pads;
      const std::array<size_t, 4> pre{size_t(p[0]), size_t(p[2]), size_t(p[3]), size_t(p[1])};
      const std::array<size_t, 4> post{size_t(p[4]), size_t(p[6]), size_t(p[7]), size_t(p[5])};
      return check(xnn_setup_constant_pad_nd_x32(op, 4, nhwc_dims(xs).data(), pre.data(), post.data(), x, y, pool),
                   node_, "xnn_setup_constant_pad_nd_x32");
    }
    case Op::Tanh:
    case Op::HardSigmoid:
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Concat:
    case Op::ReduceMean:
      break;
  }
  return Status(Error::Internal,
                fmt::format("{} node '{}' has no XNNPACK operator", ir::op_name(node_.op), node_.name));
}

}  // namespace

bool xnnpack_supports(const ModelData& m, const ir::Node& n) {
  if (m.upper_shapes[n.output].rank() != 4) return false;
  const int x = n.inputs[0];
  switch (n.op) {
    case Op::Conv:
      return rank4_activation(m, x) && weights_are_constant(m, n);
    case Op::ConvTranspose: {
      const auto& a = std::get<ir::ConvAttrs>(n.attrs);
      return rank4_activation(m, x) && weights_are_constant(m, n) && a.output_padding[0] < a.strides[0] &&
             a.output_padding[1] < a.strides[1];
    }
    case Op::Relu:
    case Op::LeakyRelu:
    case Op::Sigmoid:
    case Op::GlobalAveragePool:
      return rank4_activation(m, x);
    case Op::Clip: {
      const auto& a = std::get<ir::ClipAttrs>(n.attrs);
      return rank4_activation(m, x) && a.min < a.max;  // XNNPACK needs min < max (false for NaN too)
    }
    case Op::PRelu:
      return rank4_activation(m, x) && prelu_maps(m, n);
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
      for (int v : n.inputs)
        if (!rank4_activation(m, v) && !(is_constant(m, v) && m.graph.values[v].constant_shape.rank() <= 4))
          return false;
      return true;
    case Op::MaxPool:
      return rank4_activation(m, x) && pool_maps(std::get<ir::PoolAttrs>(n.attrs));
    case Op::AveragePool:
      return rank4_activation(m, x) && average_pool_maps(std::get<ir::PoolAttrs>(n.attrs));
    case Op::DepthToSpace: {
      const auto& a = std::get<ir::DepthToSpaceAttrs>(n.attrs);
      return rank4_activation(m, x) && a.mode == ir::DepthToSpaceMode::DCR && a.block >= 2;
    }
    case Op::Resize:
      return rank4_activation(m, x) && resize_maps(std::get<ir::ResizeAttrs>(n.attrs));
    case Op::Pad: {
      const auto& a = std::get<ir::PadAttrs>(n.attrs);
      bool non_negative = true;
      for (int64_t p : a.pads) non_negative = non_negative && p >= 0;
      return rank4_activation(m, x) && a.mode == ir::PadMode::Constant && non_negative;
    }
    case Op::Tanh:
    case Op::HardSigmoid:
    case Op::Concat:
    case Op::ReduceMean:
      break;
  }
  return false;
}

bool takes_output_clamp(ir::Op op) {
  return op == Op::Conv || op == Op::ConvTranspose || op == Op::Add || op == Op::Sub || op == Op::Mul || op == Op::Div;
}

Result<std::unique_ptr<Step>> make_xnnpack_step(const ModelData& model, const ir::Node& node, const NodePlan& plan) {
  auto step = std::make_unique<XnnpackStep>(model, node, plan);
  TESSERA_RETURN_IF_ERROR(step->create(plan));
  return std::unique_ptr<Step>(std::move(step));
}

}  // namespace tessera::xnnpack
