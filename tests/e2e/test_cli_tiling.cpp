// `tessera verify`, tiled `tessera run` and `tessera bench` as a user runs them.
#include <fmt/format.h>

#include "test_support.h"

namespace tessera::testing {
namespace {

std::string compile_unet(const TempDir& dir, const std::string& name, int64_t max) {
  return compile_with_cli(dir, "unet.onnx", name, fmt::format("--dim height=32:{}:4 --dim width=32:{}:4", max, max));
}

std::string random_npy(const TempDir& dir, int64_t h, int64_t w) { return write_random_npy(dir, h, w, 3); }

TEST(VerifyCli, SeedScenarioReportsZeroDifferences) {
  TempDir dir;
  std::string model = compile_with_cli(dir, "tiny.onnx", "tiny.tsr", "--dim height=256:1024 --dim width=256:1024");
  ASSERT_FALSE(model.empty());
  CliResult r = run_cli(dir, fmt::format("verify {} {} --tile 256 --halo 16 --threads 2", sh(model),
                                         sh(testdata("tiny/in_1024x1024.npy"))));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_CONTAINS(r.out, "tiles        16 of core 256x256");
  EXPECT_CONTAINS(r.out, "272x272, 288x272, 272x288, 288x288");  // width x height
  EXPECT_CONTAINS(r.out, "differing elements: 0 of 1048576");
  EXPECT_CONTAINS(r.out, "bit-identical");
  EXPECT_CONTAINS(r.out, "peak RSS");
}

TEST(VerifyCli, ImageAboveTheMaximumNeedsAReference) {
  TempDir dir;
  std::string model = compile_unet(dir, "unet.tsr", 256);
  std::string input = random_npy(dir, 300, 260);
  CliResult alone = run_cli(dir, fmt::format("verify {} {} --threads 2", sh(model), sh(input)));
  EXPECT_EQ(alone.exit_code, 1);
  EXPECT_CONTAINS(alone.err, "cannot verify");
  EXPECT_CONTAINS(alone.err, "--reference");

  std::string reference = compile_unet(dir, "unet_wide.tsr", 320);
  CliResult r = run_cli(dir, fmt::format("verify {} {} --threads 2 --reference {}", sh(model), sh(input), sh(reference)));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_CONTAINS(r.out, "tiles        4 of core 132x152");  // width x height: the image is 260 wide, 300 high
  EXPECT_CONTAINS(r.out, "differing elements: 0 of 234000");
}

TEST(VerifyCli, RunTilesAnImageAboveTheMaximum) {
  TempDir dir;
  std::string model = compile_unet(dir, "unet.tsr", 256);
  std::string reference = compile_unet(dir, "unet_wide.tsr", 320);
  std::string input = random_npy(dir, 264, 300);
  CliResult tiled = run_cli(dir, fmt::format("run {} {} {} --threads 3", sh(model), sh(input), sh(dir.file("t.npy"))));
  ASSERT_EQ(tiled.exit_code, 0) << tiled.err;
  EXPECT_CONTAINS(tiled.out, "4 tiles of 152x132");  // width x height, as image runs say
  CliResult full = run_cli(dir, fmt::format("run {} {} {}", sh(reference), sh(input), sh(dir.file("f.npy"))));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_CONTAINS(full.out, "whole image");
  EXPECT_EQ(read_file(dir.file("t.npy")), read_file(dir.file("f.npy")));
}

TEST(VerifyCli, RefusesToTileAModelThatMixesAllPixels) {
  TempDir dir;
  std::string model = compile_with_cli(dir, "se_block.onnx", "se.tsr", "--dim height=16:200 --dim width=16:200");
  ASSERT_FALSE(model.empty());
  CliResult r = run_cli(dir, fmt::format("run {} {} {} --tile 32", sh(model), sh(testdata("se_block/in_43x89.npy")),
                                         sh(dir.file("o.npy"))));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "cannot be tiled");
  EXPECT_CONTAINS(r.err, "GlobalAveragePool");
  EXPECT_FALSE(file_exists(dir.file("o.npy")));
}

TEST(BenchCli, JsonReportsFullAndTiledRuns) {
  TempDir dir;
  std::string model = compile_unet(dir, "unet.tsr", 256);
  CliResult r = run_cli(dir, fmt::format("bench {} --sizes 64,300 --tile 64 --threads 2 --repeats 1 --json "
                                         "--backend reference",
                                         sh(model)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["backend"], "reference");
  EXPECT_GT(j["fma_peak_gflops"].get<double>(), 0);
  ASSERT_EQ(j["sizes"].size(), 2u);
  const auto& small = j["sizes"][0];
  EXPECT_GT(j["create_ms"].get<double>(), 0);
  EXPECT_GT(small["full_ms"].get<double>(), 0);
  EXPECT_GT(small["first_run_ms"].get<double>(), 0);
  EXPECT_GT(small["tiled_ms"].get<double>(), 0);
  EXPECT_GT(small["tiled_first_run_ms"].get<double>(), 0);
  EXPECT_EQ(small["differing"], 0);
  EXPECT_GT(small["gflops"].get<double>(), 0);
  const auto& large = j["sizes"][1];  // above the model's maximum: tiled only
  EXPECT_TRUE(large["full_ms"].is_null());
  EXPECT_TRUE(large["first_run_ms"].is_null());
  EXPECT_GT(large["tiles"].get<int>(), 1);
  EXPECT_GT(large["tiled_ms"].get<double>(), 0);
  EXPECT_GT(large["tiled_first_run_ms"].get<double>(), 0);
}

TEST(BenchCli, RefusesFullOnlyAboveTheModelsMaximum) {
  TempDir dir;
  std::string model = compile_unet(dir, "unet.tsr", 256);
  CliResult r = run_cli(dir, fmt::format("bench {} --sizes 300 --full-only --repeats 1 --backend reference", sh(model)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "the image 300x300 is above the model's maximum, so it cannot run whole");
  r = run_cli(dir, fmt::format("bench {} --sizes 300 --output {} --repeats 1 --backend reference", sh(model),
                               sh(dir.file("o.npy"))));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "--output writes the full-image output");
  EXPECT_FALSE(file_exists(dir.file("o.npy")));
}

TEST(BenchCli, WorkersSplitTheThreads) {
  TempDir dir;
  std::string model = compile_unet(dir, "unet.tsr", 256);
  CliResult r = run_cli(dir, fmt::format("bench {} --sizes 128 --tile 32 --threads 2 --workers 1 --repeats 1 "
                                         "--backend reference",
                                         sh(model)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "16 tiles, 1 worker(s) x 2 thread(s)");
  EXPECT_CONTAINS(r.out, "max difference 0 (0 differing elements)");
  r = run_cli(dir, fmt::format("bench {} --sizes 128 --threads 2 --workers 3 --backend reference", sh(model)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "--workers 3 must divide --threads 2");
}

// bf16 is timed like fp32 and measured against it: the error in the model's units and as PSNR.
TEST(BenchCli, Bf16ReportsItsErrorAgainstFp32) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  TempDir dir;
  std::string model = compile_unet(dir, "unet.tsr", 256);
  CliResult r =
      run_cli(dir, fmt::format("bench {} --sizes 64 --tile 32 --repeats 1 --json --precision bf16", sh(model)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["backend"], "onednn");
  EXPECT_EQ(j["precision"], "bf16");
  const auto& size = j["sizes"][0];
  EXPECT_EQ(size["differing"], 0);  // tiles stay exact in bf16
  EXPECT_GT(size["fp32_error"]["max"].get<double>(), 0);
  EXPECT_LT(size["fp32_error"]["max"].get<double>(), 0.05);
  EXPECT_GT(size["fp32_error"]["psnr_db"].get<double>(), 30);
  r = run_cli(dir, fmt::format("bench {} --sizes 64 --repeats 1 --full-only --precision bf16", sh(model)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "backend      onednn bf16");
  EXPECT_CONTAINS(r.out, "vs fp32    max error");
}

TEST(RunCli, PrecisionIsCheckedAgainstTheBackend) {
  TempDir dir;
  std::string model = compile_unet(dir, "unet.tsr", 256);
  const std::string input = sh(random_npy(dir, 64, 64)), output = sh(dir.file("o.npy"));
  CliResult r = run_cli(dir, fmt::format("run {} {} {} --precision bf17", sh(model), input, output));
  EXPECT_EQ(r.exit_code, 2);  // a usage error
  EXPECT_CONTAINS(r.err, "--precision");
  EXPECT_CONTAINS(r.err, "bf17");
  r = run_cli(dir, fmt::format("run {} {} {} --precision bf16 --backend reference", sh(model), input, output));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "precision bf16 runs on the onednn backend only, not on 'reference'");
  EXPECT_FALSE(file_exists(dir.file("o.npy")));
}

}  // namespace
}  // namespace tessera::testing
