// The compiler's concat and skip rewrites on hand-built graphs: what they change (weights, nodes,
// the order of an Add's inputs) and the cases they must leave alone. The whole test model
// dense_residual checks their results against PyTorch and tiled against full on every backend.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compile/passes.h"

namespace tessera::testing {
namespace {

// A graph over one input image [1, channels, height, width] (height and width 8..32).
class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t channels) {
    g.dims = {{"height", 8, 32, 1}, {"width", 8, 32, 1}};
    ir::Value in;
    in.name = "x";
    in.kind = ir::ValueKind::Input;
    in.input_dims = {{1, -1}, {channels, -1}, {0, 0}, {0, 1}};
    g.inputs = {g.add_value(in)};
  }

  int input() const { return g.inputs[0]; }

  // A conv of `in` (with `in_channels`) to `out_channels` whose weight k (in OIHW order) is k + 1.
  int conv(int in, int64_t in_channels, int64_t out_channels, ir::ConvAttrs a = {}, bool bias = true) {
    const Shape w{out_channels, in_channels, a.kernel[0], a.kernel[1]};
    std::vector<float> weights(static_cast<size_t>(w.element_count()));
    for (size_t k = 0; k < weights.size(); ++k) weights[k] = static_cast<float>(k + 1);
    std::vector<int> inputs = {in, g.add_constant("w", w, std::move(weights))};
    if (bias) inputs.push_back(g.add_constant("b", Shape{out_channels}, std::vector<float>(out_channels, 0.5f)));
    return node(ir::Op::Conv, inputs, a);
  }

  int concat(std::vector<int> inputs, int64_t axis = 1) { return node(ir::Op::Concat, inputs, ir::ConcatAttrs{axis}); }
  int add(int a, int b) { return node(ir::Op::Add, {a, b}); }
  int relu(int a) { return node(ir::Op::Relu, {a}); }

  int node(ir::Op op, std::vector<int> inputs, ir::Attrs attrs = {}) {
    ir::Node n;
    n.op = op;
    n.name = fmt::format("n{}", g.nodes.size());
    n.inputs = std::move(inputs);
    n.attrs = attrs;
    ir::Value v;
    v.name = n.name;
    n.output = g.add_value(v);
    g.nodes.push_back(n);
    return n.output;
  }

  ir::Graph& finish(int output) {
    g.outputs = {output};
    return g;
  }

  ir::Graph g;
};

ir::ConvAttrs kernel3(int64_t pad = 1) {
  ir::ConvAttrs a;
  a.kernel = {3, 3};
  a.pads = {pad, pad, pad, pad};
  return a;
}

std::vector<ir::Op> ops_of(const ir::Graph& g) {
  std::vector<ir::Op> ops;
  for (const ir::Node& n : g.nodes) ops.push_back(n.op);
  return ops;
}

const ir::Node& producer_of(const ir::Graph& g, int value) {
  return *std::find_if(g.nodes.begin(), g.nodes.end(), [&](const ir::Node& n) { return n.output == value; });
}

const float* weights_of(const ir::Graph& g, const ir::Node& conv) { return g.values[conv.inputs[1]].constant_data; }

TEST(FlattenChannelConcats, NestedConcatsReadTheTensorsTheyJoin) {
  GraphBuilder b(2);
  const int x = b.input(), r1 = b.relu(x), r2 = b.relu(r1);
  const int inner = b.concat({x, r1});
  const int outer = b.concat({inner, r2});
  ir::Graph& g = b.finish(b.conv(outer, 6, 2));
  flatten_channel_concats(g);
  EXPECT_EQ(ops_of(g), (std::vector<ir::Op>{ir::Op::Relu, ir::Op::Relu, ir::Op::Concat, ir::Op::Conv}));
  EXPECT_EQ(producer_of(g, outer).inputs, (std::vector<int>{x, r1, r2}));
}

TEST(FlattenChannelConcats, KeepsAnInnerConcatThatIsReadElsewhereAndOtherAxes) {
  GraphBuilder b(2);
  const int x = b.input();
  const int inner = b.concat({x, x});
  const int outer = b.concat({inner, x});
  const int height = b.concat({outer, outer}, 2);
  ir::Graph& g = b.finish(b.add(b.conv(height, 6, 2), b.conv(inner, 4, 2, {}, false)));
  flatten_channel_concats(g);
  EXPECT_EQ(producer_of(g, outer).inputs, (std::vector<int>{x, x, x}));
  EXPECT_EQ(producer_of(g, height).inputs, (std::vector<int>{outer, outer}));
  const std::vector<ir::Op> ops = ops_of(g);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), ir::Op::Concat), 3);
}

TEST(FoldSkipIntoConv, PointwiseConvGainsTheIdentity) {
  GraphBuilder b(2);
  const int x = b.input();
  const int y = b.add(b.conv(x, 2, 2), x);
  ir::Graph& g = b.finish(y);
  fold_skip_into_conv(g);
  ASSERT_EQ(ops_of(g), (std::vector<ir::Op>{ir::Op::Conv}));
  EXPECT_EQ(g.nodes[0].output, y);
  const float* w = weights_of(g, g.nodes[0]);  // [[1, 2], [3, 4]] + I
  EXPECT_EQ(std::vector<float>(w, w + 4), (std::vector<float>{2, 2, 3, 5}));
}

TEST(FoldSkipIntoConv, CentreTapOfAConcatPieceEitherSideOfTheAdd) {
  GraphBuilder b(1);
  const int x = b.input(), r = b.relu(x);
  const int y = b.add(r, b.conv(b.concat({x, r}), 2, 1, kernel3()));  // the skip is the second piece
  ir::Graph& g = b.finish(y);
  fold_skip_into_conv(g);
  ASSERT_EQ(ops_of(g), (std::vector<ir::Op>{ir::Op::Relu, ir::Op::Concat, ir::Op::Conv}));
  const float* w = weights_of(g, g.nodes[2]);  // [1, 2, 3, 3]: piece 1's centre tap is index 9 + 4
  for (int k = 0; k < 18; ++k) EXPECT_EQ(w[k], k == 13 ? 15.0f : k + 1.0f) << "weight " << k;
}

TEST(FoldSkipIntoConv, DilatedKernelFindsItsCentre) {
  GraphBuilder b(1);
  ir::ConvAttrs a = kernel3(2);
  a.dilations = {2, 2};
  const int x = b.input();
  ir::Graph& g = b.finish(b.add(b.conv(x, 1, 1, a), x));
  fold_skip_into_conv(g);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(weights_of(g, g.nodes[0])[4], 6.0f);
}

TEST(FoldSkipIntoConv, LeavesSkipsNoTapReadsAlone) {
  auto unchanged = [](GraphBuilder& b, int y) {
    ir::Graph& g = b.finish(y);
    const std::vector<ir::Op> before = ops_of(g);
    fold_skip_into_conv(g);
    return ops_of(g) == before;
  };
  {  // grouped: the weights do not map every input channel to every output channel
    GraphBuilder b(2);
    ir::ConvAttrs a;
    a.group = 2;
    const int x = b.input();
    EXPECT_TRUE(unchanged(b, b.add(b.conv(x, 1, 2, a), x)));
  }
  {  // the taps straddle the output pixel (rows y-1, y+1, y+3): none reads its own position
    GraphBuilder b(1);
    ir::ConvAttrs a = kernel3();
    a.dilations = {2, 2};
    a.pads = {1, 1, 3, 3};
    const int x = b.input();
    EXPECT_TRUE(unchanged(b, b.add(b.conv(x, 1, 1, a), x)));
  }
  {  // the skip is not among the conv's inputs
    GraphBuilder b(1);
    const int x = b.input();
    EXPECT_TRUE(unchanged(b, b.add(b.conv(x, 1, 1), b.relu(x))));
  }
  {  // the conv's output is read elsewhere too
    GraphBuilder b(1);
    const int x = b.input(), c = b.conv(x, 1, 1);
    EXPECT_TRUE(unchanged(b, b.add(b.add(c, x), c)));
  }
}

TEST(SplitConvOverConcat, PointwiseConvReadsEachPieceAndSums) {
  GraphBuilder b(2);
  const int x = b.input(), r = b.relu(x);
  const int y = b.conv(b.concat({x, r, x}), 6, 2);
  ir::Graph& g = b.finish(y);
  split_conv_over_concat(g);
  using ir::Op;
  ASSERT_EQ(ops_of(g), (std::vector<Op>{Op::Relu, Op::Conv, Op::Conv, Op::Add, Op::Conv, Op::Add}));
  const ir::Node &p0 = g.nodes[1], &p1 = g.nodes[2], &s1 = g.nodes[3], &p2 = g.nodes[4], &s2 = g.nodes[5];
  EXPECT_EQ(p0.inputs[0], x);
  EXPECT_EQ(p1.inputs[0], r);
  EXPECT_EQ(p2.inputs[0], x);
  EXPECT_EQ(p0.inputs.size(), 3u);  // the bias, once
  EXPECT_EQ(p1.inputs.size(), 2u);
  // W = [[1..6], [7..12]]: piece 1 takes input channels 2 and 3.
  const float* w1 = weights_of(g, p1);
  EXPECT_EQ(std::vector<float>(w1, w1 + 4), (std::vector<float>{3, 4, 9, 10}));
  EXPECT_EQ(g.values[p1.inputs[1]].constant_shape, (Shape{2, 2, 1, 1}));
  // Each Add takes the running sum second; the last one writes the conv's output.
  EXPECT_EQ(s1.inputs, (std::vector<int>{p1.output, p0.output}));
  EXPECT_EQ(s2.inputs, (std::vector<int>{p2.output, s1.output}));
  EXPECT_EQ(s2.output, y);
}

TEST(SplitConvOverConcat, LeavesSpatialKernelsAndSharedConcatsAlone) {
  GraphBuilder b(2);
  const int x = b.input();
  const int shared = b.concat({x, x});
  const int y = b.add(b.conv(shared, 4, 2, kernel3()), b.conv(shared, 4, 2));
  ir::Graph& g = b.finish(y);
  const std::vector<ir::Op> before = ops_of(g);
  split_conv_over_concat(g);
  EXPECT_EQ(ops_of(g), before);
}

std::vector<std::string> names_of(const ir::Graph& g) {
  std::vector<std::string> names;
  for (const ir::Node& n : g.nodes) names.push_back(n.name);
  return names;
}

// A residual dense network's global fusion: a 1x1 conv over the concat of three blocks' outputs.
// Each term runs once the next block has read its input; the sum's order stays.
TEST(RunSumTermsEarly, EachTermRunsOnceItsInputsOtherReadersHave) {
  GraphBuilder b(2);
  const int b1 = b.conv(b.input(), 2, 2, kernel3()), b2 = b.conv(b1, 2, 2, kernel3()), b3 = b.conv(b2, 2, 2, kernel3());
  ir::Graph& g = b.finish(b.conv(b.concat({b1, b2, b3}), 6, 2));
  split_conv_over_concat(g);
  ASSERT_EQ(names_of(g),
            (std::vector<std::string>{"n0", "n1", "n2", "n4/part0", "n4/part1", "n4/sum1", "n4/part2", "n4/sum2"}));
  run_sum_terms_early(g, [](const ir::Graph&) { return true; });
  EXPECT_EQ(names_of(g),
            (std::vector<std::string>{"n0", "n1", "n4/part0", "n2", "n4/part1", "n4/sum1", "n4/part2", "n4/sum2"}));
}

// A term whose input is read after the sum, or whose input comes before the previous term's, does
// not move ahead of them.
TEST(RunSumTermsEarly, NeverPassesAReaderOrTheTermBefore) {
  GraphBuilder b(2);
  const int b1 = b.conv(b.input(), 2, 2, kernel3()), b2 = b.conv(b1, 2, 2, kernel3()), b3 = b.conv(b2, 2, 2, kernel3());
  const int y = b.conv(b.concat({b2, b1, b3}), 6, 2);
  ir::Graph& g = b.finish(b.add(y, b2));
  split_conv_over_concat(g);
  const std::vector<std::string> split = names_of(g);
  ASSERT_EQ(split, (std::vector<std::string>{"n0", "n1", "n2", "n4/part0", "n4/part1", "n4/sum1", "n4/part2", "n4/sum2",
                                             "n5"}));
  run_sum_terms_early(g, [](const ir::Graph&) { return true; });
  EXPECT_EQ(names_of(g), split);  // b2 is read by the last Add; b1's term comes after b2's
}

// A term does not come between a convolution and its activation (a backend runs them as one), and
// what `keep` refuses is undone.
TEST(RunSumTermsEarly, StaysOutOfAConvolutionAndItsActivationAndUndoesWhatKeepRefuses) {
  GraphBuilder b(2);
  const int b1 = b.conv(b.input(), 2, 2, kernel3()), b2 = b.relu(b.conv(b1, 2, 2, kernel3()));
  const int b3 = b.conv(b2, 2, 2, kernel3());
  ir::Graph& g = b.finish(b.conv(b.concat({b1, b2, b3}), 6, 2));
  split_conv_over_concat(g);
  const std::vector<std::string> split = names_of(g);
  ASSERT_EQ(split, (std::vector<std::string>{"n0", "n1", "n2", "n3", "n5/part0", "n5/part1", "n5/sum1", "n5/part2",
                                             "n5/sum2"}));
  int asked = 0;
  run_sum_terms_early(g, [&](const ir::Graph& early) {
    ++asked;
    EXPECT_EQ(names_of(early), (std::vector<std::string>{"n0", "n1", "n2", "n5/part0", "n3", "n5/part1", "n5/sum1",
                                                         "n5/part2", "n5/sum2"}));
    return false;
  });
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(names_of(g), split);
}

// ... but does when the convolution's output is also the graph's: then no backend runs the two as one.
TEST(RunSumTermsEarly, GoesBetweenAConvolutionAndItsActivationWhenTheGraphOutputsTheConvolution) {
  GraphBuilder b(2);
  const int b1 = b.conv(b.input(), 2, 2, kernel3()), c = b.conv(b1, 2, 2, kernel3()), b2 = b.relu(c);
  const int b3 = b.conv(b2, 2, 2, kernel3());
  ir::Graph& g = b.finish(b.conv(b.concat({b1, b2, b3}), 6, 2));
  g.outputs.push_back(c);
  split_conv_over_concat(g);
  ASSERT_EQ(names_of(g), (std::vector<std::string>{"n0", "n1", "n2", "n3", "n5/part0", "n5/part1", "n5/sum1",
                                                   "n5/part2", "n5/sum2"}));
  run_sum_terms_early(g, [](const ir::Graph&) { return true; });
  EXPECT_EQ(names_of(g), (std::vector<std::string>{"n0", "n1", "n5/part0", "n2", "n3", "n5/part1", "n5/sum1",
                                                   "n5/part2", "n5/sum2"}));
}

}  // namespace
}  // namespace tessera::testing
