// The UpscalerJS ESRGAN TF.js models (fetched from npm at build time, tests/esrgan/make_testdata.py):
// tessera reproduces the results shipped in each package within one grey level (two in bf16), and
// their tiled output equals the full-image output bit for bit on every backend, in bf16 too.
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <random>

#include "image_support.h"
#include "tessera/image.h"
#include "tessera/tiling.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

std::string esrgan_data(const std::string& name) { return testdata("esrgan/" + name); }

// Fails rather than skips when the models are missing, with the reason.
::testing::AssertionResult esrgan_data_ready() {
  if (file_exists(esrgan_data("fetch_error.txt")))
    return ::testing::AssertionFailure() << "the ESRGAN models could not be fetched from npm by scripts/fetch-models.sh: "
                                         << read_file(esrgan_data("fetch_error.txt"));
  if (!file_exists(esrgan_data("manifest.json")))
    return ::testing::AssertionFailure() << esrgan_data("manifest.json")
                                         << " is missing; build the tessera_tests target, which fetches the models";
  return ::testing::AssertionSuccess();
}

// A file of a variant and scale from the manifest: "model" (model.json), "fixture" or "result" (PNGs).
std::string manifest_file(const std::string& variant, int scale, const std::string& key) {
  std::ifstream in(esrgan_data("manifest.json"));
  nlohmann::json manifest = nlohmann::json::parse(in);
  for (const auto& m : manifest["models"])
    if (m["variant"] == variant && m["scale"] == scale) return m[key];
  return {};
}

// UpscalerJS feeds its RDN models (slim, medium) pixels in 0..255 and its RRDN model (thick) 0..1.
float pixel_max(const std::string& variant) { return variant == "thick" ? 1.0f : 255.0f; }

std::shared_ptr<const Model> compile_esrgan(const std::string& variant, int scale, int64_t min, int64_t max) {
  CompileOptions options;
  options.dims = {{"height", min, max, 1}, {"width", min, max, 1}};
  options.pixel_max = pixel_max(variant);
  std::string path = esrgan_data(fmt::format("{}_x{}_{}-{}.tsr", variant, scale, min, max));
  Result<ModelFile> compiled = compile_file(manifest_file(variant, scale, "model"), path, options);
  EXPECT_TRUE(compiled.ok()) << compiled.status().message();
  if (!compiled.ok()) return nullptr;
  Result<std::shared_ptr<const Model>> model = Model::load(path);
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

Tensor run_full(std::shared_ptr<const Model> model, const Tensor& image, const SessionOptions& options) {
  Result<std::unique_ptr<Session>> session = Session::create(model, options);
  EXPECT_TRUE(session.ok()) << session.status().message();
  if (!session.ok()) return {};
  ConstTensorView view = image.view();
  Result<std::span<const TensorView>> out = (*session)->run({&view, 1});
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? copy_of((*out)[0]) : Tensor();
}

struct EsrganCase {
  std::string variant;
  int scale = 2;
  std::string backend;  // "": auto
  std::string precision = "fp32";
};
void PrintTo(const EsrganCase& c, std::ostream* os) {
  *os << c.variant << " x" << c.scale << " " << c.backend << " " << c.precision;
}
std::string case_name(const ::testing::TestParamInfo<EsrganCase>& info) {
  const EsrganCase& c = info.param;
  return fmt::format("{}_x{}{}{}", c.variant, c.scale, c.backend.empty() ? "" : "_" + c.backend,
                     c.precision == "fp32" ? "" : "_" + c.precision);
}

// The most grey levels a precision may differ from the shipped results by (docs/precision.md).
int grey_level_bound(const std::string& precision) { return precision == "bf16" ? 2 : 1; }

// --- The shipped results ----------------------------------------------------------------------

class EsrganGolden : public ::testing::TestWithParam<EsrganCase> {};

// fixture.png through `tessera run`'s image path (decode, the model's pixel range, clamp and round,
// encode), against assets/samples/<s>x/result.png, RGB channels (the alpha is carried through).
TEST_P(EsrganGolden, MatchesTheShippedResultWithinItsBound) {
  const EsrganCase& c = GetParam();
  if (!c.backend.empty()) TESSERA_SKIP_WITHOUT_BACKEND(c.backend);
  ASSERT_TRUE(esrgan_data_ready());
  std::shared_ptr<const Model> model = compile_esrgan(c.variant, c.scale, 16, 128);
  ASSERT_TRUE(model);
  TempDir dir;
  ImageRunOptions options;
  options.no_tile = true;
  if (!c.backend.empty()) options.run.backend = c.backend;
  options.run.precision = c.precision;
  Result<ImageRunInfo> run =
      run_image_file(model, manifest_file(c.variant, c.scale, "fixture"), dir.file("out.png"), options);
  ASSERT_TRUE(run.ok()) << run.status().message();
  Pixels ours = read_pixels(dir.file("out.png")), expected = read_pixels(manifest_file(c.variant, c.scale, "result"));
  ASSERT_TRUE(ours.width == expected.width && ours.height == expected.height && expected.bands >= 3)
      << ours.width << "x" << ours.height << " vs " << expected.width << "x" << expected.height;
  int max_difference = 0;
  int64_t differing = 0, values = 0;
  for (int y = 0; y < ours.height; ++y)
    for (int x = 0; x < ours.width; ++x)
      for (int b = 0; b < 3; ++b, ++values) {
        int d = std::abs(int{ours.at(y, x, b)} - int{expected.at(y, x, b)});
        max_difference = std::max(max_difference, d);
        differing += d > 0;
      }
  RecordProperty("max_grey_level_difference", max_difference);
  RecordProperty("values_differing", static_cast<int>(differing));
  fmt::print("esrgan {} x{} {}: max difference {} grey level(s); {} of {} values differ\n", c.variant, c.scale,
             c.precision, max_difference, differing, values);
  EXPECT_LE(max_difference, grey_level_bound(c.precision)) << differing << " of " << values << " values differ";
}

// Every package on the default backend, and in bf16 on oneDNN.
std::vector<EsrganCase> golden_cases() {
  std::vector<EsrganCase> out;
  for (const char* precision : {"fp32", "bf16"})
    for (const char* variant : {"slim", "medium", "thick"})
      for (int scale : {2, 4})
        out.push_back({variant, scale, precision == std::string("bf16") ? "onednn" : "", precision});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Packages, EsrganGolden, ::testing::ValuesIn(golden_cases()), case_name);

// --- Tiled == full ----------------------------------------------------------------------------

class EsrganTiled : public ::testing::TestWithParam<EsrganCase> {};

// Sizes that keep the run time modest: the reference backend is scalar (slim x2 takes 30 s at
// 300x220), and thick is large with a halo of 154 pixels: its windows need a maximum above twice the
// halo, so it runs on a 40-row strip cut into 14 tiles of 32 columns (windows up to 340 wide).
struct TiledSetup {
  int64_t height, width, window_max, tile;  // tile 0: random
};
TiledSetup tiled_setup(const EsrganCase& c) {
  if (c.variant == "thick") return {40, 420, 340, 32};
  if (c.backend == "reference") return {64, 48, 128, 0};
  return {300, 220, 128, 0};
}

// Random pixels, a random tile size and worker count; the full run uses a model compiled for the
// whole image.
TEST_P(EsrganTiled, EqualsFullBitForBit) {
  const EsrganCase& c = GetParam();
  TESSERA_SKIP_WITHOUT_BACKEND(c.backend);
  ASSERT_TRUE(esrgan_data_ready());
  const auto [h, w, window_max, fixed_tile] = tiled_setup(c);
  std::shared_ptr<const Model> tiled_model = compile_esrgan(c.variant, c.scale, 16, window_max);
  std::shared_ptr<const Model> full_model = compile_esrgan(c.variant, c.scale, 16, std::max(h, w));
  ASSERT_TRUE(tiled_model && full_model);
  ASSERT_TRUE(tiled_model->info().tiling.tileable) << tiled_model->info().tiling.reason;

  Tensor image = random_image(3, h, w, static_cast<uint32_t>(c.scale * 7919 + h));
  for (int64_t i = 0; i < image.element_count(); ++i)
    image.data()[i] = (image.data()[i] + 1.0f) / 2.0f * pixel_max(c.variant);
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(c.variant + c.backend) + c.scale));
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  Tensor full = run_full(full_model, image, {c.backend, static_cast<int>(uniform(1, 2)), c.precision});

  Result<tiling::TilePlan> largest = tiling::plan_tiles(*tiled_model, h, w, {});
  ASSERT_TRUE(largest.ok()) << largest.status().message();
  // At least 2 x 2 tiles, none smaller than the model's minimum.
  int64_t most = std::min({largest->core_height, largest->core_width, std::min(h, w) / 2});
  tiling::TilePlanOptions options;
  options.tile = fixed_tile > 0 ? fixed_tile : uniform(16, std::max<int64_t>(16, most));
  int threads = static_cast<int>(uniform(1, 2));
  tiling::TilePlan plan;
  Result<Tensor> tiled = tiling::run_tiled(tiled_model, image.view(), options,
                                           {.threads = threads, .backend = c.backend, .precision = c.precision}, &plan);
  ASSERT_TRUE(tiled.ok()) << tiled.status().message();
  EXPECT_GE(plan.tiles.size(), 4u);
  EXPECT_EQ(bit_differences(*tiled, full), 0)
      << c.variant << " x" << c.scale << " on " << c.backend << " " << c.precision << ", image " << h << "x" << w
      << ", tile " << options.tile << ", " << plan.tiles.size() << " tiles, " << threads << " workers";
}

// The reference backend on slim x2 (medium takes 40 s even at 64x48 there, thick minutes); the
// optimized ones (and oneDNN in bf16) on every variant at x2 and slim at x4 too.
std::vector<EsrganCase> tiled_cases() {
  std::vector<EsrganCase> out = {{"slim", 2, "reference"}};
  for (auto [backend, precision] : {std::pair{"xnnpack", "fp32"}, {"onednn", "fp32"}, {"onednn", "bf16"}})
    for (auto [variant, scale] : {std::pair{"slim", 2}, {"slim", 4}, {"medium", 2}, {"thick", 2}})
      out.push_back({variant, scale, backend, precision});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Packages, EsrganTiled, ::testing::ValuesIn(tiled_cases()), case_name);

// Slim x2 compiled as scripts/models.sh compiles it (16..512) on oneDNN: tiles of the model's
// minimum size (windows of 26 and 36 pixels, where oneDNN lays out its convolutions' weights
// otherwise than at 512) and a thread count far above the CPUs stitch to the whole image bit for
// bit, and a session of that many threads runs at the minimum size.
TEST(EsrganOnednn, MinimumTileAndManyThreadsEqualFull) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  ASSERT_TRUE(esrgan_data_ready());
  std::shared_ptr<const Model> model = compile_esrgan("slim", 2, 16, 512);
  ASSERT_TRUE(model);
  Tensor image = random_image(3, 90, 100, 31);
  for (int64_t i = 0; i < image.element_count(); ++i) image.data()[i] = (image.data()[i] + 1.0f) / 2.0f * 255.0f;
  Tensor full = run_full(model, image, {"onednn", 2});
  ASSERT_GT(full.element_count(), 0);
  for (int threads : {1, 2, 5000}) {
    tiling::TilePlanOptions options;
    options.tile = 16;
    tiling::TilePlan plan;
    Result<Tensor> tiled = tiling::run_tiled(model, image.view(), options, {.threads = threads, .backend = "onednn"}, &plan);
    ASSERT_TRUE(tiled.ok()) << threads << " threads: " << tiled.status().message();
    EXPECT_EQ(plan.tiles.size(), 42u);
    EXPECT_EQ(bit_differences(*tiled, full), 0) << threads << " threads";
  }
  Tensor smallest = random_image(3, 16, 16, 37);
  EXPECT_EQ(run_full(model, smallest, {"onednn", 5000}).element_count(), 3 * 32 * 32);
}

// In bf16 each convolution multiplies a bf16 copy of its input. ESRGAN's copies all go where the
// arena has room at their step (bytes a run at the shape writes anyway that no value in use holds),
// so a bf16 session holds no buffer for them and less than an fp32 one (its weights are half the
// size), at the upper bound and after a run; the goldens and tiled == full check its outputs.
TEST(EsrganOnednn, Bf16CopiesTakeNoMemoryBeyondTheArena) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  ASSERT_TRUE(esrgan_data_ready());
  for (const char* variant : {"slim", "medium"}) {
    std::shared_ptr<const Model> model = compile_esrgan(variant, 2, 16, 128);
    ASSERT_TRUE(model);
    Result<std::unique_ptr<Session>> fp32 = Session::create(model, {"onednn", 1, "fp32"});
    Result<std::unique_ptr<Session>> bf16 = Session::create(model, {"onednn", 1, "bf16"});
    ASSERT_TRUE(fp32.ok() && bf16.ok());
    EXPECT_LT((*bf16)->backend_bytes(), (*fp32)->backend_bytes()) << variant;
    Tensor image = random_image(3, 100, 90, 41);
    ConstTensorView view = image.view();
    ASSERT_TRUE((*bf16)->run({&view, 1}).ok()) << variant;
    EXPECT_LT((*bf16)->backend_bytes(), (*fp32)->backend_bytes()) << variant;
  }
}

}  // namespace
}  // namespace tessera::testing
