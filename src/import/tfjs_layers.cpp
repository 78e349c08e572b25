// Converters from Keras layers (as TF.js layers-model files store them, channels_last) to ir nodes
// on NCHW activations: kernels are transposed to OIHW and channel axes become axis 1.
#include <algorithm>
#include <fmt/format.h>
#include <functional>
#include <limits>
#include <regex>

#include "import/tfjs_context.h"

namespace tessera::tfjs_import {

namespace {

using ir::Op;

Status expect_inputs(const Layer& layer, const std::vector<int>& inputs, size_t min, size_t max) {
  if (inputs.size() >= min && inputs.size() <= max) return {};
  std::string wanted = min == max ? std::to_string(min) : fmt::format("at least {}", min);
  return layer.error(Error::InvalidModel, fmt::format("takes {} input(s), got {}", wanted, inputs.size()));
}

// A Keras activation function as its own node after `x` (none for linear): the backends fuse it
// into the convolution before it.
Result<int> activation(Context& ctx, const Layer& layer, const std::string& fn, const std::string& node, int x) {
  if (fn == "linear") return x;
  if (fn == "relu") return ctx.emit(node, Op::Relu, {x});
  if (fn == "relu6") return ctx.emit(node, Op::Clip, {x}, ir::ClipAttrs{0.0f, 6.0f});
  if (fn == "sigmoid") return ctx.emit(node, Op::Sigmoid, {x});
  if (fn == "tanh") return ctx.emit(node, Op::Tanh, {x});
  if (fn == "hard_sigmoid") return ctx.emit(node, Op::HardSigmoid, {x}, ir::HardSigmoidAttrs{0.2f, 0.5f});
  return layer.error(Error::Unsupported, fmt::format("activation '{}' is not supported (linear, relu, relu6, sigmoid, "
                                                     "tanh and hard_sigmoid are)",
                                                     fn));
}

// TF's 'same' padding on one axis: total = max(effective_kernel - (size % stride or stride), 0), the
// larger half after. With a stride above 1 it depends on the size unless the kernel is 1.
Result<std::array<int64_t, 2>> same_pads(const Layer& layer, int64_t kernel, int64_t stride, int64_t dilation) {
  int64_t effective = dilation * (kernel - 1) + 1;
  int64_t total = std::max<int64_t>(effective - stride, 0);
  for (int64_t rest = 1; rest < stride; ++rest)
    if (std::max<int64_t>(effective - rest, 0) != total)
      return layer.error(Error::Unsupported,
                         fmt::format("padding 'same' with stride {} and kernel {} pads by an amount that depends on "
                                     "the input size; tessera supports 'same' with stride 1 (or a 1x1 kernel), and "
                                     "'valid'",
                                     stride, kernel));
  return std::array<int64_t, 2>{total / 2, total - total / 2};
}

Result<int> conv2d(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 1, 1));
  TESSERA_ASSIGN_OR_RETURN(int64_t filters, layer.integer("filters", std::nullopt));
  TESSERA_ASSIGN_OR_RETURN(auto kernel, layer.pair("kernel_size", std::nullopt));
  ir::ConvAttrs a;
  a.kernel = kernel;
  TESSERA_ASSIGN_OR_RETURN(a.strides, layer.pair("strides", std::array<int64_t, 2>{1, 1}));
  TESSERA_ASSIGN_OR_RETURN(a.dilations, layer.pair("dilation_rate", std::array<int64_t, 2>{1, 1}));
  TESSERA_ASSIGN_OR_RETURN(a.group, layer.integer("groups", 1));
  TESSERA_ASSIGN_OR_RETURN(std::string padding, layer.string("padding", "valid"));
  TESSERA_ASSIGN_OR_RETURN(bool use_bias, layer.boolean("use_bias", true));
  TESSERA_ASSIGN_OR_RETURN(std::string fn, layer.string("activation", "linear"));
  if (filters < 1 || a.group < 1 || filters % a.group != 0)
    return layer.error(Error::InvalidModel, fmt::format("filters {} is not a positive multiple of groups {}", filters, a.group));
  if (padding == "same") {
    for (int i = 0; i < 2; ++i) {
      TESSERA_ASSIGN_OR_RETURN(auto p, same_pads(layer, a.kernel[i], a.strides[i], a.dilations[i]));
      a.pads[i] = p[0];
      a.pads[2 + i] = p[1];
    }
  } else if (padding != "valid") {
    return layer.error(Error::Unsupported, fmt::format("padding '{}' is not supported (same and valid are)", padding));
  }

  // [kh, kw, in/groups, out] -> [out, in/groups, kh, kw]
  TESSERA_ASSIGN_OR_RETURN(const Weight* k, ctx.weight(layer, "kernel", {kernel[0], kernel[1], -1, filters}));
  const int64_t kh = kernel[0], kw = kernel[1], in = k->shape[2];
  std::vector<float> oihw(k->data.size());
  for (int64_t y = 0; y < kh; ++y)
    for (int64_t x = 0; x < kw; ++x)
      for (int64_t i = 0; i < in; ++i)
        for (int64_t o = 0; o < filters; ++o)
          oihw[((o * in + i) * kh + y) * kw + x] = k->data[((y * kw + x) * in + i) * filters + o];
  std::vector<int> conv_inputs = {
      inputs[0], ctx.graph.add_constant(layer.name() + "/kernel", Shape{filters, in, kh, kw}, std::move(oihw))};
  if (use_bias) {
    TESSERA_ASSIGN_OR_RETURN(const Weight* b, ctx.weight(layer, "bias", {filters}));
    conv_inputs.push_back(ctx.graph.add_constant(layer.name() + "/bias", Shape{filters}, b->data));
  }
  int y = ctx.emit(layer.name(), Op::Conv, std::move(conv_inputs), a);
  return activation(ctx, layer, fn, layer.name() + "/" + fn, y);
}

Result<int> activation_layer(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 1, 1));
  TESSERA_ASSIGN_OR_RETURN(std::string fn, layer.string("activation", std::nullopt));
  return activation(ctx, layer, fn, layer.name(), inputs[0]);
}

// Keras ReLU: max_value caps it, negative_slope leaks below 0.
Result<int> relu_layer(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 1, 1));
  TESSERA_ASSIGN_OR_RETURN(double threshold, layer.number("threshold", 0.0));
  TESSERA_ASSIGN_OR_RETURN(double slope, layer.number("negative_slope", 0.0));
  if (threshold != 0.0) return layer.error(Error::Unsupported, "a threshold other than 0 is not supported");
  if (!layer.has("max_value"))
    return slope == 0.0 ? ctx.emit(layer.name(), Op::Relu, {inputs[0]})
                        : ctx.emit(layer.name(), Op::LeakyRelu, {inputs[0]}, ir::LeakyReluAttrs{static_cast<float>(slope)});
  TESSERA_ASSIGN_OR_RETURN(double max_value, layer.number("max_value", std::nullopt));
  if (slope == 0.0) return ctx.emit(layer.name(), Op::Clip, {inputs[0]}, ir::ClipAttrs{0.0f, static_cast<float>(max_value)});
  int leaky = ctx.emit(layer.name() + "/leaky", Op::LeakyRelu, {inputs[0]}, ir::LeakyReluAttrs{static_cast<float>(slope)});
  return ctx.emit(layer.name(), Op::Clip, {leaky},
                  ir::ClipAttrs{std::numeric_limits<float>::lowest(), static_cast<float>(max_value)});
}

Result<int> leaky_relu(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 1, 1));
  TESSERA_ASSIGN_OR_RETURN(double alpha, layer.number("alpha", 0.3));
  return ctx.emit(layer.name(), Op::LeakyRelu, {inputs[0]}, ir::LeakyReluAttrs{static_cast<float>(alpha)});
}

// PReLU's alpha has the input's shape [H, W, C] with the shared axes (1-based) set to 1; height and
// width are dynamic, so both must be shared.
Result<int> prelu(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 1, 1));
  TESSERA_ASSIGN_OR_RETURN(std::vector<int64_t> shared, layer.integers("shared_axes"));
  auto is_shared = [&](int64_t axis) { return std::find(shared.begin(), shared.end(), axis) != shared.end(); };
  if (!is_shared(1) || !is_shared(2))
    return layer.error(Error::Unsupported, "a slope per pixel needs a fixed image size; share axes 1 and 2 "
                                           "(shared_axes=[1, 2]) for one slope per channel");
  TESSERA_ASSIGN_OR_RETURN(const Weight* alpha, ctx.weight(layer, "alpha", {1, 1, is_shared(3) ? 1 : -1}));
  int64_t channels = alpha->shape[2];
  Shape shape = is_shared(3) ? Shape{1} : Shape{1, channels, 1, 1};
  int slope = ctx.graph.add_constant(layer.name() + "/alpha", shape, alpha->data);
  return ctx.emit(layer.name(), Op::PRelu, {inputs[0], slope});
}

// Keras adds left to right: ((a + b) + c) + ...
Result<int> add(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 2, SIZE_MAX));
  int sum = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    std::string name = i + 1 == inputs.size() ? layer.name() : fmt::format("{}/{}", layer.name(), i);
    sum = ctx.emit(name, Op::Add, {sum, inputs[i]});
  }
  return sum;
}

Result<int> concatenate(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 2, SIZE_MAX));
  TESSERA_ASSIGN_OR_RETURN(int64_t axis, layer.integer("axis", -1));
  if (axis != -1 && axis != 3)
    return layer.error(Error::Unsupported,
                       fmt::format("concatenation along axis {} is not supported; tessera concatenates channels "
                                   "(axis -1 or 3)",
                                   axis));
  return ctx.emit(layer.name(), Op::Concat, inputs, ir::ConcatAttrs{1});
}

// Keras upsamples nearest by repeating pixels (floor(y / s)) and bilinear with half-pixel centers.
Result<int> upsampling(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 1, 1));
  TESSERA_ASSIGN_OR_RETURN(auto size, layer.pair("size", std::array<int64_t, 2>{2, 2}));
  TESSERA_ASSIGN_OR_RETURN(std::string interpolation, layer.string("interpolation", "nearest"));
  ir::ResizeAttrs a;
  a.scales = {static_cast<float>(size[0]), static_cast<float>(size[1])};
  if (interpolation == "nearest") {
    a.mode = ir::ResizeMode::Nearest;
    a.coordinate_mode = ir::CoordinateMode::Asymmetric;
    a.nearest_mode = ir::NearestMode::Floor;
  } else if (interpolation == "bilinear") {
    a.mode = ir::ResizeMode::Linear;
    a.coordinate_mode = ir::CoordinateMode::HalfPixel;
  } else {
    return layer.error(Error::Unsupported,
                       fmt::format("interpolation '{}' is not supported (nearest and bilinear are)", interpolation));
  }
  return ctx.emit(layer.name(), Op::Resize, {inputs[0]}, a);
}

// UpscalerJS's residual scaling: x * beta (0.2 in every shipped model).
Result<int> multiply_beta(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 1, 1));
  TESSERA_ASSIGN_OR_RETURN(double beta, layer.number("beta", 0.2));
  int b = ctx.graph.add_constant(layer.name() + "/beta", Shape{1}, {static_cast<float>(beta)});
  return ctx.emit(layer.name(), Op::Mul, {inputs[0], b});
}

// UpscalerJS's PixelShuffle<s>x: tf.depthToSpace in NHWC, whose channel order (i, j, c) is ONNX's DCR.
Result<int> pixel_shuffle(Context& ctx, const Layer& layer, const std::vector<int>& inputs, int64_t block) {
  TESSERA_RETURN_IF_ERROR(expect_inputs(layer, inputs, 1, 1));
  TESSERA_ASSIGN_OR_RETURN(int64_t scale, layer.integer("scale", block));
  if (scale != block)
    return layer.error(Error::InvalidModel, fmt::format("'scale' is {} but the class name says {}", scale, block));
  return ctx.emit(layer.name(), Op::DepthToSpace, {inputs[0]}, ir::DepthToSpaceAttrs{block, ir::DepthToSpaceMode::DCR});
}

using Converter = std::function<Result<int>(Context&, const Layer&, const std::vector<int>&)>;

const std::map<std::string, Converter>& converters() {
  static const std::map<std::string, Converter> table = {
      {"Conv2D", conv2d},          {"Activation", activation_layer},   {"ReLU", relu_layer},
      {"LeakyReLU", leaky_relu},   {"PReLU", prelu},                   {"Add", add},
      {"Concatenate", concatenate}, {"UpSampling2D", upsampling},      {"MultiplyBeta", multiply_beta},
  };
  return table;
}

std::string supported_classes() {
  std::string out = "InputLayer";
  for (const auto& [name, converter] : converters()) out += ", " + name;
  return out + ", PixelShuffle<s>x";
}

// Config values every layer class may carry that tessera cannot honour.
Status check_common_config(const Layer& layer) {
  TESSERA_ASSIGN_OR_RETURN(std::string data_format, layer.string("data_format", "channels_last"));
  if (data_format != "channels_last")
    return layer.error(Error::Unsupported, fmt::format("data_format '{}' is not supported; tessera reads channels_last "
                                                       "TF.js models",
                                                       data_format));
  TESSERA_ASSIGN_OR_RETURN(std::string dtype, layer.string("dtype", "float32"));
  if (dtype != "float32")
    return layer.error(Error::Unsupported, fmt::format("dtype '{}' is not supported; tessera computes in float32", dtype));
  return {};
}

}  // namespace

Result<int> convert_layer(Context& ctx, const Layer& layer, const std::vector<int>& inputs) {
  TESSERA_RETURN_IF_ERROR(check_common_config(layer));
  static const std::regex pixel_shuffle_class("PixelShuffle([1-9][0-9]?)x");
  std::smatch m;
  if (std::regex_match(layer.class_name(), m, pixel_shuffle_class))
    return pixel_shuffle(ctx, layer, inputs, std::stoi(m[1].str()));
  auto it = converters().find(layer.class_name());
  if (it == converters().end())
    return layer.error(Error::Unsupported, fmt::format("layer class '{}' is not supported; tessera reads {}",
                                                       layer.class_name(), supported_classes()));
  return it->second(ctx, layer, inputs);
}

}  // namespace tessera::tfjs_import
