// The oneDNN backend: every test model against PyTorch at every case size from one Session; tiles
// stitched bit for bit equal to the whole image across sizes, tile sizes and thread counts; nothing
// allocated by the backend in a steady-state run(); the nodes it leaves to the reference kernels.
#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "allocation_counter.h"
#include "compile/dims.h"
#include "runtime/model_data.h"
#include "test_support.h"
#include "tiling/tiled_runner.h"

namespace {

// oneDNN 2.6's dnnl_primitive_execute copies its argument array into a std::unordered_map on every
// call (exec_args_t, src/common/primitive_iface.cpp), so no caller can execute a primitive without a
// few heap allocations. This definition in the test binary comes before libdnnl's for tessera's
// calls; it forwards to libdnnl's and tallies what is allocated inside, so that the allocation test
// can tell oneDNN's own allocations from the backend's.
std::atomic<const tessera::testing::AllocationCounter*> g_counter{nullptr};
std::atomic<long> g_inside_execute{0};

}  // namespace

extern "C" dnnl_status_t dnnl_primitive_execute(const_dnnl_primitive_t primitive, dnnl_stream_t stream, int nargs,
                                                const dnnl_exec_arg_t* args) {
  using Execute = dnnl_status_t (*)(const_dnnl_primitive_t, dnnl_stream_t, int, const dnnl_exec_arg_t*);
  static const Execute libdnnl = reinterpret_cast<Execute>(dlsym(RTLD_NEXT, "dnnl_primitive_execute"));
  const tessera::testing::AllocationCounter* counter = g_counter.load();
  if (counter == nullptr) return libdnnl(primitive, stream, nargs, args);
  const long before = counter->count() + counter->c_count();
  dnnl_status_t status = libdnnl(primitive, stream, nargs, args);
  g_inside_execute += counter->count() + counter->c_count() - before;
  return status;
}

namespace tessera::testing {
namespace {

SessionOptions onednn(int threads) { return SessionOptions{"onednn", threads}; }

Result<Tensor> run_copy(Session& session, const Tensor& image) {
  ConstTensorView view = image.view();
  Result<std::span<const TensorView>> out = session.run({&view, 1});
  if (!out.ok()) return out.status();
  Tensor t((*out)[0].shape);
  std::memcpy(t.data(), (*out)[0].data, t.element_count() * sizeof(float));
  return t;
}

int64_t bit_differences(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape())) return -1;
  int64_t n = 0;
  for (int64_t i = 0; i < a.element_count(); ++i) n += std::memcmp(a.data() + i, b.data() + i, sizeof(float)) != 0;
  return n;
}

Tensor random_image(const Model& model, int64_t h, int64_t w, uint32_t seed) {
  const ModelData& d = model.data();
  Tensor t(Shape{1, d.upper_shapes[d.graph.inputs[0]][1], h, w});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.element_count(); ++i) t.data()[i] = u(rng);
  return t;
}

// 1. Every model against PyTorch, at every case size from one Session (increasing, then shuffled).
class OnednnVsPyTorch : public ::testing::TestWithParam<TestModel> {};

TEST_P(OnednnVsPyTorch, MatchesAtEverySizeFromOneSession) {
  const TestModel& m = GetParam();
  std::shared_ptr<const Model> model = compile_and_load(m);
  ASSERT_TRUE(model);
  const int threads = 1 + static_cast<int>(std::hash<std::string>{}(m.name) % 2);
  Result<std::unique_ptr<Session>> session = Session::create(model, onednn(threads));
  ASSERT_TRUE(session.ok()) << session.status().message();
  std::vector<std::pair<Tensor, Tensor>> cases;
  for (const ModelCase& c : m.cases) {
    Result<Tensor> input = read_npy(testdata(c.input));
    Result<Tensor> expected = read_npy(testdata(c.expected));
    ASSERT_TRUE(input.ok() && expected.ok());
    cases.emplace_back(std::move(*input), std::move(*expected));
  }
  std::stable_sort(cases.begin(), cases.end(),
                   [](const auto& a, const auto& b) { return a.first.element_count() < b.first.element_count(); });
  std::vector<size_t> order(cases.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<size_t> shuffled = order;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  order.insert(order.end(), shuffled.begin(), shuffled.end());
  for (size_t i : order) {
    const auto& [input, expected] = cases[i];
    Result<Tensor> out = run_copy(**session, input);
    ASSERT_TRUE(out.ok()) << m.name << " " << input.shape().to_string() << ": " << out.status().message();
    Difference d = compare(out->view(), expected.view());
    EXPECT_LE(d.max_abs, 1e-4 * std::max(d.scale, 1e-2))
        << m.name << " " << input.shape().to_string() << " (scale " << d.scale << ", threads " << threads << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, OnednnVsPyTorch, ::testing::ValuesIn(test_models()),
                         [](const ::testing::TestParamInfo<TestModel>& p) { return p.param.name; });

// 2. Tiles stitched equal the whole image bit for bit. The whole image runs on a model compiled for
// a wider range (so its convolutions are chosen at another upper bound) with 1-4 threads inside the
// run; the tiles on 1-4 workers with one thread each.
std::shared_ptr<const Model> compile_wide(const TestModel& m, const ir::DynamicDim& range) {
  CompileOptions options;
  for (const char* name : {"height", "width"}) {
    ir::DynamicDim d = range;
    d.name = name;
    options.dims.push_back(d);
  }
  std::string path = testdata(m.name + ".onednn-wide.tsr");
  Result<CompiledModel> compiled = compile_file(testdata(m.onnx), path, options);
  EXPECT_TRUE(compiled.ok()) << m.name << ": " << compiled.status().message();
  if (!compiled.ok()) return nullptr;
  Result<std::shared_ptr<const Model>> model = Model::load(path);
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

std::vector<TestModel> tileable_models() {
  std::vector<TestModel> out;
  for (const TestModel& m : test_models())
    if (m.tileable && m.name != "tiny") out.push_back(m);  // tiny's 1024 maximum makes a wide whole image slow
  return out;
}

class OnednnTiledEqualsFull : public ::testing::TestWithParam<TestModel> {};

TEST_P(OnednnTiledEqualsFull, AcrossRandomSizesTilesAndThreads) {
  const TestModel& m = GetParam();
  Result<ir::DynamicDim> range = parse_dim(m.dims[0]);
  ASSERT_TRUE(range.ok());
  ir::DynamicDim wide = *range;
  wide.max = 2 * range->max + 8 * range->multiple_of + 64;
  std::shared_ptr<const Model> model = compile_and_load(m);
  std::shared_ptr<const Model> whole = compile_wide(m, wide);
  ASSERT_TRUE(model && whole);
  const int64_t mult = range->multiple_of;
  auto round = [&](int64_t v) { return std::max(range->min, v / mult * mult); };
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(m.name)));
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  // A strip across the tile grid, then random sizes up to about twice the model's maximum.
  std::vector<std::pair<int64_t, int64_t>> sizes = {{round(range->min + 3 * mult), round(2 * range->max + 3 * mult)}};
  for (int i = 0; i < 3; ++i)
    sizes.push_back({round(uniform(range->min, 2 * range->max)), round(uniform(range->min, 2 * range->max))});

  for (auto [h, w] : sizes) {
    Tensor image = random_image(*model, h, w, static_cast<uint32_t>(h * 7919 + w));
    const int threads = static_cast<int>(uniform(1, 4)), workers = static_cast<int>(uniform(1, 4));
    Result<std::unique_ptr<Session>> session = Session::create(whole, onednn(threads));
    ASSERT_TRUE(session.ok()) << session.status().message();
    Result<Tensor> full = run_copy(**session, image);
    ASSERT_TRUE(full.ok()) << m.name << " " << h << "x" << w << ": " << full.status().message();

    const AxisTiling& ax = model->info().tiling.axes[0];
    const int64_t grid = std::lcm(ax.alignment, mult);
    Result<tiling::TilePlan> largest = tiling::plan_tiles(*model, h, w, {});
    ASSERT_TRUE(largest.ok()) << largest.status().message();
    tiling::TilePlanOptions options;
    options.tile = grid * uniform(1, std::max<int64_t>(1, std::min(largest->core_height, largest->core_width) / grid));
    tiling::TilePlan plan;
    Result<Tensor> tiled = tiling::run_tiled(model, image.view(), options, workers, &plan, onednn(1));
    ASSERT_TRUE(tiled.ok()) << m.name << " tile " << options.tile << ": " << tiled.status().message();
    EXPECT_EQ(bit_differences(*tiled, *full), 0)
        << m.name << " image " << h << "x" << w << ", tile " << options.tile << ", " << plan.tiles.size()
        << " tiles on " << workers << " workers; whole image on " << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, OnednnTiledEqualsFull, ::testing::ValuesIn(tileable_models()),
                         [](const ::testing::TestParamInfo<TestModel>& p) { return p.param.name; });

// The seed scenario: the tiny model on a 1024x1024 image, --tile 256 --halo 16: 16 tiles of 4 shapes.
TEST(OnednnBackend, TinySeedScenarioTiledEqualsFull) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("tiny"));
  ASSERT_TRUE(model);
  Result<Tensor> image = read_npy(testdata("tiny/in_1024x1024.npy"));
  ASSERT_TRUE(image.ok());
  Result<std::unique_ptr<Session>> session = Session::create(model, onednn(2));
  ASSERT_TRUE(session.ok());
  Result<Tensor> full = run_copy(**session, *image);
  ASSERT_TRUE(full.ok()) << full.status().message();
  tiling::TilePlan plan;
  Result<Tensor> tiled = tiling::run_tiled(model, image->view(), {256, 16}, 2, &plan, onednn(1));
  ASSERT_TRUE(tiled.ok()) << tiled.status().message();
  EXPECT_EQ(plan.tiles.size(), 16u);
  EXPECT_EQ(bit_differences(*tiled, *full), 0);
}

// 3. A steady-state run() allocates nothing outside oneDNN's execute call, and what that call
// allocates is the same every run.
TEST(OnednnBackend, RunAllocatesNothingOutsideOnednnExecute) {
  for (const char* name : {"unet", "dw_dilated_grouped", "sr_pixelshuffle", "op_pad_reflect"}) {
    std::shared_ptr<const Model> model = compile_and_load(test_model(name));
    ASSERT_TRUE(model);
    Result<std::unique_ptr<Session>> session = Session::create(model, onednn(2));
    ASSERT_TRUE(session.ok()) << session.status().message();
    const int64_t size = model->data().graph.dims[0].min * 2;
    Tensor a = random_image(*model, size, size, 1), b = random_image(*model, size + 16, size, 2);
    ConstTensorView va = a.view(), vb = b.view();
    ASSERT_TRUE((*session)->run({&va, 1}).ok());
    ASSERT_TRUE((*session)->run({&vb, 1}).ok());  // a second cached shape
    long own[2], onednn_internal[2];
    for (int i = 0; i < 2; ++i) {
      ConstTensorView& view = i == 0 ? va : vb;
      g_inside_execute = 0;
      AllocationCounter counter;
      g_counter = &counter;
      bool ok = (*session)->run({&view, 1}).ok();
      g_counter = nullptr;
      ASSERT_TRUE(ok);
      onednn_internal[i] = g_inside_execute.load();
      own[i] = counter.count() + counter.c_count() - onednn_internal[i];
    }
    EXPECT_EQ(own[0], 0) << name << ": heap allocations in run() outside dnnl_primitive_execute";
    EXPECT_EQ(own[1], 0) << name << ": heap allocations in run() outside dnnl_primitive_execute";
    g_inside_execute = 0;
    {
      AllocationCounter counter;
      g_counter = &counter;
      EXPECT_TRUE((*session)->run({&va, 1}).ok());
      g_counter = nullptr;
    }
    EXPECT_EQ(g_inside_execute.load(), onednn_internal[0]) << name << ": oneDNN's allocations vary between runs";
    RecordProperty(std::string(name) + "_onednn_execute_allocations_per_run", std::to_string(onednn_internal[0]));
  }
}

// 4. Ops without a oneDNN mapping run on the reference kernels and are listed; mapped models list none.
TEST(OnednnBackend, FallbacksNameTheNodesOnReferenceKernels) {
  auto fallbacks = [](const char* name) {
    std::shared_ptr<const Model> model = compile_and_load(test_model(name));
    EXPECT_TRUE(model);
    Result<std::unique_ptr<Session>> session = Session::create(model, onednn(1));
    EXPECT_TRUE(session.ok()) << session.status().message();
    EXPECT_EQ((*session)->backend(), "onednn");
    return (*session)->fallbacks();
  };
  std::vector<std::string> pad = fallbacks("op_pad_reflect");
  ASSERT_EQ(pad.size(), 1u);
  EXPECT_CONTAINS(pad[0], "Pad '");
  std::vector<std::string> se = fallbacks("se_block");
  ASSERT_EQ(se.size(), 1u);
  EXPECT_CONTAINS(se[0], "GlobalAveragePool '");
  for (const char* name : {"unet", "sr_pixelshuffle", "dw_dilated_grouped", "tiny", "valid_convs"})
    EXPECT_TRUE(fallbacks(name).empty()) << name;
}

// x -> conv a -> relu -> conv -> relu -> conv b; relu(a + b) = r -> conv u; conv(u + r) -> y, all 4 channels
// 3x3: the residual Adds fold into the convolution before them, the first as a sum post-op (into a's
// slot, which a is done being read from), the second as a binary post-op reading r.
std::string write_residual_onnx(const TempDir& dir) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("residual");
  auto image = [](onnx::ValueInfoProto* v, const char* name) {
    v->set_name(name);
    onnx::TypeProto::Tensor* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_value(1);
    t->mutable_shape()->add_dim()->set_dim_value(4);
    t->mutable_shape()->add_dim()->set_dim_param("height");
    t->mutable_shape()->add_dim()->set_dim_param("width");
  };
  image(g->add_input(), "x");
  image(g->add_output(), "y");
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  auto node = [&](const char* op, std::vector<std::string> inputs, const std::string& output) {
    onnx::NodeProto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(output + "_" + op);
    if (std::string(op) == "Conv") {
      for (const char* suffix : {"_w", "_b"}) {
        onnx::TensorProto* t = g->add_initializer();
        t->set_name(output + suffix);
        t->set_data_type(onnx::TensorProto::FLOAT);
        std::vector<int> dims = suffix == std::string("_w") ? std::vector<int>{4, 4, 3, 3} : std::vector<int>{4};
        int count = 1;
        for (int d : dims) t->add_dims(d), count *= d;
        for (int i = 0; i < count; ++i) t->add_float_data(u(rng));
        inputs.push_back(output + suffix);
      }
      onnx::AttributeProto* pads = n->add_attribute();
      pads->set_name("pads");
      pads->set_type(onnx::AttributeProto::INTS);
      for (int p : {1, 1, 1, 1}) pads->add_ints(p);
    }
    for (const std::string& in : inputs) n->add_input(in);
    n->add_output(output);
  };
  node("Conv", {"x"}, "a0");
  node("Relu", {"a0"}, "a");
  node("Conv", {"a"}, "t0");
  node("Relu", {"t0"}, "t");
  node("Conv", {"t"}, "b");
  node("Add", {"a", "b"}, "s");
  node("Relu", {"s"}, "r");
  node("Conv", {"r"}, "u");
  node("Add", {"u", "r"}, "v");
  node("Conv", {"v"}, "y");
  std::string path = dir.file("residual.onnx");
  write_file(path, model.SerializeAsString());
  return path;
}

TEST(OnednnBackend, ResidualAddsFoldedIntoConvolutions) {
  TempDir dir;
  CompileOptions options;
  for (const char* name : {"height", "width"}) options.dims.push_back({name, 8, 96, 1});
  Result<CompiledModel> compiled = compile_file(write_residual_onnx(dir), dir.file("residual.tsr"), options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  Result<std::shared_ptr<const Model>> model = Model::load(dir.file("residual.tsr"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  Result<std::unique_ptr<Session>> fast = Session::create(*model, onednn(2));
  Result<std::unique_ptr<Session>> reference = Session::create(*model, {"reference", 1});
  ASSERT_TRUE(fast.ok() && reference.ok());
  EXPECT_TRUE((*fast)->fallbacks().empty());
  for (auto [h, w] : {std::pair{8, 8}, std::pair{96, 96}, std::pair{37, 90}}) {
    Tensor image = random_image(**model, h, w, static_cast<uint32_t>(h + w));
    Result<Tensor> got = run_copy(**fast, image), want = run_copy(**reference, image);
    ASSERT_TRUE(got.ok() && want.ok()) << got.status().message();
    Difference d = compare(got->view(), want->view());
    EXPECT_LE(d.max_abs, 1e-5 * std::max(d.scale, 1e-2)) << h << "x" << w;
  }
  Tensor image = random_image(**model, 150, 170, 9);
  Result<Tensor> tiled = tiling::run_tiled(*model, image.view(), {24, 0}, 3, nullptr, onednn(1));
  ASSERT_TRUE(tiled.ok()) << tiled.status().message();
  CompileOptions wide;
  for (const char* name : {"height", "width"}) wide.dims.push_back({name, 8, 200, 1});
  ASSERT_TRUE(compile_file(write_residual_onnx(dir), dir.file("wide.tsr"), wide).ok());
  Result<std::shared_ptr<const Model>> whole = Model::load(dir.file("wide.tsr"));
  ASSERT_TRUE(whole.ok());
  Result<std::unique_ptr<Session>> session = Session::create(*whole, onednn(2));
  ASSERT_TRUE(session.ok());
  Result<Tensor> full = run_copy(**session, image);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(bit_differences(*tiled, *full), 0);
}

// Two sessions on two threads with one thread each give what one session gives alone.
TEST(OnednnBackend, SessionsOnTwoThreadsDoNotInterfere) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("unet"));
  ASSERT_TRUE(model);
  Tensor images[2] = {random_image(*model, 200, 128, 5), random_image(*model, 96, 256, 6)};
  Tensor alone[2], together[2];
  for (int i = 0; i < 2; ++i) {
    Result<std::unique_ptr<Session>> s = Session::create(model, onednn(1));
    ASSERT_TRUE(s.ok());
    Result<Tensor> out = run_copy(**s, images[i]);
    ASSERT_TRUE(out.ok());
    alone[i] = std::move(*out);
  }
  std::thread workers[2];
  for (int i = 0; i < 2; ++i) {
    workers[i] = std::thread([&, i] {
      Result<std::unique_ptr<Session>> s = Session::create(model, onednn(1));
      if (!s.ok()) return;
      for (int k = 0; k < 3; ++k) {
        Result<Tensor> out = run_copy(**s, images[i]);
        if (out.ok()) together[i] = std::move(*out);
      }
    });
  }
  for (std::thread& t : workers) t.join();
  for (int i = 0; i < 2; ++i) EXPECT_EQ(bit_differences(together[i], alone[i]), 0) << "image " << i;
}

}  // namespace
}  // namespace tessera::testing
