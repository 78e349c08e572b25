// The oneDNN backend's own kernel for convolutions with few output channels
// (src/backends/onednn/narrow_conv.h) against the reference Conv and activations: 1 to 4 output
// channels, odd input channel counts, 1x1 to 5x5 kernels, strides, dilations, asymmetric pads and
// the post-ops it folds; its results do not depend on the thread count or on where a pixel falls
// in the image; and in a model on the oneDNN backend it runs those convolutions, matches the
// reference backend and stitches tiles bit for bit.
#include <omp.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>

#include "backends/onednn/narrow_conv.h"
#include "backends/onednn/ops.h"
#include "onnx_builder.h"
#include "op_test_util.h"
#include "test_support.h"

namespace tessera::reference::testing {
namespace {

using onednn::NarrowConv;
using onednn::PostOp;

ir::ConvAttrs conv_attrs(std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> d,
                         std::array<int64_t, 4> p) {
  ir::ConvAttrs a;
  a.kernel = k;
  a.strides = s;
  a.dilations = d;
  a.pads = p;
  return a;
}

Shape conv_output(const Shape& x, int64_t out_c, const ir::ConvAttrs& a) {
  Shape y{x[0], out_c, 0, 0};
  for (int k = 0; k < 2; ++k)
    y[2 + k] = (x[2 + k] + a.pads[k] + a.pads[2 + k] - a.dilations[k] * (a.kernel[k] - 1) - 1) / a.strides[k] + 1;
  return y;
}

// What follows the convolution: activations folded as post-ops, and/or a residual accumulated
// into the output (a Sum post-op).
enum class Tail { None, Relu, LeakyRelu, Clip, HardSigmoid, Sum, SumThenRelu };

// Node 0: a Conv over input value 0 with seeded weights (and bias); node 1: the activation of `tail`.
struct ConvGraph {
  ir::Graph graph;
  Buf w, b;
  std::vector<PostOp> post_ops;
};

// Weights scaled by 1/sqrt(fan-in), as trained networks' are, keep the sums near 1.
ConvGraph conv_graph(const Shape& x, int64_t out_c, const ir::ConvAttrs& a, bool bias, Tail tail, uint32_t seed) {
  ConvGraph cg;
  ir::Graph& g = cg.graph;
  cg.w = random_buf({out_c, x[1], a.kernel[0], a.kernel[1]}, seed);
  for (float& v : cg.w.data) v /= std::sqrt(static_cast<float>(x[1] * a.kernel[0] * a.kernel[1]));
  cg.b = random_buf({out_c}, seed + 1);
  ir::Value input;
  input.kind = ir::ValueKind::Input;
  ir::Node conv = make_node(ir::Op::Conv, a);
  conv.inputs = {g.add_value(input), g.add_constant("w", cg.w.shape, cg.w.data)};
  if (bias) conv.inputs.push_back(g.add_constant("b", cg.b.shape, cg.b.data));
  conv.output = g.add_value({});
  g.nodes.push_back(conv);
  if (tail == Tail::Sum || tail == Tail::SumThenRelu) cg.post_ops.push_back({PostOp::Kind::Sum});
  std::optional<ir::Node> act;
  switch (tail) {
    case Tail::Relu:
    case Tail::SumThenRelu: act = make_node(ir::Op::Relu); break;
    case Tail::LeakyRelu: act = make_node(ir::Op::LeakyRelu, ir::LeakyReluAttrs{0.2f}); break;
    case Tail::Clip: act = make_node(ir::Op::Clip, ir::ClipAttrs{-0.5f, 0.75f}); break;
    case Tail::HardSigmoid: act = make_node(ir::Op::HardSigmoid, ir::HardSigmoidAttrs{0.3f, 0.4f}); break;
    case Tail::None:
    case Tail::Sum: return cg;
  }
  act->inputs = {conv.output};
  act->output = g.add_value({});
  g.nodes.push_back(*act);
  for (const PostOp& op : onednn::unary_post_ops(g, 1)) cg.post_ops.push_back(op);
  return cg;
}

// The reference Conv, plus `prior` (the output's old content) for a Sum, then the activation.
std::vector<float> reference_output(const ConvGraph& cg, const Buf& x, const Shape& y_shape, const Buf& prior) {
  const ir::Graph& g = cg.graph;
  std::vector<const Buf*> inputs{&x, &cg.w};
  if (g.nodes[0].inputs.size() == 3) inputs.push_back(&cg.b);
  Buf y = run(g.nodes[0], inputs, y_shape);
  for (const PostOp& op : cg.post_ops)
    if (op.kind == PostOp::Kind::Sum)
      for (size_t i = 0; i < y.data.size(); ++i) y.data[i] += prior.data[i];
  if (g.nodes.size() == 2) y = run(g.nodes[1], {&y}, y_shape);
  return y.data;
}

// The kernel's output (NCHW) for x (NCHW) with `threads` OpenMP threads, over `prior` (NCHW),
// which a Sum adds to; `nchw_output`: the kernel writes NCHW itself.
std::vector<float> narrow_output(const NarrowConv& conv, const Buf& x, const Shape& y_shape, const Buf& prior,
                                 int threads, bool nchw_output = false) {
  std::vector<float> xs = relayout(x.data, x.shape, true);
  std::vector<float> ys = nchw_output ? prior.data : relayout(prior.data, y_shape, true);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  conv.run(xs.data(), x.shape, ys.data(), y_shape);
  omp_set_num_threads(saved);
  return nchw_output ? ys : relayout(ys, y_shape, false);
}

#define SKIP_WITHOUT_AVX512 \
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "the narrow convolution kernel needs AVX-512"

struct Geometry {
  std::array<int64_t, 2> kernel, strides, dilations;
  std::array<int64_t, 4> pads;  // top, left, bottom, right
};

// Every output channel count, for odd input channel counts, over kernels, strides, dilations and
// pads (on heights and widths that leave a ragged last block of pixels, and widths too narrow for
// any block), with and without bias, with each post-op the kernel folds.
TEST(NarrowConv, MatchesReferenceConvAndActivations) {
  SKIP_WITHOUT_AVX512;
  const Geometry geometries[] = {
      {{1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}}, {{3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {{5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}}, {{3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},
      {{3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}}, {{5, 5}, {2, 1}, {1, 1}, {2, 1, 0, 3}},
      {{3, 1}, {1, 2}, {1, 1}, {0, 0, 2, 1}}, {{3, 5}, {1, 1}, {2, 1}, {0, 3, 1, 0}},
      {{1, 3}, {2, 2}, {1, 3}, {1, 2, 0, 2}}, {{2, 2}, {1, 1}, {1, 1}, {0, 0, 1, 1}},
  };
  const Tail tails[] = {Tail::None, Tail::Relu, Tail::LeakyRelu, Tail::Clip, Tail::HardSigmoid, Tail::Sum,
                        Tail::SumThenRelu};
  const Shape sizes[] = {{1, 1, 13, 37}, {2, 1, 9, 21}, {1, 1, 6, 5}};
  uint32_t seed = 1;
  for (int64_t out_c = 1; out_c <= 4; ++out_c)
    for (int64_t in_c : {1, 3, 5, 12, 17, 64})
      for (const Geometry& geo : geometries) {
        ++seed;
        Shape xs = sizes[seed % 3];
        xs[1] = in_c;
        const ir::ConvAttrs a = conv_attrs(geo.kernel, geo.strides, geo.dilations, geo.pads);
        const Tail tail = tails[seed % 7];
        ConvGraph cg = conv_graph(xs, out_c, a, seed % 2 == 0, tail, seed);
        ASSERT_TRUE(NarrowConv::applies(cg.graph, 0, cg.post_ops));
        NarrowConv conv(cg.graph, 0, cg.post_ops);
        const Shape ys = conv_output(xs, out_c, a);
        Buf x = random_buf(xs, seed + 2), prior = random_buf(ys, seed + 3);
        SCOPED_TRACE(::testing::Message() << out_c << " outputs, x " << xs.to_string() << ", kernel " << a.kernel[0]
                                          << "x" << a.kernel[1] << " strides " << a.strides[0] << "," << a.strides[1]
                                          << " dilations " << a.dilations[0] << "," << a.dilations[1] << ", tail "
                                          << static_cast<int>(tail));
        expect_near(narrow_output(conv, x, ys, prior, 2), reference_output(cg, x, ys, prior));
      }
}

// Rows split over any number of threads give the same bits.
TEST(NarrowConv, ThreadCountDoesNotChangeBits) {
  SKIP_WITHOUT_AVX512;
  const Shape xs{1, 17, 23, 45};
  const ir::ConvAttrs a = conv_attrs({3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1});
  ConvGraph cg = conv_graph(xs, 3, a, true, Tail::Relu, 7);
  NarrowConv conv(cg.graph, 0, cg.post_ops);
  const Shape ys = conv_output(xs, 3, a);
  Buf x = random_buf(xs, 8), prior(ys);
  std::vector<float> one = narrow_output(conv, x, ys, prior, 1);
  for (int threads : {2, 3, 4}) EXPECT_EQ(narrow_output(conv, x, ys, prior, threads), one) << threads << " threads";
}

// Written NCHW (a graph output), every output channel count stores the same bits as NHWC and
// every element, on rows with a ragged last block, over any number of threads; never with a Sum.
TEST(NarrowConv, WritesNchwOutputWithTheSameBits) {
  SKIP_WITHOUT_AVX512;
  const Shape xs{2, 12, 11, 29};
  const ir::ConvAttrs a = conv_attrs({3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1});
  for (int64_t out_c = 1; out_c <= 4; ++out_c) {
    ConvGraph cg = conv_graph(xs, out_c, a, true, Tail::Clip, static_cast<uint32_t>(out_c));
    const Shape ys = conv_output(xs, out_c, a);
    Buf x = random_buf(xs, 5), unwritten(ys);
    std::fill(unwritten.data.begin(), unwritten.data.end(), std::nanf(""));
    const std::vector<float> nhwc = narrow_output(NarrowConv(cg.graph, 0, cg.post_ops), x, ys, Buf(ys), 1);
    const NarrowConv nchw(cg.graph, 0, cg.post_ops, true);
    for (int threads : {1, 3})
      EXPECT_EQ(narrow_output(nchw, x, ys, unwritten, threads, true), nhwc) << out_c << " outputs, " << threads << " threads";
  }
  ConvGraph sum = conv_graph(xs, 3, a, true, Tail::Sum, 1);
  EXPECT_THROW(NarrowConv(sum.graph, 0, sum.post_ops, true), std::invalid_argument);
}

// A pixel's bits depend only on its window: over crops of the input that move pixels between the
// kernel's blocks, its ragged last block and its one-pixel path (near the crop's edges), every
// pixel whose window lies inside the crop equals the same pixel of the whole image.
TEST(NarrowConv, PixelsDoNotDependOnWhereTheyFall) {
  SKIP_WITHOUT_AVX512;
  for (int64_t out_c = 1; out_c <= 4; ++out_c)
    for (int64_t stride : {1, 2}) {
      const Shape xs{1, 12, 14, 61};
      const ir::ConvAttrs a = conv_attrs({3, 5}, {stride, stride}, {1, 1}, {1, 2, 1, 2});
      ConvGraph cg = conv_graph(xs, out_c, a, true, Tail::LeakyRelu, static_cast<uint32_t>(out_c));
      NarrowConv conv(cg.graph, 0, cg.post_ops);
      const Shape ys = conv_output(xs, out_c, a);
      Buf x = random_buf(xs, 11);
      const std::vector<float> whole = narrow_output(conv, x, ys, Buf(ys), 1);
      for (int64_t left = 0; left <= 18; left += stride)
        for (int64_t width : {61 - left, 9 + left, int64_t{23}}) {
          if (left + width > xs[3]) continue;
          const int64_t top = 2 * stride, height = 9;
          Buf crop({1, xs[1], height, width});
          for (int64_t c = 0; c < xs[1]; ++c)
            for (int64_t r = 0; r < height; ++r)
              std::memcpy(&crop.data[(c * height + r) * width], &x.data[(c * xs[2] + top + r) * xs[3] + left],
                          width * sizeof(float));
          const Shape cs = conv_output(crop.shape, out_c, a);
          const std::vector<float> part = narrow_output(conv, crop, cs, Buf(cs), 1);
          // Output (oy, ox) of the crop reads crop rows oy*s - 1 .. oy*s + 1 and columns ox*s - 2 .. ox*s + 2.
          for (int64_t o = 0; o < out_c; ++o)
            for (int64_t oy = 1; oy * stride + 1 < height; ++oy)
              for (int64_t ox = 1; ox * stride + 2 < width; ++ox) {
                if (ox * stride < 2) continue;
                const float got = part[(o * cs[2] + oy) * cs[3] + ox];
                const float want = whole[(o * ys[2] + oy + top / stride) * ys[3] + ox + left / stride];
                ASSERT_EQ(std::memcmp(&got, &want, sizeof(float)), 0)
                    << out_c << " outputs, stride " << stride << ", crop at column " << left << " width " << width
                    << ": pixel " << oy << "," << ox;
              }
        }
    }
}

// What the kernel takes: plain convolutions of up to 4 outputs whose post-ops it has.
TEST(NarrowConv, AppliesToNarrowPlainConvolutionsWithItsPostOps) {
  SKIP_WITHOUT_AVX512;
  const Shape xs{1, 8, 16, 16};
  const ir::ConvAttrs a = conv_attrs({3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1});
  EXPECT_TRUE(NarrowConv::applies(conv_graph(xs, 4, a, true, Tail::HardSigmoid, 1).graph, 0, {}));
  EXPECT_FALSE(NarrowConv::applies(conv_graph(xs, 5, a, true, Tail::None, 1).graph, 0, {}));
  ConvGraph grouped = conv_graph({1, 4, 16, 16}, 4, a, true, Tail::None, 1);
  std::get<ir::ConvAttrs>(grouped.graph.nodes[0].attrs).group = 2;
  EXPECT_FALSE(NarrowConv::applies(grouped.graph, 0, {}));
  ConvGraph transposed = conv_graph(xs, 4, a, true, Tail::None, 1);
  transposed.graph.nodes[0].op = ir::Op::ConvTranspose;
  EXPECT_FALSE(NarrowConv::applies(transposed.graph, 0, {}));
  ConvGraph g = conv_graph(xs, 4, a, true, Tail::None, 1);
  PostOp sigmoid{PostOp::Kind::Eltwise, 1, dnnl::algorithm::eltwise_logistic};
  PostOp binary{PostOp::Kind::Binary, 1, dnnl::algorithm::binary_add, 0.0f, 0.0f, 0};
  PostOp prelu{PostOp::Kind::Prelu, 1};
  for (const PostOp& op : {sigmoid, binary, prelu}) EXPECT_FALSE(NarrowConv::applies(g.graph, 0, {&op, 1}));
}

}  // namespace
}  // namespace tessera::reference::testing

namespace tessera::testing {
namespace {

// x (5 channels) -> 3x3 conv to 17 -> relu -> 5x5 conv to 4, pads 1,2,3,2 -> relu -> 3x3 conv to
// 3, dilation 2 -> clip -> 1x1 conv to 2 = y: the last three are narrow.
std::string write_narrow_onnx(const TempDir& dir) {
  onnx::ModelProto model;
  onnx::GraphProto* g = start_image_model(model, "narrow", 5, 2);
  std::mt19937 rng(5);
  add_conv(g, rng, "x", "a0", 5, 17, 3, {1, 1, 1, 1});
  add_node(g, "Relu", {"a0"}, "a");
  add_conv(g, rng, "a", "b0", 17, 4, 5, {1, 2, 3, 2});
  add_node(g, "Relu", {"b0"}, "b");
  add_conv(g, rng, "b", "c0", 4, 3, 3, {2, 2, 2, 2}, 2);
  onnx::NodeProto* clip = add_node(g, "Clip", {"c0"}, "c");
  for (auto [name, value] : {std::pair{"min", -0.1f}, std::pair{"max", 0.2f}}) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(value);
    clip->add_input(name);
  }
  add_conv(g, rng, "c", "y", 3, 2, 1, {0, 0, 0, 0});
  return save_onnx(dir, model, "narrow.onnx");
}

// x (3 channels) -> 3x3 conv to 8 -> relu -> 3x3 conv to 3 -> relu = y: the narrow convolution
// writes the graph output through a folded activation.
std::string write_narrow_relu_onnx(const TempDir& dir) {
  onnx::ModelProto model;
  onnx::GraphProto* g = start_image_model(model, "narrow_relu", 3, 3);
  std::mt19937 rng(7);
  add_conv(g, rng, "x", "a0", 3, 8, 3, {1, 1, 1, 1});
  add_node(g, "Relu", {"a0"}, "a");
  add_conv(g, rng, "a", "y0", 8, 3, 3, {1, 1, 1, 1});
  add_node(g, "Relu", {"y0"}, "y");
  return save_onnx(dir, model, "narrow_relu.onnx");
}

TEST(NarrowConvModel, OnednnRunsNarrowConvsMatchesReferenceAndTilesStitch) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  SKIP_WITHOUT_AVX512;
  TempDir dir;
  std::shared_ptr<const Model> model = compile_small_onnx(dir, write_narrow_onnx(dir), 96, "narrow.tsr");
  ASSERT_TRUE(model);
  // The three narrow convolutions run on the kernel, with their activations folded in.
  onednn::ExecutionPlan plan = onednn::plan_execution(model->data(), model->data().plan);
  int narrow = 0, fused = 0;
  for (const onednn::NodePlan& np : plan.nodes) {
    narrow += np.role == onednn::Role::Narrow;
    fused += np.role == onednn::Role::Fused;
  }
  EXPECT_EQ(narrow, 3);
  EXPECT_EQ(fused, 3);
  EXPECT_EQ(plan.homes[model->data().graph.outputs[0]], onednn::Home::ArenaNchw);  // written NCHW, no reorder
  std::shared_ptr<const Model> whole = compile_small_onnx(dir, write_narrow_onnx(dir), 200, "whole.tsr");
  ASSERT_TRUE(whole);
  expect_matches_reference_and_tiles_stitch(model, whole, "onednn");
}

// The narrow convolution writes the graph output NCHW through its folded activation, unless the
// activation's output took the slot of the convolution's input (which dies at the convolution).
TEST(NarrowConvModel, WritesTheGraphOutputNchwUnlessOverItsInput) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  SKIP_WITHOUT_AVX512;
  TempDir dir;
  std::shared_ptr<const Model> model = compile_small_onnx(dir, write_narrow_relu_onnx(dir), 96, "narrow_relu.tsr");
  ASSERT_TRUE(model);
  const ModelData& m = model->data();
  const int y = m.graph.outputs[0], input = m.graph.nodes[2].inputs[0];
  onednn::ExecutionPlan plan = onednn::plan_execution(m, m.plan);
  ASSERT_EQ(plan.nodes[2].role, onednn::Role::Narrow);
  EXPECT_EQ(plan.homes[y], onednn::Home::ArenaNchw);
  MemoryPlan reused = m.plan;
  reused.offsets[y] = reused.offsets[input];
  EXPECT_EQ(onednn::plan_execution(m, reused).homes[y], onednn::Home::Output);
  std::shared_ptr<const Model> whole = compile_small_onnx(dir, write_narrow_relu_onnx(dir), 200, "whole.tsr");
  ASSERT_TRUE(whole);
  expect_matches_reference_and_tiles_stitch(model, whole, "onednn");
}

}  // namespace
}  // namespace tessera::testing
