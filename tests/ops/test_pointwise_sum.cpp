// The oneDNN backend's own kernel for sums of 1x1 convolutions (src/backends/onednn/pointwise_sum.h)
// against the reference Conv, Add and activations: 2 to 5 terms of odd input channel counts, output
// channel counts on and off the 16-lane vectors and past one block of 64, pixel counts that leave
// a ragged end, the post-ops it folds; in bf16, against the reference on inputs and weights rounded
// to bf16; in both precisions its results do not depend on the thread count or on where a pixel
// falls; and in a model on the oneDNN backend it runs the sums whose nodes are consecutive, matches
// the reference backend and stitches tiles bit for bit.
#include <omp.h>
#include <onnx/onnx_pb.h>

#include <bit>
#include <cstring>
#include <map>
#include <optional>
#include <random>

#include "backends/onednn/ops.h"
#include "backends/onednn/pointwise_sum.h"
#include "onnx_builder.h"
#include "op_test_util.h"
#include "test_support.h"

namespace tessera::reference::testing {
namespace {

using onednn::PointwiseSum;
using onednn::PostOp;

#define SKIP_WITHOUT_AVX512 \
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "the pointwise sum kernel needs AVX-512"

// The kernel's precisions on this CPU: false (fp32), and true (bf16) where it has AVX512_BF16.
std::vector<bool> precisions() {
  if (PointwiseSum::has_bf16()) return {false, true};
  return {false};
}

// v rounded to bf16, to nearest even (as VCVTNE2PS2BF16 rounds the finite values used here).
float round_to_bf16(float v) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  return std::bit_cast<float>((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000u);
}

ir::ConvAttrs pointwise() {
  ir::ConvAttrs a;
  a.kernel = {1, 1};
  a.strides = {1, 1};
  a.dilations = {1, 1};
  a.pads = {0, 0, 0, 0};
  return a;
}

enum class Tail { None, Relu, LeakyRelu, Clip, HardSigmoid };

// Nodes 0 .. k-1: 1x1 Convs over inputs 0 .. k-1 with seeded weights (and biases); node k, if any:
// the activation of `tail` (over the sum, which has no node here).
struct SumGraph {
  ir::Graph graph;
  std::vector<int> terms;
  std::vector<Buf> weights, biases;
  std::vector<PostOp> post_ops;
};

SumGraph sum_graph(std::span<const int64_t> channels, int64_t out_c, bool bias, Tail tail, uint32_t seed) {
  SumGraph sg;
  ir::Graph& g = sg.graph;
  for (size_t t = 0; t < channels.size(); ++t) {
    ir::Value input;
    input.kind = ir::ValueKind::Input;
    const int x = g.add_value(input);
    Buf w = random_buf({out_c, channels[t], 1, 1}, seed + 2 * static_cast<uint32_t>(t));
    for (float& v : w.data) v /= std::sqrt(static_cast<float>(channels[t]));
    ir::Node conv = make_node(ir::Op::Conv, pointwise());
    conv.inputs = {x, g.add_constant("w", w.shape, w.data)};
    // Every other term without a bias when `bias`: the kernel sums those it has.
    if (bias && t % 2 == 0) {
      sg.biases.push_back(random_buf({out_c}, seed + 2 * static_cast<uint32_t>(t) + 1));
      conv.inputs.push_back(g.add_constant("b", sg.biases.back().shape, sg.biases.back().data));
    } else {
      sg.biases.emplace_back();
    }
    conv.output = g.add_value({});
    sg.weights.push_back(std::move(w));
    sg.terms.push_back(static_cast<int>(g.nodes.size()));
    g.nodes.push_back(conv);
  }
  std::optional<ir::Node> act;
  switch (tail) {
    case Tail::None: return sg;
    case Tail::Relu: act = make_node(ir::Op::Relu); break;
    case Tail::LeakyRelu: act = make_node(ir::Op::LeakyRelu, ir::LeakyReluAttrs{0.2f}); break;
    case Tail::Clip: act = make_node(ir::Op::Clip, ir::ClipAttrs{-0.5f, 0.75f}); break;
    case Tail::HardSigmoid: act = make_node(ir::Op::HardSigmoid, ir::HardSigmoidAttrs{0.3f, 0.4f}); break;
  }
  act->inputs = {g.add_value({})};
  act->output = g.add_value({});
  g.nodes.push_back(*act);
  sg.post_ops = onednn::unary_post_ops(g, static_cast<int>(g.nodes.size()) - 1);
  return sg;
}

// The reference: each term's Conv, summed in term order, then the activation (NCHW).
std::vector<float> reference_output(const SumGraph& sg, const std::vector<Buf>& xs, const Shape& ys) {
  Buf sum(ys);
  for (size_t t = 0; t < sg.terms.size(); ++t) {
    std::vector<const Buf*> inputs{&xs[t], &sg.weights[t]};
    if (!sg.biases[t].data.empty()) inputs.push_back(&sg.biases[t]);
    Buf y = run(sg.graph.nodes[sg.terms[t]], inputs, ys);
    for (size_t i = 0; i < y.data.size(); ++i) sum.data[i] += y.data[i];
  }
  if (sg.graph.nodes.size() > sg.terms.size()) sum = run(sg.graph.nodes.back(), {&sum}, ys);
  return sum.data;
}

// The kernel's NHWC output for NHWC inputs, with `threads` OpenMP threads.
std::vector<float> kernel_nhwc(const PointwiseSum& sum, const std::vector<std::vector<float>>& xs,
                               const std::vector<Shape>& shapes, int64_t out_c, int threads) {
  std::vector<ConstTensorView> views;
  for (size_t t = 0; t < xs.size(); ++t) views.emplace_back(xs[t].data(), shapes[t]);
  const Shape& s = shapes[0];
  std::vector<float> y(static_cast<size_t>(s[0] * out_c * s[2] * s[3]), -1.0f);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  sum.run(views, nullptr, y.data());
  omp_set_num_threads(saved);
  return y;
}

struct Case {
  SumGraph graph;
  std::vector<Buf> xs;  // NCHW
  std::vector<std::vector<float>> nhwc;
  std::vector<Shape> shapes;
  Shape ys;
};

Case make_case(std::span<const int64_t> channels, int64_t out_c, const Shape& pixels, bool bias, Tail tail,
               uint32_t seed) {
  Case c{sum_graph(channels, out_c, bias, tail, seed)};
  for (size_t t = 0; t < channels.size(); ++t) {
    const Shape s{pixels[0], channels[t], pixels[2], pixels[3]};
    c.xs.push_back(random_buf(s, seed + 100 + static_cast<uint32_t>(t)));
    c.nhwc.push_back(relayout(c.xs.back().data, s, true));
    c.shapes.push_back(s);
  }
  c.ys = Shape{pixels[0], out_c, pixels[2], pixels[3]};
  return c;
}

TEST(PointwiseSum, MatchesReferenceConvsAddsAndActivations) {
  SKIP_WITHOUT_AVX512;
  const std::vector<std::vector<int64_t>> channel_sets = {{64, 64}, {1, 3}, {5, 17, 64}, {64, 4}, {3, 5, 1, 17, 9}};
  const Shape pixel_sets[] = {{1, 0, 7, 13}, {2, 0, 5, 9}, {1, 0, 1, 1}, {1, 0, 4, 6}, {1, 0, 3, 25}};
  const Tail tails[] = {Tail::None, Tail::Relu, Tail::LeakyRelu, Tail::Clip, Tail::HardSigmoid};
  uint32_t seed = 1;
  for (int64_t out_c : {1, 3, 16, 17, 40, 64, 70, 130})
    for (const std::vector<int64_t>& channels : channel_sets) {
      ++seed;
      const Tail tail = tails[seed % 5];
      Case c = make_case(channels, out_c, pixel_sets[seed % 5], seed % 3 != 0, tail, seed);
      ASSERT_TRUE(PointwiseSum::applies(c.graph.graph, c.graph.terms, c.graph.post_ops));
      PointwiseSum sum(c.graph.graph, c.graph.terms, c.graph.post_ops);
      SCOPED_TRACE(::testing::Message() << channels.size() << " terms, " << out_c << " outputs, pixels "
                                        << c.ys.to_string() << ", tail " << static_cast<int>(tail));
      const std::vector<float> got = relayout(kernel_nhwc(sum, c.nhwc, c.shapes, out_c, 2), c.ys, false);
      expect_near(got, reference_output(c.graph, c.xs, c.ys));
    }
}

// In bf16 the kernel computes the sum of the inputs and weights rounded to bf16 (each product then
// exact in fp32), up to the order of fp32 additions; the unrounded sum is farther off than that.
TEST(PointwiseSum, InBf16MatchesTheReferenceOnInputsAndWeightsRoundedToBf16) {
  SKIP_WITHOUT_AVX512;
  if (!PointwiseSum::has_bf16()) GTEST_SKIP() << "the bf16 kernel needs AVX512_BF16";
  const std::vector<std::vector<int64_t>> channel_sets = {{64, 64}, {1, 3}, {5, 17, 64}, {33, 4}, {3, 5, 1, 17, 9}};
  const Shape pixel_sets[] = {{1, 0, 7, 13}, {2, 0, 5, 9}, {1, 0, 1, 1}, {1, 0, 4, 6}, {1, 0, 3, 25}};
  uint32_t seed = 50;
  for (int64_t out_c : {1, 16, 17, 64, 70})
    for (const std::vector<int64_t>& channels : channel_sets) {
      ++seed;
      Case c = make_case(channels, out_c, pixel_sets[seed % 5], seed % 3 != 0, Tail::LeakyRelu, seed);
      SCOPED_TRACE(::testing::Message() << channels.size() << " terms, " << out_c << " outputs, pixels "
                                        << c.ys.to_string());
      PointwiseSum sum(c.graph.graph, c.graph.terms, c.graph.post_ops, {}, /*bf16=*/true);
      const std::vector<float> got = relayout(kernel_nhwc(sum, c.nhwc, c.shapes, out_c, 2), c.ys, false);
      const std::vector<float> unrounded = reference_output(c.graph, c.xs, c.ys);
      for (Buf& x : c.xs)
        for (float& v : x.data) v = round_to_bf16(v);
      for (Buf& w : c.graph.weights)
        for (float& v : w.data) v = round_to_bf16(v);
      expect_near(got, reference_output(c.graph, c.xs, c.ys), 1e-5f);
      float largest = 0.0f;
      for (size_t i = 0; i < got.size(); ++i) largest = std::max(largest, std::abs(got[i] - unrounded[i]));
      EXPECT_GT(largest, 1e-4f) << "bf16 rounds";
    }
}

// Blocks split over any number of threads give the same bits.
TEST(PointwiseSum, ThreadCountDoesNotChangeBits) {
  SKIP_WITHOUT_AVX512;
  const int64_t channels[] = {64, 17, 32};
  Case c = make_case(channels, 64, {1, 0, 23, 45}, true, Tail::Relu, 7);
  for (bool bf16 : precisions()) {
    PointwiseSum sum(c.graph.graph, c.graph.terms, c.graph.post_ops, {}, bf16);
    const std::vector<float> one = kernel_nhwc(sum, c.nhwc, c.shapes, 64, 1);
    for (int threads : {2, 3, 4})
      EXPECT_EQ(kernel_nhwc(sum, c.nhwc, c.shapes, 64, threads), one) << threads << " threads, bf16 " << bf16;
  }
}

// A pixel's bits depend only on its own inputs: runs that start 1 to 24 pixels later (moving every
// pixel between blocks, and into or out of the one-pixel path at the end) give each pixel the bits
// of the whole run.
TEST(PointwiseSum, PixelsDoNotDependOnWhereTheyFall) {
  SKIP_WITHOUT_AVX512;
  for (const bool bf16 : precisions())
    for (int64_t out_c : {16, 48, 64, 80}) {
      const int64_t channels[] = {12, 64};
      const int64_t width = 61;
      Case c = make_case(channels, out_c, {1, 0, 1, width}, true, Tail::LeakyRelu, static_cast<uint32_t>(out_c));
      PointwiseSum sum(c.graph.graph, c.graph.terms, c.graph.post_ops, {}, bf16);
      const std::vector<float> whole = kernel_nhwc(sum, c.nhwc, c.shapes, out_c, 1);
      for (int64_t skip = 1; skip <= 24; ++skip) {
        std::vector<std::vector<float>> rest;
        std::vector<Shape> shapes;
        for (size_t t = 0; t < c.nhwc.size(); ++t) {
          rest.emplace_back(c.nhwc[t].begin() + skip * channels[t], c.nhwc[t].end());
          shapes.push_back({1, channels[t], 1, width - skip});
        }
        const std::vector<float> part = kernel_nhwc(sum, rest, shapes, out_c, 1);
        ASSERT_EQ(std::memcmp(part.data(), whole.data() + skip * out_c, part.size() * sizeof(float)), 0)
            << out_c << " outputs, starting " << skip << " pixels on, bf16 " << bf16;
      }
    }
}

// A sum run in parts, each continuing the running sum of the ones before (in place or into another
// buffer) and the last adding the biases and the post-ops, gives the bits of the sum in one part.
TEST(PointwiseSum, InPartsGivesTheBitsOfTheWholeSum) {
  SKIP_WITHOUT_AVX512;
  const int64_t channels[] = {64, 17, 32, 5, 64};
  for (const bool bf16 : precisions())
    for (int64_t out_c : {16, 40, 64, 70}) {
      Case c = make_case(channels, out_c, {1, 0, 9, 31}, true, Tail::LeakyRelu, static_cast<uint32_t>(out_c) + 3);
      const std::vector<float> whole = kernel_nhwc(
          PointwiseSum(c.graph.graph, c.graph.terms, c.graph.post_ops, {}, bf16), c.nhwc, c.shapes, out_c, 2);
      for (bool in_place : {true, false}) {
        // Parts of terms {0}, {1, 2}, {3}, {4}.
        const std::vector<std::pair<size_t, size_t>> parts = {{0, 1}, {1, 3}, {3, 4}, {4, 5}};
        std::vector<float> running(whole.size(), -1.0f), y(whole.size(), -1.0f);
        for (size_t k = 0; k < parts.size(); ++k) {
          const auto [begin, end] = parts[k];
          const bool last = k + 1 == parts.size();
          const std::span<const int> terms = std::span<const int>(c.graph.terms).subspan(begin, end - begin);
          PointwiseSum part(c.graph.graph, terms,
                            last ? std::span<const PostOp>(c.graph.post_ops) : std::span<const PostOp>{},
                            {.last = last, .sum_terms = c.graph.terms}, bf16);
          std::vector<ConstTensorView> views;
          for (size_t t = begin; t < end; ++t) views.emplace_back(c.nhwc[t].data(), c.shapes[t]);
          float* out = in_place || !last ? running.data() : y.data();
          part.run(views, k > 0 ? running.data() : nullptr, out);
        }
        const std::vector<float>& got = in_place ? running : y;
        ASSERT_EQ(std::memcmp(got.data(), whole.data(), whole.size() * sizeof(float)), 0)
            << out_c << " outputs, " << (in_place ? "in place" : "the last part elsewhere") << ", bf16 " << bf16;
      }
    }
}

// What the kernel takes: plain 1x1 convolutions with the same outputs, and the post-ops it has.
TEST(PointwiseSum, AppliesToPlainPointwiseConvolutionsWithItsPostOps) {
  SKIP_WITHOUT_AVX512;
  const int64_t channels[] = {8, 4};
  SumGraph ok = sum_graph(channels, 16, true, Tail::HardSigmoid, 1);
  EXPECT_TRUE(PointwiseSum::applies(ok.graph, ok.terms, ok.post_ops));
  EXPECT_TRUE(PointwiseSum::applies(ok.graph, std::span<const int>(ok.terms).first(1), {}));  // a part
  EXPECT_FALSE(PointwiseSum::applies(ok.graph, std::span<const int>(ok.terms).first(0), {}));

  auto altered = [&](auto change) {
    SumGraph sg = sum_graph(channels, 16, true, Tail::None, 1);
    change(sg.graph.nodes[1]);
    return PointwiseSum::applies(sg.graph, sg.terms, {});
  };
  EXPECT_FALSE(altered([](ir::Node& n) { std::get<ir::ConvAttrs>(n.attrs).strides = {2, 2}; }));
  EXPECT_FALSE(altered([](ir::Node& n) { std::get<ir::ConvAttrs>(n.attrs).pads = {0, 1, 0, 0}; }));
  EXPECT_FALSE(altered([](ir::Node& n) { std::get<ir::ConvAttrs>(n.attrs).kernel = {3, 3}; }));
  EXPECT_FALSE(altered([](ir::Node& n) { std::get<ir::ConvAttrs>(n.attrs).group = 2; }));
  EXPECT_FALSE(altered([](ir::Node& n) { n.op = ir::Op::ConvTranspose; }));

  SumGraph wider = sum_graph(channels, 16, true, Tail::None, 1);
  const Buf w = random_buf({17, 4, 1, 1}, 3);
  wider.graph.nodes[1].inputs[1] = wider.graph.add_constant("w17", w.shape, w.data);
  EXPECT_FALSE(PointwiseSum::applies(wider.graph, wider.terms, {}));

  PostOp sigmoid{PostOp::Kind::Eltwise, 2, dnnl::algorithm::eltwise_logistic};
  PostOp binary{PostOp::Kind::Binary, 2, dnnl::algorithm::binary_add, 0.0f, 0.0f, 0};
  PostOp sum{PostOp::Kind::Sum, 2};
  for (const PostOp& op : {sigmoid, binary, sum}) EXPECT_FALSE(PointwiseSum::applies(ok.graph, ok.terms, {&op, 1}));
}

}  // namespace
}  // namespace tessera::reference::testing

namespace tessera::testing {
namespace {

// x (6 channels) -> r = relu(x); p = relu(conv1x1(x) + conv1x1(r)) (the sum's nodes consecutive:
// one PointwiseSum with the Relu folded); q = conv1x1(p) + conv1x1(sigmoid(p)), where the Sigmoid
// runs between the two convolutions (two parts: b1's running sum, which q's part continues);
// y = conv3x3(q + p) to 3 channels.
std::string write_sums_onnx(const TempDir& dir) {
  onnx::ModelProto model;
  onnx::GraphProto* g = start_image_model(model, "sums", 6, 3);
  std::mt19937 rng(3);
  const std::vector<int> no_pads{0, 0, 0, 0};
  add_node(g, "Relu", {"x"}, "r");
  add_conv(g, rng, "x", "a1", 6, 20, 1, no_pads);
  add_conv(g, rng, "r", "a2", 6, 20, 1, no_pads);
  add_node(g, "Add", {"a1", "a2"}, "s");
  add_node(g, "Relu", {"s"}, "p");
  add_conv(g, rng, "p", "b1", 20, 20, 1, no_pads);
  add_node(g, "Sigmoid", {"p"}, "e");
  add_conv(g, rng, "e", "b2", 20, 20, 1, no_pads);
  add_node(g, "Add", {"b1", "b2"}, "q");
  add_node(g, "Add", {"q", "p"}, "z");
  add_conv(g, rng, "z", "y", 20, 3, 3, {1, 1, 1, 1});
  return save_onnx(dir, model, "sums.onnx");
}

TEST(PointwiseSumModel, OnednnRunsSumsWholeAndInPartsMatchesReferenceAndTilesStitch) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  SKIP_WITHOUT_AVX512;
  TempDir dir;
  std::shared_ptr<const Model> model = compile_small_onnx(dir, write_sums_onnx(dir), 96, "sums.tsr");
  ASSERT_TRUE(model);
  const ir::Graph& g = model->data().graph;
  onednn::ExecutionPlan plan = onednn::plan_execution(model->data(), model->data().plan);
  std::map<std::string, int> node;
  for (size_t n = 0; n < g.nodes.size(); ++n) node[g.nodes[n].name] = static_cast<int>(n);
  auto names = [&](const std::vector<int>& nodes) {
    std::vector<std::string> out;
    for (int n : nodes) out.push_back(g.nodes[n].name);
    return out;
  };
  std::vector<std::string> runs;
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (plan.nodes[n].role == onednn::Role::PointwiseSum) runs.push_back(g.nodes[n].name);
  EXPECT_EQ(runs, (std::vector<std::string>{"s", "b1", "q"}));

  const onednn::NodePlan& s = plan.nodes[node["s"]];
  EXPECT_EQ(names(s.terms), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(s.running, -1);
  EXPECT_TRUE(s.last_part);
  ASSERT_EQ(s.post_ops.size(), 1u);  // the Relu
  EXPECT_EQ(g.nodes[s.post_ops[0].node].name, "p");
  for (int t : s.terms) EXPECT_EQ(plan.nodes[t].role, onednn::Role::Fused);

  const onednn::NodePlan &b1 = plan.nodes[node["b1"]], &q = plan.nodes[node["q"]];
  EXPECT_EQ(names(b1.terms), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(b1.running, -1);
  EXPECT_FALSE(b1.last_part);
  EXPECT_EQ(names(q.terms), (std::vector<std::string>{"b2"}));
  EXPECT_EQ(q.running, g.nodes[node["b1"]].output);
  EXPECT_TRUE(q.last_part);
  EXPECT_EQ(names(q.sum_terms), (std::vector<std::string>{"b1", "b2"}));
  EXPECT_TRUE(q.post_ops.empty());  // z = q + p is not a post-op of the kernel
  EXPECT_EQ(plan.nodes[node["b2"]].role, onednn::Role::Fused);
  EXPECT_EQ(plan.nodes[node["e"]].role, onednn::Role::Primitive);  // the Sigmoid, between the parts

  std::shared_ptr<const Model> whole = compile_small_onnx(dir, write_sums_onnx(dir), 200, "whole.tsr");
  ASSERT_TRUE(whole);
  expect_matches_reference_and_tiles_stitch(model, whole, "onednn");
}

// The test model residual_dense_net: the compiler runs its global fusion's terms as its blocks
// end, which plans a smaller arena than the sum in one place, and oneDNN runs them as parts, each
// continuing the running sum of the ones before.
TEST(PointwiseSumModel, AResidualDenseNetsFusionRunsInPartsAsItsBlocksEnd) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  SKIP_WITHOUT_AVX512;
  std::shared_ptr<const Model> model = compile_and_load(test_model("residual_dense_net"));
  ASSERT_TRUE(model);
  const ModelData& d = model->data();
  onednn::ExecutionPlan plan = onednn::plan_execution(d, d.plan);
  std::vector<int> parts;
  for (size_t n = 0; n < d.graph.nodes.size(); ++n)
    if (plan.nodes[n].role == onednn::Role::PointwiseSum && (plan.nodes[n].running >= 0 || !plan.nodes[n].last_part))
      parts.push_back(static_cast<int>(n));
  // A part as each of the first three blocks has been read by the next, the last with the fourth.
  ASSERT_EQ(parts.size(), 3u);
  for (size_t k = 0; k < parts.size(); ++k) {
    const onednn::NodePlan& part = plan.nodes[parts[k]];
    EXPECT_EQ(part.terms.size(), k + 1 == parts.size() ? 2u : 1u);
    EXPECT_EQ(part.running, k == 0 ? -1 : plan.nodes[parts[k - 1]].output);
    EXPECT_EQ(part.last_part, k + 1 == parts.size());
  }
  EXPECT_EQ(plan.nodes[parts.back()].sum_terms.size(), 4u);
  EXPECT_GT(parts[1] - parts[0], 2) << "a block runs between two parts";
}

}  // namespace
}  // namespace tessera::testing
