// Exact tiling: for every tileable test model on every backend (and oneDNN in bf16), stitched tiles equal the
// full-image output bit for bit, across random image sizes, tile sizes and thread counts; the derived halo is tight;
// models that mix all pixels are refused with the node and the reason.
#include <cstring>
#include <random>

#include "runtime/model_data.h"
#include "runtime_support.h"
#include "tiling/tile_plan.h"

namespace tessera::testing {
namespace {

using tiling::TilePlan;
using tiling::TilePlanOptions;

// The ground truth, for the tests below that are about the tiler rather than a backend.
const SessionOptions kReference{"reference", 1};

Tensor run_full(std::shared_ptr<const Model> model, const Tensor& image, const SessionOptions& options = kReference) {
  Result<std::unique_ptr<Session>> session = Session::create(model, options);
  EXPECT_TRUE(session.ok());
  ConstTensorView view = image.view();
  Result<std::span<const TensorView>> out = (*session)->run({&view, 1});
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  Tensor t((*out)[0].shape);
  std::memcpy(t.data(), (*out)[0].data, t.element_count() * sizeof(float));
  return t;
}

class TiledEqualsFull : public ::testing::TestWithParam<BackendCase> {};

// Full runs use 1-4 threads inside one session; tiled runs 1-4 workers of one thread each.
TEST_P(TiledEqualsFull, AcrossRandomSizesTilesAndThreads) {
  const TestModel& m = GetParam().model;
  const std::string& backend = GetParam().backend;
  const std::string& precision = GetParam().precision;
  std::shared_ptr<const Model> model = load_test_model(m);
  std::shared_ptr<const Model> reference = load_test_model(m, "wide");  // for whole images above the max
  ASSERT_TRUE(model && reference);
  ASSERT_TRUE(model->info().tiling.tileable) << model->info().tiling.reason;
  const DimInfo range = model->info().dims[0], wide = reference->info().dims[0];

  const int64_t mult = range.multiple_of;
  auto round = [&](int64_t v) { return std::max(range.min, v / mult * mult); };
  std::mt19937 rng(std::hash<std::string>{}(m.name));
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  // Prime-ish, one-tile, strip and just-above-a-tile sizes, then random ones.
  std::vector<std::pair<int64_t, int64_t>> sizes = {
      {round(range.min), round(range.min)}, {round(range.max + mult), round(range.min + 7 * mult)},
      {round(2 * range.max + 3 * mult), round(range.max / 2 + mult)}};
  if (range.min <= 40 && 40 % mult == 0) sizes.push_back({40, round(std::min<int64_t>(2000, wide.max))});
  for (int i = 0; i < 3; ++i) sizes.push_back({round(uniform(range.min, 3 * range.max)), round(uniform(range.min, 3 * range.max))});

  for (auto [h, w] : sizes) {
    Tensor image = random_input(*model, h, w, static_cast<uint32_t>(h * 7919 + w));
    Tensor full = run_full(reference, image, SessionOptions{backend, static_cast<int>(uniform(1, 4)), precision});
    // A random tile size on the model's alignment grid, small enough for its max.
    const AxisTiling& ax = model->info().tiling.axes[0];
    int64_t grid = std::lcm(ax.alignment, mult);
    Result<TilePlan> largest = tiling::plan_tiles(*model, h, w, {});
    ASSERT_TRUE(largest.ok()) << m.name << " " << h << "x" << w << ": " << largest.status().message();
    int64_t max_tile = std::min(largest->core_height, largest->core_width);
    TilePlanOptions options;
    // At least the smallest tile the model takes (its minimum on the grid; smaller tiles are refused).
    int64_t fewest = (*tiling::smallest_tile(*model) + grid - 1) / grid, most = std::max<int64_t>(fewest, max_tile / grid);
    options.tile = grid * uniform(fewest, most);
    int threads = static_cast<int>(uniform(1, 4));
    TilePlan plan;
    Result<Tensor> tiled =
        tiling::run_tiled(model, image.view(), options,
                          {.threads = threads, .workers = threads, .backend = backend, .precision = precision}, &plan);
    ASSERT_TRUE(tiled.ok()) << m.name << " " << h << "x" << w << " tile " << options.tile << ": "
                            << tiled.status().message();
    EXPECT_EQ(bit_differences(*tiled, full), 0)
        << m.name << " on " << backend << " " << precision << ", image " << h << "x" << w << ", tile " << options.tile
        << ", " << plan.tiles.size() << " tiles, " << threads << " workers";
  }
}

// Every tileable model on every backend (tiny: its own, larger scenarios below).
INSTANTIATE_TEST_SUITE_P(Models, TiledEqualsFull,
                         ::testing::ValuesIn(backend_cases([](const TestModel& m) {
                           return m.tileable && m.name != "tiny";
                         })),
                         backend_case_name);

// The seed's scenario: tiny model, dims 256..1024, a 1024x1024 image, --tile 256 --halo 16.
TEST(Tiling, SeedScenarioSixteenTilesOfFourShapes) {
  std::shared_ptr<const Model> model = load_test_model(test_model("tiny"));
  ASSERT_TRUE(model);
  Result<Tensor> image = read_npy(testdata("tiny/in_1024x1024.npy"));
  ASSERT_TRUE(image.ok());
  TilePlan plan;
  Result<Tensor> tiled = tiling::run_tiled(model, image->view(), {256, 16}, {.threads = 2, .backend = "reference"}, &plan);
  ASSERT_TRUE(tiled.ok()) << tiled.status().message();
  EXPECT_EQ(plan.tiles.size(), 16u);
  std::vector<std::pair<int64_t, int64_t>> expected = {{272, 272}, {272, 288}, {288, 272}, {288, 288}};
  EXPECT_EQ(plan.window_shapes(), expected);
  EXPECT_EQ(bit_differences(*tiled, run_full(model, *image)), 0);
}

// The tiny model on images larger than its max, against a model compiled for the whole image.
TEST(Tiling, TinyModelBeyondItsMaximum) {
  const TestModel& m = test_model("tiny");
  std::shared_ptr<const Model> model = load_test_model(m);
  std::shared_ptr<const Model> reference = load_test_model(m, "wide");
  ASSERT_TRUE(model && reference);
  ASSERT_GE(reference->info().dims[0].max, 1400);
  for (auto [h, w, threads] : {std::tuple{1301, 257, 3}, std::tuple{263, 1399, 1}}) {
    Tensor image = random_input(*model, h, w, 7);
    Result<Tensor> tiled = tiling::run_tiled(model, image.view(), {}, {.threads = threads, .backend = "reference"});
    ASSERT_TRUE(tiled.ok()) << tiled.status().message();
    EXPECT_EQ(bit_differences(*tiled, run_full(reference, image)), 0) << h << "x" << w;
  }
}

// One pixel less halo on either side breaks equality: the derived halo is tight.
class HaloIsTight : public ::testing::TestWithParam<std::string> {};

TEST_P(HaloIsTight, OnePixelLessDiffers) {
  const TestModel& m = test_model(GetParam());
  std::shared_ptr<const Model> model = load_test_model(m);
  ASSERT_TRUE(model);
  const ModelData& d = model->data();
  const ir::DynamicDim& dim = d.graph.dims[0];
  int64_t size = std::min<int64_t>(dim.upper(), 3 * dim.min);
  Tensor image = random_input(*model, size, size, 11);
  Tensor full = run_full(model, image);
  const TilingInfo& derived = model->info().tiling;
  ASSERT_EQ(derived.axes[0].alignment, 1);
  auto stitched = [&](const TilingInfo& info) {
    Result<TilePlan> plan = tiling::plan_tiles(info, dim, d.graph.dims[1], size, size, full.shape()[2], full.shape()[3],
                                               {dim.min, 0});
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    Tensor out(full.shape());
    tiling::TensorSource source(image.view());
    tiling::TensorSink sink(out.view());
    EXPECT_TRUE(tiling::run_tiles(model, *plan, image.shape(), source, sink, {.threads = 2, .backend = "reference"}).ok());
    return out;
  };
  EXPECT_EQ(bit_differences(stitched(derived), full), 0);
  for (int side = 0; side < 2; ++side) {
    TilingInfo shrunk = derived;
    for (AxisTiling& a : shrunk.axes) (side == 0 ? a.halo_before : a.halo_after) -= 1;
    EXPECT_GT(bit_differences(stitched(shrunk), full), 0) << (side == 0 ? "halo_before - 1" : "halo_after - 1");
  }
}

INSTANTIATE_TEST_SUITE_P(Models, HaloIsTight, ::testing::Values("tiny", "sr_pixelshuffle", "dw_dilated_grouped"));

TEST(Tiling, RefusesModelsThatMixAllPixels) {
  for (auto [name, words] : {std::pair{"se_block", "GlobalAveragePool"},
                             std::pair{"op_resize_bilinear2_align_corners", "align_corners"},
                             std::pair{"op_reduce_mean", "ReduceMean"}}) {
    std::shared_ptr<const Model> model = load_test_model(test_model(name));
    ASSERT_TRUE(model);
    EXPECT_FALSE(model->info().tiling.tileable) << name;
    EXPECT_CONTAINS(model->info().tiling.reason, words);
    Result<TilePlan> plan = tiling::plan_tiles(*model, 64, 64, {});
    EXPECT_EQ(plan.status().code(), Error::Unsupported);
    EXPECT_CONTAINS(plan.status().message(), words);
  }
}

TEST(TilePlan, WindowsCoverCoresWithinTheModelDims) {
  std::shared_ptr<const Model> model = load_test_model(test_model("unet"));
  ASSERT_TRUE(model);
  const ir::DynamicDim& dim = model->data().graph.dims[0];
  for (auto [h, w, tile] : {std::tuple{1000, 1000, 64}, std::tuple{36, 2000, 0}, std::tuple{260, 300, 128}}) {
    Result<TilePlan> plan = tiling::plan_tiles(*model, h, w, {tile, 0});
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    int64_t covered = 0;
    for (const tiling::Tile& t : plan->tiles) {
      for (const tiling::Span& s : {t.rows, t.cols}) {
        EXPECT_TRUE(dim.accepts(s.window())) << "window " << s.window();
        EXPECT_EQ(s.window_begin % 4, 0);
      }
      covered += (t.rows.out_end - t.rows.out_begin) * (t.cols.out_end - t.cols.out_begin);
    }
    EXPECT_EQ(covered, plan->out_height * plan->out_width);
  }
}

TEST(TilePlan, ClearErrors) {
  std::shared_ptr<const Model> model = load_test_model(test_model("unet"));
  ASSERT_TRUE(model);
  Result<TilePlan> small = tiling::plan_tiles(*model, 28, 64, {});
  EXPECT_EQ(small.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(small.status().message(), "below the model's minimum 32");
  Result<TilePlan> odd = tiling::plan_tiles(*model, 1001, 64, {});
  EXPECT_CONTAINS(odd.status().message(), "not a multiple of 4");
  Result<TilePlan> unaligned = tiling::plan_tiles(*model, 512, 512, {66, 0});
  EXPECT_CONTAINS(unaligned.status().message(), "multiple of 4");
  Result<TilePlan> huge = tiling::plan_tiles(*model, 2048, 2048, {1024, 0});
  EXPECT_CONTAINS(huge.status().message(), "above the model's maximum 256");
}

// Tiles on given cores (a Dask array's chunks): uneven cores, each on the grid, stitch to the full
// output bit for bit; the planner's own balanced cores give its own plan.
TEST(TilePlanAt, UnevenCoresStitchToTheFullOutput) {
  for (auto [name, h, w, rows, cols] :
       {std::tuple{"unet", 300, 260, std::vector<int64_t>{64, 128, 40, 68}, std::vector<int64_t>{200, 60}},
        std::tuple{"sr_pixelshuffle", 301, 257, std::vector<int64_t>{17, 200, 84}, std::vector<int64_t>{100, 157}},
        std::tuple{"valid_convs", 300, 250, std::vector<int64_t>{100, 100, 96, 4}, std::vector<int64_t>{50, 200}}}) {
    std::shared_ptr<const Model> model = load_test_model(test_model(name));
    ASSERT_TRUE(model);
    Result<TilePlan> plan = tiling::plan_tiles_at(*model, h, w, rows, cols);
    ASSERT_TRUE(plan.ok()) << name << ": " << plan.status().message();
    ASSERT_EQ(plan->tiles.size(), rows.size() * cols.size());
    Tensor image = random_input(*model, h, w, 5);
    Tensor full = run_full(load_test_model(test_model(name), "wide"), image);  // above the model's maximum
    Tensor out(full.shape());
    tiling::TensorSource source(image.view());
    tiling::TensorSink sink(out.view());
    TilePlan runnable = *plan;  // without the tiles whose output is empty: nothing to run
    std::erase_if(runnable.tiles, [](const tiling::Tile& t) { return t.rows.window() == 0 || t.cols.window() == 0; });
    if (std::string(name) == "valid_convs") {
      EXPECT_LT(runnable.tiles.size(), plan->tiles.size());
    }
    ASSERT_TRUE(tiling::run_tiles(model, runnable, image.shape(), source, sink, {.threads = 2, .backend = "reference"}).ok());
    EXPECT_EQ(bit_differences(out, full), 0) << name;
  }
}

TEST(TilePlanAt, TheBalancedCoresGiveThePlannersPlan) {
  std::shared_ptr<const Model> model = load_test_model(test_model("unet"));
  ASSERT_TRUE(model);
  Result<TilePlan> balanced = tiling::plan_tiles(*model, 1000, 520, {128, 0});
  ASSERT_TRUE(balanced.ok());
  auto cores = [](int64_t size, int64_t core) {
    std::vector<int64_t> c;
    for (int64_t b = 0; b < size; b += core) c.push_back(std::min(core, size - b));
    return c;
  };
  Result<TilePlan> at = tiling::plan_tiles_at(*model, 1000, 520, cores(1000, balanced->core_height),
                                              cores(520, balanced->core_width));
  ASSERT_TRUE(at.ok()) << at.status().message();
  ASSERT_EQ(at->tiles.size(), balanced->tiles.size());
  for (size_t i = 0; i < at->tiles.size(); ++i)
    for (auto [a, b] : {std::pair{at->tiles[i].rows, balanced->tiles[i].rows}, {at->tiles[i].cols, balanced->tiles[i].cols}})
      EXPECT_TRUE(a.window_begin == b.window_begin && a.window_end == b.window_end && a.out_begin == b.out_begin &&
                  a.out_end == b.out_end && a.crop_begin == b.crop_begin)
          << "tile " << i;
}

TEST(TilePlanAt, ClearErrors) {
  std::shared_ptr<const Model> model = load_test_model(test_model("unet"));
  ASSERT_TRUE(model);
  const std::vector<int64_t> fine = {128, 128};
  auto error = [&](std::vector<int64_t> rows) { return tiling::plan_tiles_at(*model, 256, 256, rows, fine).status(); };
  EXPECT_CONTAINS(error({130, 126}).message(), "a height chunk ends at 130, off the model's grid of 4");
  EXPECT_CONTAINS(error({128, 100}).message(), "the height chunks add up to 228, not the image's 256");
  EXPECT_CONTAINS(error({256, 0}).message(), "chunks must not be empty");
  Result<TilePlan> wide = tiling::plan_tiles_at(*model, 512, 256, std::vector<int64_t>{256, 256}, fine);
  EXPECT_CONTAINS(wide.status().message(),
                  "a height chunk of 256 pixels needs height windows of 264 pixels (core, halo 8+5 and alignment), "
                  "above the model's maximum 256; use smaller chunks");
  EXPECT_EQ(tiling::plan_tiles_at(*load_test_model(test_model("se_block")), 64, 64, std::vector<int64_t>{64},
                                  std::vector<int64_t>{64}).status().code(), Error::Unsupported);
}

// One worker per thread unless the band's last round of tiles would idle more than 1/8 of the turns.
TEST(TileWorkers, OnePerThreadUnlessTheLastRoundIdlesWorkers) {
  EXPECT_EQ(tiling::tile_workers(1, 5), 1);
  EXPECT_EQ(tiling::tile_workers(2, 12), 2);
  EXPECT_EQ(tiling::tile_workers(2, 9), 2);  // 1 idle turn of 10
  EXPECT_EQ(tiling::tile_workers(2, 3), 1);  // 1 idle turn of 4: one session of 2 threads
  EXPECT_EQ(tiling::tile_workers(4, 6), 2);  // 4 workers: 2 idle of 8; 2 workers: none
  EXPECT_EQ(tiling::tile_workers(4, 16), 4);
  EXPECT_EQ(tiling::tile_workers(3, 7), 1);  // 3 workers: 2 idle of 9; 1 is the only other divisor
}

}  // namespace
}  // namespace tessera::testing
