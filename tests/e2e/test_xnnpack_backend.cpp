// The XNNPACK backend: every test model against PyTorch at every case size from one Session (1 and 2
// threads); tiled == full bit for bit on this backend; no heap allocation in run() for a shape it is set
// up for; and the nodes it hands to the reference kernels.
#include <algorithm>
#include <cstring>
#include <random>

#include "allocation_counter.h"
#include "compile/dims.h"
#include "runtime/backend.h"
#include "runtime/model_data.h"
#include "test_support.h"
#include "tiling/tiled_runner.h"

namespace tessera::testing {
namespace {

bool xnnpack_built() {
  std::vector<std::string> names = available_backends();
  return std::find(names.begin(), names.end(), "xnnpack") != names.end();
}

#define SKIP_WITHOUT_XNNPACK() \
  if (!xnnpack_built()) GTEST_SKIP() << "built without XNNPACK"

std::unique_ptr<Session> xnnpack_session(std::shared_ptr<const Model> model, int threads) {
  Result<std::unique_ptr<Session>> session = Session::create(std::move(model), SessionOptions{"xnnpack", threads});
  EXPECT_TRUE(session.ok()) << session.status().message();
  return session.ok() ? std::move(session).value() : nullptr;
}

Tensor copy_of(const TensorView& view) {
  Tensor t(view.shape);
  std::memcpy(t.data(), view.data, t.element_count() * sizeof(float));
  return t;
}

// ---------------------------------------------------------------------------------------------------
// 1. Against PyTorch.

class XnnpackVsPyTorch : public ::testing::TestWithParam<TestModel> {};

TEST_P(XnnpackVsPyTorch, MatchesAtEverySizeFromOneSession) {
  SKIP_WITHOUT_XNNPACK();
  const TestModel& m = GetParam();
  std::shared_ptr<const Model> model = compile_and_load(m);
  ASSERT_TRUE(model);
  std::vector<std::pair<Tensor, Tensor>> cases;
  for (const ModelCase& c : m.cases) {
    Result<Tensor> input = read_npy(testdata(c.input));
    Result<Tensor> expected = read_npy(testdata(c.expected));
    ASSERT_TRUE(input.ok() && expected.ok()) << c.input;
    cases.emplace_back(std::move(input).value(), std::move(expected).value());
  }
  for (int threads : {1, 2}) {
    std::unique_ptr<Session> session = xnnpack_session(model, threads);
    ASSERT_TRUE(session);
    EXPECT_EQ(session->backend(), "xnnpack");
    // Every size twice, in a shuffled order: the session meets new and earlier shapes.
    std::vector<size_t> order(2 * cases.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i % cases.size();
    std::shuffle(order.begin(), order.end(), std::mt19937(threads));
    for (size_t i : order) {
      ConstTensorView view = cases[i].first.view();
      Result<std::span<const TensorView>> out = session->run({&view, 1});
      ASSERT_TRUE(out.ok()) << m.name << ": " << out.status().message();
      Difference d = compare((*out)[0], cases[i].second.view());
      EXPECT_LE(d.max_abs, 1e-4 * std::max(d.scale, 1e-2))
          << m.name << " " << view.shape.to_string() << ", " << threads << " threads (scale " << d.scale << ")";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, XnnpackVsPyTorch, ::testing::ValuesIn(test_models()),
                         [](const ::testing::TestParamInfo<TestModel>& p) { return p.param.name; });

// ---------------------------------------------------------------------------------------------------
// 2. Tiled == full, bit for bit, on this backend.

// The test model compiled for a wider range of the same grid, so that whole images larger than the
// model's maximum run in one call.
std::shared_ptr<const Model> compile_wide(const TestModel& m) {
  Result<ir::DynamicDim> range = parse_dim(m.dims[0]);
  EXPECT_TRUE(range.ok());
  if (!range.ok()) return nullptr;
  CompileOptions options;
  for (const char* name : {"height", "width"}) {
    ir::DynamicDim d = *range;
    d.name = name;
    d.max = 3 * range->max + 64;
    options.dims.push_back(d);
  }
  std::string path = testdata(m.name + ".xnnpack-wide.tsr");
  Result<CompiledModel> compiled = compile_file(testdata(m.onnx), path, options);
  EXPECT_TRUE(compiled.ok()) << m.name << ": " << compiled.status().message();
  if (!compiled.ok()) return nullptr;
  Result<std::shared_ptr<const Model>> model = Model::load(path);
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

Tensor random_image(int64_t channels, int64_t h, int64_t w, uint32_t seed) {
  Tensor t(Shape{1, channels, h, w});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.element_count(); ++i) t.data()[i] = u(rng);
  return t;
}

int64_t bit_differences(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape())) return -1;
  int64_t n = 0;
  for (int64_t i = 0; i < a.element_count(); ++i) n += std::memcmp(a.data() + i, b.data() + i, sizeof(float)) != 0;
  return n;
}

std::vector<TestModel> tileable_models() {
  std::vector<TestModel> out;
  for (const TestModel& m : test_models())
    if (m.tileable) out.push_back(m);
  return out;
}

class XnnpackTiledEqualsFull : public ::testing::TestWithParam<TestModel> {};

TEST_P(XnnpackTiledEqualsFull, AcrossRandomSizesTilesAndThreads) {
  SKIP_WITHOUT_XNNPACK();
  const TestModel& m = GetParam();
  std::shared_ptr<const Model> model = compile_and_load(m);
  std::shared_ptr<const Model> wide = compile_wide(m);
  ASSERT_TRUE(model && wide);
  ASSERT_TRUE(model->info().tiling.tileable) << model->info().tiling.reason;
  const ir::DynamicDim& range = model->data().graph.dims[0];
  const int64_t channels = model->data().upper_shapes[model->data().graph.inputs[0]][1];
  const int64_t mult = range.multiple_of, top = std::min<int64_t>(3 * range.max, 1100);
  const AxisTiling& ax = model->info().tiling.axes[0];
  const int64_t grid = std::lcm(ax.alignment, mult);

  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(m.name)));
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  auto on_grid = [&](int64_t v) { return std::max(range.min, v / mult * mult); };
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t h = on_grid(uniform(range.min, top)), w = on_grid(uniform(range.min, top));
    Tensor image = random_image(channels, h, w, static_cast<uint32_t>(h * 7919 + w));
    const int full_threads = static_cast<int>(uniform(1, 4)), workers = static_cast<int>(uniform(1, 4));

    std::unique_ptr<Session> full_session = xnnpack_session(wide, full_threads);
    ASSERT_TRUE(full_session);
    ConstTensorView view = image.view();
    Result<std::span<const TensorView>> full = full_session->run({&view, 1});
    ASSERT_TRUE(full.ok()) << full.status().message();

    Result<tiling::TilePlan> largest = tiling::plan_tiles(*model, h, w, {});
    ASSERT_TRUE(largest.ok()) << m.name << " " << h << "x" << w << ": " << largest.status().message();
    tiling::TilePlanOptions options;
    options.tile = grid * uniform(1, std::max<int64_t>(1, std::min(largest->core_height, largest->core_width) / grid));
    tiling::TilePlan plan;
    Result<Tensor> tiled =
        tiling::run_tiled(model, image.view(), options, workers, &plan, SessionOptions{"xnnpack", 1});
    ASSERT_TRUE(tiled.ok()) << m.name << " " << h << "x" << w << " tile " << options.tile << ": "
                            << tiled.status().message();
    EXPECT_EQ(bit_differences(*tiled, copy_of((*full)[0])), 0)
        << m.name << " image " << h << "x" << w << ", tile " << options.tile << ", " << plan.tiles.size() << " tiles, "
        << workers << " workers, full run on " << full_threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, XnnpackTiledEqualsFull, ::testing::ValuesIn(tileable_models()),
                         [](const ::testing::TestParamInfo<TestModel>& p) { return p.param.name; });

// One image on 1, 2 and 3 threads: the same bits (XNNPACK splits work, never sums, across threads).
TEST(XnnpackBackend, ThreadCountDoesNotChangeTheBits) {
  SKIP_WITHOUT_XNNPACK();
  std::shared_ptr<const Model> model = compile_and_load(test_model("unet"));
  ASSERT_TRUE(model);
  Tensor image = random_image(3, 200, 148, 5);
  ConstTensorView view = image.view();
  std::vector<Tensor> outputs;
  for (int threads : {1, 2, 3}) {
    std::unique_ptr<Session> session = xnnpack_session(model, threads);
    ASSERT_TRUE(session);
    Result<std::span<const TensorView>> out = session->run({&view, 1});
    ASSERT_TRUE(out.ok()) << out.status().message();
    outputs.push_back(copy_of((*out)[0]));
  }
  EXPECT_EQ(bit_differences(outputs[0], outputs[1]), 0);
  EXPECT_EQ(bit_differences(outputs[0], outputs[2]), 0);
}

// ---------------------------------------------------------------------------------------------------
// 3. No heap allocation in run() once set up for a shape, counting operator new and the C allocator
// (XNNPACK and pthreadpool are C). Models with XNNPACK operators, own kernels (Concat, nearest Resize)
// and a reference fallback (Tanh); 1 and 2 threads.

TEST(XnnpackBackend, RunAllocatesNothingForAShapeItIsSetUpFor) {
  SKIP_WITHOUT_XNNPACK();
  for (const char* name : {"unet", "sr_pixelshuffle", "op_add_tensors", "se_block"}) {
    std::shared_ptr<const Model> model = compile_and_load(test_model(name));
    ASSERT_TRUE(model);
    const int64_t channels = model->data().upper_shapes[model->data().graph.inputs[0]][1];
    Tensor a = random_image(channels, 64, 48, 1), b = random_image(channels, 32, 40, 2);
    for (int threads : {1, 2}) {
      std::unique_ptr<Session> session = xnnpack_session(model, threads);
      ASSERT_TRUE(session);
      ConstTensorView va = a.view(), vb = b.view();
      ASSERT_TRUE(session->run({&va, 1}).ok());
      ASSERT_TRUE(session->run({&vb, 1}).ok());  // a new shape: XNNPACK sets its operators up again
      long new_calls, c_calls;
      bool ok;
      {
        AllocationCounter counter;
        Result<std::span<const TensorView>> out = session->run({&vb, 1});
        ok = out.ok();
        new_calls = counter.count();
        c_calls = counter.c_count();
      }
      ASSERT_TRUE(ok);
      EXPECT_EQ(new_calls, 0) << name << ", " << threads << " threads: operator new in run()";
      EXPECT_EQ(c_calls, 0) << name << ", " << threads << " threads: malloc & co in run()";
    }
  }
}

// The counter sees XNNPACK's own allocations (C, through its default allocator), so the zero above
// means something: creating operators and setting them up for a new shape do allocate.
TEST(XnnpackBackend, AllocationCounterSeesXnnpack) {
  SKIP_WITHOUT_XNNPACK();
  std::shared_ptr<const Model> model = compile_and_load(test_model("tiny"));
  ASSERT_TRUE(model);
  Tensor image = random_image(1, 256, 256, 3);
  ConstTensorView view = image.view();
  std::unique_ptr<Session> session;
  long create_calls, setup_calls;
  {
    AllocationCounter counter;
    session = xnnpack_session(model, 1);
    create_calls = counter.c_count();
  }
  ASSERT_TRUE(session);
  {
    AllocationCounter counter;
    ASSERT_TRUE(session->run({&view, 1}).ok());
    setup_calls = counter.c_count();
  }
  EXPECT_GT(create_calls, 0);
  EXPECT_GT(setup_calls, 0) << "a first run sets XNNPACK's operators up: indirection buffers";
}

// ---------------------------------------------------------------------------------------------------
// 4. What falls back to the reference kernels, and what does not.

std::vector<std::string> fallbacks_of(const std::string& name) {
  std::shared_ptr<const Model> model = compile_and_load(test_model(name));
  EXPECT_TRUE(model);
  if (!model) return {"no model"};
  std::unique_ptr<Session> session = xnnpack_session(model, 1);
  return session ? session->fallbacks() : std::vector<std::string>{"no session"};
}

TEST(XnnpackBackend, FallbacksNameTheNodesItDoesNotMap) {
  SKIP_WITHOUT_XNNPACK();
  using List = std::vector<std::string>;
  EXPECT_EQ(fallbacks_of("op_tanh"), List{"Tanh '/Tanh'"});  // no f32 tanh in this XNNPACK
  EXPECT_EQ(fallbacks_of("op_hardsigmoid"), List{"HardSigmoid '/HardSigmoid'"});
  EXPECT_EQ(fallbacks_of("op_pad_reflect"), List{"Pad '/Pad'"});
  EXPECT_EQ(fallbacks_of("op_reduce_mean"), List{"ReduceMean '/ReduceMean'"});
  // A CRD DepthToSpace of the graph input: no conv whose channels could be reordered into DCR.
  EXPECT_EQ(fallbacks_of("op_pixelshuffle2"), List{"DepthToSpace '/DepthToSpace'"});
}

TEST(XnnpackBackend, NoFallbacksForConvNetworks) {
  SKIP_WITHOUT_XNNPACK();
  // tiny: Conv + fused Relu; sr_pixelshuffle: CRD DepthToSpace after a Conv; unet: own Concat and
  // nearest Resize; op_resize_bilinear3: own bilinear kernel (XNNPACK's rounds differently at x3).
  for (const char* name : {"tiny", "sr_pixelshuffle", "unet", "dw_dilated_grouped", "se_block", "op_resize_bilinear3",
                           "op_maxpool_k3_s2_ceil", "op_avgpool_k3_s2_ceil", "op_convT_k3_s2_p1_op1"})
    EXPECT_TRUE(fallbacks_of(name).empty()) << name;
}

TEST(XnnpackBackend, CountsTheMemoryItHolds) {
  SKIP_WITHOUT_XNNPACK();
  std::shared_ptr<const Model> model = compile_and_load(test_model("sr_pixelshuffle"));
  ASSERT_TRUE(model);
  std::unique_ptr<Session> session = xnnpack_session(model, 1);
  ASSERT_TRUE(session);
  // At least the NHWC input copy [256, 256, 3] and the NHWC output [512, 512, 3].
  EXPECT_GE(session->backend_bytes(), (256 * 256 * 3 + 512 * 512 * 3) * 4);
}

}  // namespace
}  // namespace tessera::testing
