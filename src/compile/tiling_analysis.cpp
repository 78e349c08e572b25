#include "compile/tiling_analysis.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <optional>

#include "core/rational.h"
#include "ir/shape_inference.h"
#include "ir/validate.h"

namespace tessera::tiling {

namespace {

// The largest resolution ratio (numerator or denominator) and alignment the analysis handles: far
// beyond any real network, small enough that its coordinate arithmetic stays within 64 bits.
constexpr int64_t kMaxRatio = int64_t{1} << 16;

// The spatial index (0 = height, 1 = width) of NCHW axis 2 or 3.
int spatial(int axis) { return axis - 2; }

std::string refuse(const ir::Node& node, const std::string& why) {
  return fmt::format("node '{}' ({}) {}", node.name, ir::op_name(node.op), why);
}

// The input coordinate (a rational n/d) that Resize output pixel x reads, as ONNX defines it.
struct Coordinate {
  int64_t n;
  int64_t d;
};
Coordinate resize_coordinate(const ir::ResizeAttrs& a, Rational f, int64_t x) {
  switch (a.coordinate_mode) {
    case ir::CoordinateMode::Asymmetric: return {x * f.den, f.num};
    case ir::CoordinateMode::TfHalfPixelForNearest: return {(2 * x + 1) * f.den, 2 * f.num};
    default: return {(2 * x + 1) * f.den - f.num, 2 * f.num};  // half_pixel, pytorch_half_pixel
  }
}

// The input pixels Resize output pixel x reads (before the border clamp).
Interval resize_taps(const ir::ResizeAttrs& a, Rational f, int64_t x) {
  Coordinate c = resize_coordinate(a, f, x);
  if (a.mode == ir::ResizeMode::Linear) {
    int64_t x0 = floor_div(c.n, c.d);
    return {x0, x0 + 1};
  }
  int64_t i = 0;
  switch (a.nearest_mode) {
    case ir::NearestMode::Floor: i = floor_div(c.n, c.d); break;
    case ir::NearestMode::Ceil: i = ceil_div(c.n, c.d); break;
    case ir::NearestMode::RoundPreferFloor: i = ceil_div(2 * c.n - c.d, 2 * c.d); break;
    case ir::NearestMode::RoundPreferCeil: i = floor_div(2 * c.n + c.d, 2 * c.d); break;
  }
  return {i, i};
}

// What input `k` of `node` needs along `axis` for the node's output interval `out`.
Interval backward(const ir::Node& node, int axis, Interval out) {
  int i = spatial(axis);
  switch (node.op) {
    case ir::Op::Conv: {
      const auto& a = std::get<ir::ConvAttrs>(node.attrs);
      return {out.lo * a.strides[i] - a.pads[i],
              out.hi * a.strides[i] - a.pads[i] + a.dilations[i] * (a.kernel[i] - 1)};
    }
    case ir::Op::MaxPool:
    case ir::Op::AveragePool: {
      const auto& a = std::get<ir::PoolAttrs>(node.attrs);
      return {out.lo * a.strides[i] - a.pads[i],
              out.hi * a.strides[i] - a.pads[i] + a.dilations[i] * (a.kernel[i] - 1)};
    }
    case ir::Op::ConvTranspose: {
      // Output o = in * stride - pad + tap * dilation for tap in [0, kernel).
      const auto& a = std::get<ir::ConvAttrs>(node.attrs);
      return {ceil_div(out.lo + a.pads[i] - a.dilations[i] * (a.kernel[i] - 1), a.strides[i]),
              floor_div(out.hi + a.pads[i], a.strides[i])};
    }
    case ir::Op::DepthToSpace: {
      int64_t b = std::get<ir::DepthToSpaceAttrs>(node.attrs).block;
      return {floor_div(out.lo, b), floor_div(out.hi, b)};
    }
    case ir::Op::Resize: {
      const auto& a = std::get<ir::ResizeAttrs>(node.attrs);
      Rational f = *exact_scale(a.scales[i]);
      return {resize_taps(a, f, out.lo).lo, resize_taps(a, f, out.hi).hi};
    }
    case ir::Op::Pad: {
      int64_t before = std::get<ir::PadAttrs>(node.attrs).pads[axis];
      return {out.lo - before, out.hi - before};
    }
    case ir::Op::Relu:
    case ir::Op::LeakyRelu:
    case ir::Op::PRelu:
    case ir::Op::Clip:
    case ir::Op::Sigmoid:
    case ir::Op::Tanh:
    case ir::Op::HardSigmoid:
    case ir::Op::Add:
    case ir::Op::Sub:
    case ir::Op::Mul:
    case ir::Op::Div:
    case ir::Op::Concat:
    case ir::Op::GlobalAveragePool:
    case ir::Op::ReduceMean: break;
  }
  return out;  // element-wise and channel-wise ops
}

// Output pixels per input pixel of each value along one axis, or the reason the graph is not
// tileable. Also checks the graph's form (one image in, one out).
struct Resolutions {
  std::vector<Rational> sigma;
  std::string refusal;
};

Resolutions resolutions(const ir::Graph& g, int axis, std::span<const Shape> upper) {
  Resolutions r;
  r.sigma.assign(g.values.size(), Rational{});
  int i = spatial(axis);
  for (const ir::Node& node : g.nodes) {
    // The resolution of the node's image operand (binary ops may take a constant first).
    Rational in;
    for (int v : node.inputs)
      if (g.values[v].kind != ir::ValueKind::Constant) {
        in = r.sigma[v];
        break;
      }
    Rational out = in;
    switch (node.op) {
      case ir::Op::Conv: out = in / Rational::of(std::get<ir::ConvAttrs>(node.attrs).strides[i], 1); break;
      case ir::Op::ConvTranspose: out = in * Rational::of(std::get<ir::ConvAttrs>(node.attrs).strides[i], 1); break;
      case ir::Op::MaxPool:
      case ir::Op::AveragePool: out = in / Rational::of(std::get<ir::PoolAttrs>(node.attrs).strides[i], 1); break;
      case ir::Op::DepthToSpace: out = in * Rational::of(std::get<ir::DepthToSpaceAttrs>(node.attrs).block, 1); break;
      case ir::Op::Resize: {
        const auto& a = std::get<ir::ResizeAttrs>(node.attrs);
        if (a.coordinate_mode == ir::CoordinateMode::AlignCorners) {
          r.refusal = refuse(node, "resizes with align_corners, which maps pixels by the image size");
          return r;
        }
        std::optional<Rational> f = exact_scale(a.scales[i]);
        if (!f) {
          r.refusal = refuse(node, fmt::format("resizes by {}, which is neither an integer nor 1/integer: tiles "
                                               "would sample the input at different phases", a.scales[i]));
          return r;
        }
        out = in * *f;
        break;
      }
      case ir::Op::GlobalAveragePool:
        r.refusal = refuse(node, "averages over the whole image");
        return r;
      case ir::Op::ReduceMean:
        if (std::get<ir::ReduceAttrs>(node.attrs).axes[axis]) {
          r.refusal = refuse(node, "averages over the image's height or width");
          return r;
        }
        break;
      case ir::Op::Concat:
        if (std::get<ir::ConcatAttrs>(node.attrs).axis >= 2) {
          r.refusal = refuse(node, "concatenates along a spatial axis");
          return r;
        }
        break;
      case ir::Op::Relu:
      case ir::Op::LeakyRelu:
      case ir::Op::PRelu:
      case ir::Op::Clip:
      case ir::Op::Sigmoid:
      case ir::Op::Tanh:
      case ir::Op::HardSigmoid:
      case ir::Op::Add:
      case ir::Op::Sub:
      case ir::Op::Mul:
      case ir::Op::Div:
      case ir::Op::Pad: break;
    }
    if (out.num > kMaxRatio || out.den > kMaxRatio) {
      r.refusal = refuse(node, fmt::format("takes the resolution to {}/{} of the input's; tiling handles ratios up "
                                           "to {}", out.num, out.den, kMaxRatio));
      return r;
    }
    // Every spatial operand must be at the same resolution; a constant may only broadcast spatially.
    for (int in_value : node.inputs) {
      const ir::Value& v = g.values[in_value];
      if (v.kind == ir::ValueKind::Constant) {
        bool weights = (node.op == ir::Op::Conv || node.op == ir::Op::ConvTranspose) && in_value != node.inputs[0];
        const Shape& s = v.constant_shape;
        int position = s.rank() - (4 - axis);  // constants broadcast from the right
        if (!weights && position >= 0 && s[position] > 1) {
          r.refusal = refuse(node, "combines the image with a constant image of fixed size");
          return r;
        }
        continue;
      }
      if (upper[in_value].rank() != 4) {
        r.refusal = refuse(node, "reads a tensor without height and width");
        return r;
      }
      if (upper[in_value][axis] == 1 && upper[node.output][axis] > 1) {
        r.refusal = refuse(node, "broadcasts a value computed from the whole image");
        return r;
      }
      if (!(r.sigma[in_value] == in)) {
        r.refusal = refuse(node, "combines tensors of different resolutions");
        return r;
      }
    }
    r.sigma[node.output] = out;
  }
  return r;
}

}  // namespace

Interval input_interval(const ir::Graph& g, int axis, Interval out) {
  std::vector<std::optional<Interval>> need(g.values.size());
  need[g.outputs[0]] = out;
  for (auto node = g.nodes.rbegin(); node != g.nodes.rend(); ++node) {
    if (!need[node->output]) continue;
    Interval in = backward(*node, axis, *need[node->output]);
    for (int v : node->inputs) {
      if (g.values[v].kind == ir::ValueKind::Constant) continue;
      std::optional<Interval>& n = need[v];
      n = n ? Interval{std::min(n->lo, in.lo), std::max(n->hi, in.hi)} : in;
    }
  }
  const std::optional<Interval>& result = need[g.inputs[0]];
  return result ? *result : Interval{};
}

TilingInfo analyse_tiling(const ir::Graph& g) {
  TilingInfo info;
  info.analysed = true;
  if (g.inputs.size() != 1 || g.outputs.size() != 1) {
    info.reason = "the model has several inputs or outputs; tiling needs one image in and one out";
    return info;
  }
  const ir::Value& input = g.values[g.inputs[0]];
  if (input.input_dims.size() != 4) {
    info.reason = "the input is not a 4-D [N, C, H, W] image";
    return info;
  }
  for (int axis = 2; axis < 4; ++axis) {
    if (input.input_dims[axis].dynamic < 0) {
      info.reason = fmt::format("the input's axis {} is fixed at {}; tiles need a dynamic height and width", axis,
                                input.input_dims[axis].fixed);
      return info;
    }
  }
  if (input.input_dims[2].dynamic == input.input_dims[3].dynamic) {
    info.reason = fmt::format("height and width share the dim '{}'; tiles need them independent",
                              g.dims[input.input_dims[2].dynamic].name);
    return info;
  }
  Result<std::vector<Shape>> upper = ir::shapes_at(g, g.upper_dim_values());
  if (!upper.ok() || (*upper)[g.outputs[0]].rank() != 4) {
    info.reason = "the output is not a 4-D [N, C, H, W] image";
    return info;
  }
  for (int axis = 2; axis < 4; ++axis) {
    Resolutions r = resolutions(g, axis, *upper);
    if (!r.refusal.empty()) {
      info.reason = r.refusal;
      info.axes.clear();
      return info;
    }
    AxisTiling t;
    for (const Rational& s : r.sigma) {
      t.alignment = std::lcm(t.alignment, s.den);
      if (t.alignment > kMaxRatio) {
        info.reason = fmt::format("its tiles would have to align to more than {} pixels", kMaxRatio);
        info.axes.clear();
        return info;
      }
    }
    Rational scale = r.sigma[g.outputs[0]];
    t.scale_num = scale.num;
    t.scale_den = scale.den;
    // How far an aligned output core reaches beyond its input core, far from the image border.
    int64_t before = 0, after = 0;
    int64_t x0 = 1024 * t.alignment * scale.den;
    for (int64_t m : {1, 2, 3, 7}) {
      int64_t length = m * t.alignment * scale.den;
      Interval core_out{x0 * scale.num / scale.den, (x0 + length) * scale.num / scale.den - 1};
      Interval in = input_interval(g, axis, core_out);
      before = std::max(before, x0 - in.lo);
      after = std::max(after, in.hi - (x0 + length - 1));
    }
    // "Valid" convolutions lose input pixels at the borders: output pixel j then sits `offset` input
    // pixels further in. The loss is measured on an aligned image; same-size networks get offset 0.
    std::vector<int64_t> dims = g.upper_dim_values();
    dims[input.input_dims[axis].dynamic] = x0;
    Result<std::vector<Shape>> at_x0 = ir::shapes_at(g, dims);
    int64_t lost = at_x0.ok() ? x0 - (*at_x0)[g.outputs[0]][axis] * scale.den / scale.num : 0;
    t.offset = std::clamp(floor_div(lost, 2), -before, after);
    t.halo_before = before + t.offset;
    t.halo_after = after - t.offset;
    if (std::max(t.halo_before, t.halo_after) > ir::kMaxAttribute) {  // the most a .tsr may declare
      info.reason = fmt::format("its halo of {} pixels is larger than any image tessera takes",
                                std::max(t.halo_before, t.halo_after));
      info.axes.clear();
      return info;
    }
    info.axes.push_back(t);
  }
  info.tileable = true;
  return info;
}

}  // namespace tessera::tiling
