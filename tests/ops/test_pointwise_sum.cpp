// The oneDNN backend's own kernel for sums of 1x1 convolutions (src/backends/onednn/pointwise_sum.h)
// against the reference Conv, Add and activations: 2 to 5 terms of odd input channel counts, output
// channel counts on and off the 16-lane vectors and past one block of 64, pixel counts that leave
// a ragged end, the post-ops it folds; its results do not depend on the thread count or on where a
// pixel falls; and in a model on the oneDNN backend it runs the sums whose nodes are consecutive,
// matches the reference backend and stitches tiles bit for bit.
#include <omp.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <optional>
#include <random>

#include "backends/onednn/ops.h"
#include "backends/onednn/pointwise_sum.h"
#include "onnx_builder.h"
#include "op_test_util.h"
#include "test_support.h"
#include "tiling/tiled_runner.h"

namespace tessera::reference::testing {
namespace {

using onednn::PointwiseSum;
using onednn::PostOp;

#define SKIP_WITHOUT_AVX512 \
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "the pointwise sum kernel needs AVX-512"

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

// Data of the logical shape s, NCHW to NHWC or back.
std::vector<float> relayout(const std::vector<float>& data, const Shape& s, bool to_nhwc) {
  std::vector<float> out(data.size());
  const int64_t hw = s[2] * s[3];
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t i = 0; i < hw; ++i) {
        const int64_t nchw = (n * s[1] + c) * hw + i, nhwc = (n * hw + i) * s[1] + c;
        out[to_nhwc ? nhwc : nchw] = data[to_nhwc ? nchw : nhwc];
      }
  return out;
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
  sum.run(views, y.data());
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

// Blocks split over any number of threads give the same bits.
TEST(PointwiseSum, ThreadCountDoesNotChangeBits) {
  SKIP_WITHOUT_AVX512;
  const int64_t channels[] = {64, 17, 32};
  Case c = make_case(channels, 64, {1, 0, 23, 45}, true, Tail::Relu, 7);
  PointwiseSum sum(c.graph.graph, c.graph.terms, c.graph.post_ops);
  const std::vector<float> one = kernel_nhwc(sum, c.nhwc, c.shapes, 64, 1);
  for (int threads : {2, 3, 4}) EXPECT_EQ(kernel_nhwc(sum, c.nhwc, c.shapes, 64, threads), one) << threads << " threads";
}

// A pixel's bits depend only on its own inputs: runs that start 1 to 24 pixels later (moving every
// pixel between blocks, and into or out of the one-pixel path at the end) give each pixel the bits
// of the whole run.
TEST(PointwiseSum, PixelsDoNotDependOnWhereTheyFall) {
  SKIP_WITHOUT_AVX512;
  for (int64_t out_c : {16, 48, 64, 80}) {
    const int64_t channels[] = {12, 64};
    const int64_t width = 61;
    Case c = make_case(channels, out_c, {1, 0, 1, width}, true, Tail::LeakyRelu, static_cast<uint32_t>(out_c));
    PointwiseSum sum(c.graph.graph, c.graph.terms, c.graph.post_ops);
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
          << out_c << " outputs, starting " << skip << " pixels on";
    }
  }
}

// What the kernel takes: two or more plain 1x1 convolutions with the same outputs, and the post-ops it has.
TEST(PointwiseSum, AppliesToPlainPointwiseConvolutionsWithItsPostOps) {
  SKIP_WITHOUT_AVX512;
  const int64_t channels[] = {8, 4};
  SumGraph ok = sum_graph(channels, 16, true, Tail::HardSigmoid, 1);
  EXPECT_TRUE(PointwiseSum::applies(ok.graph, ok.terms, ok.post_ops));
  EXPECT_FALSE(PointwiseSum::applies(ok.graph, std::span<const int>(ok.terms).first(1), {}));

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
// PointwiseSum with the Relu folded); q = conv1x1(p) + conv1x1(sigmoid(p)), where the Sigmoid runs
// between the two convolutions (not consecutive: oneDNN); y = conv3x3(q + p) to 3 channels.
std::string write_sums_onnx(const TempDir& dir) {
  onnx::ModelProto model;
  onnx::GraphProto* g = start_image_model(model, "sums", 6, 3);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  auto node = [&](const char* op, std::vector<std::string> in, const std::string& out) {
    onnx::NodeProto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (const std::string& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  };
  auto conv = [&](const std::string& in, const std::string& out, int in_c, int out_c, int k) {
    onnx::NodeProto* n = node("Conv", {in}, out);
    for (const char* suffix : {"_w", "_b"}) {
      onnx::TensorProto* t = g->add_initializer();
      t->set_name(out + suffix);
      t->set_data_type(onnx::TensorProto::FLOAT);
      std::vector<int> dims = {out_c, in_c, k, k};
      if (suffix == std::string("_b")) dims.resize(1);
      int count = 1;
      for (int d : dims) t->add_dims(d), count *= d;
      for (int i = 0; i < count; ++i) t->add_float_data(u(rng));
      n->add_input(out + suffix);
    }
    onnx::AttributeProto* pads = n->add_attribute();
    pads->set_name("pads");
    pads->set_type(onnx::AttributeProto::INTS);
    for (int i = 0; i < 4; ++i) pads->add_ints(k / 2);
  };
  node("Relu", {"x"}, "r");
  conv("x", "a1", 6, 20, 1);
  conv("r", "a2", 6, 20, 1);
  node("Add", {"a1", "a2"}, "s");
  node("Relu", {"s"}, "p");
  conv("p", "b1", 20, 20, 1);
  node("Sigmoid", {"p"}, "e");
  conv("e", "b2", 20, 20, 1);
  node("Add", {"b1", "b2"}, "q");
  node("Add", {"q", "p"}, "z");
  conv("z", "y", 20, 3, 3);
  std::string path = dir.file("sums.onnx");
  write_file(path, model.SerializeAsString());
  return path;
}

Result<Tensor> run_copy(Session& session, const Tensor& image) {
  ConstTensorView view = image.view();
  Result<std::span<const TensorView>> out = session.run({&view, 1});
  if (!out.ok()) return out.status();
  return copy_of((*out)[0]);
}

std::shared_ptr<const Model> compile_sums(const TempDir& dir, int64_t max, const std::string& name) {
  CompileOptions options;
  for (const char* dim : {"height", "width"}) options.dims.push_back({dim, 8, max, 1});
  Result<CompiledModel> compiled = compile_file(write_sums_onnx(dir), dir.file(name), options);
  EXPECT_TRUE(compiled.ok()) << compiled.status().message();
  Result<std::shared_ptr<const Model>> model = Model::load(dir.file(name));
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

TEST(PointwiseSumModel, OnednnRunsConsecutiveSumsMatchesReferenceAndTilesStitch) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  SKIP_WITHOUT_AVX512;
  TempDir dir;
  std::shared_ptr<const Model> model = compile_sums(dir, 96, "sums.tsr");
  ASSERT_TRUE(model);
  const ir::Graph& g = model->data().graph;
  onednn::ExecutionPlan plan = onednn::plan_execution(model->data(), model->data().plan);
  int sums = 0;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const onednn::NodePlan& np = plan.nodes[n];
    if (np.role != onednn::Role::PointwiseSum) continue;
    ++sums;
    EXPECT_EQ(g.nodes[n].name, "s");
    ASSERT_EQ(np.terms.size(), 2u);
    EXPECT_EQ(g.nodes[np.terms[0]].name, "a1");
    EXPECT_EQ(g.nodes[np.terms[1]].name, "a2");
    ASSERT_EQ(np.post_ops.size(), 1u);  // the Relu
    EXPECT_EQ(g.nodes[np.post_ops[0].node].name, "p");
    for (int t : np.terms) EXPECT_EQ(plan.nodes[t].role, onednn::Role::Fused);
  }
  EXPECT_EQ(sums, 1);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (g.nodes[n].name == "b1" || g.nodes[n].name == "b2") EXPECT_EQ(plan.nodes[n].role, onednn::Role::Primitive);
  }

  Result<std::unique_ptr<Session>> fast = Session::create(model, {"onednn", 2});
  Result<std::unique_ptr<Session>> reference = Session::create(model, {"reference", 1});
  ASSERT_TRUE(fast.ok() && reference.ok());
  EXPECT_TRUE((*fast)->fallbacks().empty());
  for (auto [h, w] : {std::pair{8, 8}, std::pair{96, 96}, std::pair{37, 90}, std::pair{61, 13}}) {
    Tensor image = random_input(*model, h, w, static_cast<uint32_t>(h + w));
    Result<Tensor> got = run_copy(**fast, image), want = run_copy(**reference, image);
    ASSERT_TRUE(got.ok() && want.ok()) << got.status().message();
    Difference d = compare(got->view(), want->view());
    EXPECT_LE(d.max_abs, 1e-5 * std::max(d.scale, 1e-2)) << h << "x" << w;
  }

  std::shared_ptr<const Model> whole = compile_sums(dir, 200, "whole.tsr");
  ASSERT_TRUE(whole);
  Tensor image = random_input(*model, 150, 170, 9);
  Result<std::unique_ptr<Session>> session = Session::create(whole, {"onednn", 2});
  ASSERT_TRUE(session.ok());
  Result<Tensor> full = run_copy(**session, image);
  ASSERT_TRUE(full.ok());
  for (int64_t tile : {24, 41}) {
    Result<Tensor> tiled = tiling::run_tiled(model, image.view(), {tile, 0}, {.threads = 3, .backend = "onednn"});
    ASSERT_TRUE(tiled.ok()) << tiled.status().message();
    EXPECT_EQ(bit_differences(*tiled, *full), 0) << "tile " << tile;
  }
}

}  // namespace
}  // namespace tessera::testing
