// ir::validate on graphs that an importer never makes but a crafted .tsr can hold: each is refused by
// Model::load, and by the compiler with the same message, before any backend sees it.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "compile/compiler.h"
#include "format/header.h"
#include "format/writer.h"
#include "ir/validate.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

using ir::Op;

// x [1, 4, height, width] (16..64, even) through one node of nearly every op to y.
class GraphMaker {
 public:
  GraphMaker() {
    g_.dims.push_back({{"height", 16, 64, 2}});
    g_.dims.push_back({{"width", 16, 64, 2}});
    ir::Value x{"x", ir::ValueKind::Input, {{1, -1}, {4, -1}, {0, 0}, {0, 1}}};
    g_.inputs.push_back(g_.add_value(x));
  }

  int constant(const std::string& name, const Shape& shape, float value = 0.1f) {
    return g_.add_constant(name, shape, std::vector<float>(shape.element_count(), value));
  }

  int node(Op op, const std::string& name, std::vector<int> inputs, ir::Attrs attrs = {}) {
    ir::Value v;
    v.name = name;
    int out = g_.add_value(v);
    g_.nodes.push_back({op, name, std::move(inputs), out, std::move(attrs)});
    return out;
  }

  // x through three 1x1 Convs of stride 256: a resolution of 1/2^24.
  static ir::Graph strided() {
    GraphMaker m;
    ir::ConvAttrs conv;
    conv.strides = {256, 256};
    int v = 0;
    for (const char* name : {"s1", "s2", "s3"})
      v = m.node(Op::Conv, name, {v, m.constant(std::string(name) + "_w", {4, 4, 1, 1})}, conv);
    m.g_.outputs.push_back(v);
    return std::move(m.g_);
  }

  // x [1, 1, height, width] (16..2^19 each: 1 TiB of input at the upper bound) averaged to one value.
  static ir::Graph global_pool() {
    GraphMaker m;
    for (ir::DynamicDim& d : m.g_.dims) static_cast<DimInfo&>(d) = {d.name, 16, int64_t{1} << 19, 1};
    m.g_.values[0].input_dims[1].fixed = 1;
    m.g_.outputs.push_back(m.node(Op::GlobalAveragePool, "mean", {0}));
    return std::move(m.g_);
  }

  // The graph every case starts from.
  static ir::Graph chain() {
    GraphMaker m;
    ir::ConvAttrs conv;
    conv.kernel = {3, 3};
    conv.pads = {1, 1, 1, 1};
    int c = m.node(Op::Conv, "conv", {0, m.constant("conv_w", {8, 4, 3, 3}), m.constant("conv_b", {8})}, conv);
    int l = m.node(Op::LeakyRelu, "leaky", {c}, ir::LeakyReluAttrs{0.1f});
    int cl = m.node(Op::Clip, "clip", {l}, ir::ClipAttrs{-1.0f, 1.0f});
    int hs = m.node(Op::HardSigmoid, "hard_sigmoid", {cl}, ir::HardSigmoidAttrs{});
    ir::PoolAttrs pool;
    pool.kernel = {2, 2};
    pool.strides = {2, 2};
    int mp = m.node(Op::MaxPool, "pool", {hs}, pool);
    ir::ResizeAttrs resize;
    resize.scales = {2.0f, 2.0f};
    int rs = m.node(Op::Resize, "resize", {mp}, resize);
    int cat = m.node(Op::Concat, "concat", {rs, hs}, ir::ConcatAttrs{1});
    int d = m.node(Op::DepthToSpace, "d2s", {cat}, ir::DepthToSpaceAttrs{2});
    ir::PadAttrs pad;
    pad.pads = {0, 0, 1, 1, 0, 0, 1, 1};
    int p = m.node(Op::Pad, "pad", {d}, pad);
    ir::ConvAttrs up;
    up.kernel = {2, 2};
    up.strides = {2, 2};
    int ct = m.node(Op::ConvTranspose, "up", {p, m.constant("up_w", {4, 3, 2, 2})}, up);
    int r = m.node(Op::Relu, "relu", {ct});
    m.g_.outputs.push_back(r);
    return std::move(m.g_);
  }

 private:
  ir::Graph g_;
};

ir::Node& node_named(ir::Graph& g, const std::string& name) {
  for (ir::Node& n : g.nodes)
    if (n.name == name) return n;
  throw std::runtime_error("no node " + name);
}
int value_named(const ir::Graph& g, const std::string& name) {
  for (size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].name == name) return static_cast<int>(v);
  throw std::runtime_error("no value " + name);
}
template <typename A>
A& attrs(ir::Graph& g, const std::string& name) {
  return std::get<A>(node_named(g, name).attrs);
}

TEST(Validate, TheChainIsValidAndRunsOnEveryBackend) {
  TempDir dir;
  Result<tessera::ModelFile> compiled = compile(GraphMaker::chain(), {});
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  ASSERT_TRUE(write_tsr(*compiled, dir.file("chain.tsr")).ok());
  Result<std::shared_ptr<const Model>> model = Model::load(dir.file("chain.tsr"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  Tensor x(Shape{1, 4, 18, 22});
  for (const std::string& backend : available_backends()) {
    auto session = Session::create(*model, {backend, 1});
    ASSERT_TRUE(session.ok()) << backend << ": " << session.status().message();
    ConstTensorView in = x.view();
    auto out = (*session)->run({&in, 1});
    ASSERT_TRUE(out.ok()) << backend << ": " << out.status().message();
  }
}

struct Case {
  const char* name;
  std::function<void(ir::Graph&)> mutate;
  const char* message;
};

const Case kCases[] = {
    // The fault a crafted file showed: 1x1 weights under a larger kernel attribute.
    {"KernelLargerThanItsWeights", [](ir::Graph& g) { attrs<ir::ConvAttrs>(g, "conv").kernel = {5, 5}; },
     "node 'conv' (Conv): its weight [8, 4, 3, 3] does not hold a 5x5 kernel"},
    {"GroupsNotDividingChannels", [](ir::Graph& g) { attrs<ir::ConvAttrs>(g, "conv").group = 3; },
     "8 output channels do not split into 3 groups"},
    {"HugePads", [](ir::Graph& g) { attrs<ir::ConvAttrs>(g, "conv").pads = {2000000000, 1, 1, 1}; },
     "pads 2000000000x1x1x1 is out of range"},
    {"ZeroStride", [](ir::Graph& g) { attrs<ir::ConvAttrs>(g, "conv").strides = {0, 1}; }, "strides 0x1 is out of range"},
    {"NegativeDilation", [](ir::Graph& g) { attrs<ir::ConvAttrs>(g, "conv").dilations = {1, -2}; },
     "dilations 1x-2 is out of range"},
    {"ComputedBias", [](ir::Graph& g) { node_named(g, "conv").inputs[2] = 0; },
     "its bias 'x' is not a constant"},
    {"ComputedWeights", [](ir::Graph& g) { node_named(g, "up").inputs[1] = value_named(g, "d2s"); },
     "its weight 'd2s' is not a constant"},
    {"TooManyInputs", [](ir::Graph& g) { node_named(g, "conv").inputs.push_back(0); }, "has 4 inputs; it takes at most 3"},
    {"TooFewInputs", [](ir::Graph& g) { node_named(g, "up").inputs.resize(1); }, "has 1 inputs; it takes 2 to 3"},
    {"NanSlope", [](ir::Graph& g) { attrs<ir::LeakyReluAttrs>(g, "leaky").alpha = std::nanf(""); },
     "alpha is nan; it must be a finite number"},
    {"ClipBoundsReversed", [](ir::Graph& g) { attrs<ir::ClipAttrs>(g, "clip") = {1.0f, -1.0f}; },
     "bounds 1..-1 are not a range"},
    {"InfiniteBeta",
     [](ir::Graph& g) { attrs<ir::HardSigmoidAttrs>(g, "hard_sigmoid").beta = std::numeric_limits<float>::infinity(); },
     "beta is inf"},
    {"PoolPadAsLargeAsItsWindow", [](ir::Graph& g) { attrs<ir::PoolAttrs>(g, "pool").pads = {0, 2, 0, 0}; },
     "pad 2 is not smaller than its 2x2 window"},
    {"HugeResizeScale", [](ir::Graph& g) { attrs<ir::ResizeAttrs>(g, "resize").scales = {1e6f, 2.0f}; },
     "scale 1000000 is out of range"},
    {"ZeroResizeScale", [](ir::Graph& g) { attrs<ir::ResizeAttrs>(g, "resize").scales = {2.0f, 0.0f}; },
     "scale 0 is out of range"},
    {"ConcatAxisOutsideTheRank", [](ir::Graph& g) { attrs<ir::ConcatAttrs>(g, "concat").axis = 9; },
     "axis 9 is out of range"},
    {"ZeroBlock", [](ir::Graph& g) { attrs<ir::DepthToSpaceAttrs>(g, "d2s").block = 0; }, "block size 0 is out of range"},
    {"HugePad", [](ir::Graph& g) { attrs<ir::PadAttrs>(g, "pad").pads[3] = 2000000000; },
     "pad 2000000000 is out of range"},
    {"OutputPaddingNotBelowTheStride", [](ir::Graph& g) { attrs<ir::ConvAttrs>(g, "up").output_padding = {0, 2}; },
     "output_padding 2 must be smaller than the stride or the dilation"},
    {"WrongKindOfAttributes", [](ir::Graph& g) { node_named(g, "relu").attrs = ir::ConvAttrs{}; },
     "node 'relu' (Relu): carries the wrong kind of attributes"},
    {"ReadsALaterValue", [](ir::Graph& g) { node_named(g, "conv").inputs[0] = value_named(g, "relu"); },
     "reads value"},
    {"WritesAConstant", [](ir::Graph& g) { node_named(g, "relu").output = value_named(g, "conv_b"); }, "writes value"},
    {"EmptyValue",
     [](ir::Graph& g) {
       int one = g.add_constant("one", Shape{1}, {1.0f});
       int empty = g.add_constant("empty", Shape{0}, {});
       int sum = g.add_value({"sum"});
       g.nodes.push_back({Op::Add, "add_empty", {one, empty}, sum, {}});
       g.outputs.push_back(sum);
     },
     "value 'sum' [0] is empty at height=64, width=64"},
    {"SizesAboveTheLimit",
     [](ir::Graph& g) {
       for (ir::DynamicDim& d : g.dims) d.max = 3000000;
     },
     "tessera plans at most 1.0 TiB for a model"},
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ValidateCase : public ::testing::TestWithParam<Case> {};

// Model::load says "'PATH' is invalid: " and then what the compiler says.
TEST_P(ValidateCase, LoaderAndCompilerRefuseWithTheSameMessage) {
  const Case& c = GetParam();
  ir::Graph bad = GraphMaker::chain();
  c.mutate(bad);
  Result<tessera::ModelFile> refused = compile(std::move(bad), {});
  ASSERT_FALSE(refused.ok()) << "the compiler accepted it";
  EXPECT_EQ(refused.status().code(), Error::InvalidModel);
  EXPECT_CONTAINS(refused.status().message(), c.message);

  // The same change in a file that the compiler wrote for the valid graph.
  Result<tessera::ModelFile> good = compile(GraphMaker::chain(), {});
  ASSERT_TRUE(good.ok()) << good.status().message();
  c.mutate(good->graph);
  good->plan.offsets.resize(good->graph.values.size(), -1);  // values a case adds have no place in the arena
  TempDir dir;
  const std::string path = dir.file("crafted.tsr");
  ASSERT_TRUE(write_tsr(*good, path).ok());
  Result<std::shared_ptr<const Model>> loaded = Model::load(path);
  ASSERT_FALSE(loaded.ok()) << "Model::load accepted it";
  EXPECT_EQ(loaded.status().code(), Error::InvalidModel);
  EXPECT_EQ(loaded.status().message(), "'" + path + "' is invalid: " + refused.status().message());
}

INSTANTIATE_TEST_SUITE_P(Crafted, ValidateCase, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The crafted file as a user meets it: every command refuses it in one line, exits 1 and writes nothing.
TEST(Validate, EveryCommandRefusesTheCraftedFileInOneLine) {
  Result<tessera::ModelFile> good = compile(GraphMaker::chain(), {});
  ASSERT_TRUE(good.ok()) << good.status().message();
  attrs<ir::ConvAttrs>(good->graph, "conv").kernel = {5, 5};
  TempDir dir;
  ASSERT_TRUE(write_tsr(*good, dir.file("crafted.tsr")).ok());
  Tensor x(Shape{1, 4, 60, 60});
  ASSERT_TRUE(write_npy(dir.file("in.npy"), x.view()).ok());
  for (const std::string backend : {"reference", "xnnpack", "onednn"}) {
    if (!backend_built(backend)) continue;
    for (const std::string& command :
         {fmt::format("run {} {} {} --backend {}", sh(dir.file("crafted.tsr")), sh(dir.file("in.npy")),
                      sh(dir.file("out.npy")), backend),
          fmt::format("info {}", sh(dir.file("crafted.tsr"))),
          fmt::format("verify {} {} --backend {}", sh(dir.file("crafted.tsr")), sh(dir.file("in.npy")), backend)}) {
      CliResult r = run_cli(dir, command);
      EXPECT_EQ(r.exit_code, 1) << command << "\n" << r.err;
      EXPECT_CONTAINS(r.err, "does not hold a 5x5 kernel");
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_FALSE(file_exists(dir.file("out.npy")));
    }
  }
}

// Ranges a .tsr may not declare (the compiler's --dim parser refuses them first, in its own words).
TEST(Validate, BadDimRangesInAFile) {
  const std::pair<DimInfo, const char*> cases[] = {
      {{"height", 0, 64, 2}, "dim 'height' has a bad range 0..64 step 2"},
      {{"height", 32, 16, 1}, "bad range 32..16"},
      {{"height", 16, int64_t{1} << 25, 2}, "bad range"},
      {{"height", 17, 17, 2}, "bad range 17..17 step 2"},
      {{"width", 16, 64, 2}, "dim 'width' is unnamed or named twice"},
  };
  for (const auto& [dim, message] : cases) {
    Result<tessera::ModelFile> good = compile(GraphMaker::chain(), {});
    ASSERT_TRUE(good.ok()) << good.status().message();
    static_cast<DimInfo&>(good->graph.dims[0]) = dim;
    TempDir dir;
    ASSERT_TRUE(write_tsr(*good, dir.file("m.tsr")).ok());
    Result<std::shared_ptr<const Model>> loaded = Model::load(dir.file("m.tsr"));
    ASSERT_FALSE(loaded.ok()) << message;
    EXPECT_CONTAINS(loaded.status().message(), message);
  }
}

// A value larger at a dim's lowest value than at its upper bound would overflow the arena.
TEST(Validate, ShapesAtTheLowEndOfTheRangeAreChecked) {
  Result<tessera::ModelFile> good = compile(GraphMaker::chain(), {});
  ASSERT_TRUE(good.ok()) << good.status().message();
  // At height 3, the pooled and resized branch has 2 rows and meets the 3-row one in the Concat.
  static_cast<DimInfo&>(good->graph.dims[0]) = {"height", 3, 64, 1};
  TempDir dir;
  ASSERT_TRUE(write_tsr(*good, dir.file("m.tsr")).ok());
  Result<std::shared_ptr<const Model>> loaded = Model::load(dir.file("m.tsr"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_CONTAINS(loaded.status().message(), "at height=3, width=64: node 'concat' (Concat)");
}

// A backend whose own buffers at the upper bound do not fit in the machine says so, as out of memory
// (the arena is tiny here: only the input is large).
TEST(Validate, BackendBuffersBeyondTheMachineAreOutOfMemory) {
  Result<tessera::ModelFile> compiled = compile(GraphMaker::global_pool(), {});
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  TempDir dir;
  ASSERT_TRUE(write_tsr(*compiled, dir.file("pool.tsr")).ok());
  Result<std::shared_ptr<const Model>> model = Model::load(dir.file("pool.tsr"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  for (const std::string& backend : available_backends()) {
    Result<std::unique_ptr<Session>> session = Session::create(*model, {backend, 1});
    if (session.ok()) continue;  // a backend that reads its input in place needs no such buffer
    EXPECT_EQ(session.status().code(), Error::OutOfMemory) << backend << ": " << session.status().message();
    EXPECT_CONTAINS(session.status().message(), "height=524288, width=524288");
  }
  if (backend_built("onednn")) {
    Result<std::unique_ptr<Session>> session = Session::create(*model, {"onednn", 1});
    ASSERT_FALSE(session.ok()) << "oneDNN allocated 1 TiB for its input";
    EXPECT_CONTAINS(session.status().message(), "the onednn backend cannot allocate the memory it needs");
  }
}

// Ratios past what the tiling arithmetic handles exactly make a model untileable, with the reason,
// instead of overflowing (the loader would refuse such tiling info).
TEST(Validate, ResolutionsBeyondTheTilingLimitAreNotTileable) {
  Result<tessera::ModelFile> compiled = compile(GraphMaker::strided(), {});
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_FALSE(compiled->tiling.tileable);
  EXPECT_CONTAINS(compiled->tiling.reason, "node 's3' (Conv) takes the resolution to 1/16777216 of the input's");
  TempDir dir;
  ASSERT_TRUE(write_tsr(*compiled, dir.file("strided.tsr")).ok());
  EXPECT_TRUE(Model::load(dir.file("strided.tsr")).ok());
}

}  // namespace
}  // namespace tessera::testing
