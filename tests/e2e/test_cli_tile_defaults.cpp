// The shared options' defaults as a user meets them: --threads and --memory in the help, a strict
// --memory, and a warning (not an error) for a --tile that recomputes its pixels many times over.
#include <fmt/format.h>


#include "test_support.h"

namespace tessera::testing {
namespace {

std::string random_npy(const TempDir& dir, int64_t h, int64_t w) { return write_random_npy(dir, h, w, 5); }

TEST(TileDefaultsCli, HelpSaysTheDefaults) {
  TempDir dir;
  for (const char* command : {"run", "verify", "bench"}) {
    CliResult r = run_cli(dir, fmt::format("{} --help", command));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_CONTAINS(r.out, "CPUs this process may use");
    EXPECT_CONTAINS(r.out, "--memory");
  }
}

TEST(TileDefaultsCli, MemoryIsParsedStrictly) {
  TempDir dir;
  std::string model = compile_with_cli(dir, "sr_pixelshuffle.onnx", "sr.tsr", "--dim height=16:256 --dim width=16:256");
  ASSERT_FALSE(model.empty());
  std::string input = random_npy(dir, 64, 48);
  for (const char* junk : {"40X", "M", "1.2.3G", "-5M", "400 M", "1e9"}) {
    CliResult r = run_cli(dir, fmt::format("verify {} {} --memory '{}'", sh(model), sh(input), junk));
    EXPECT_EQ(r.exit_code, 1) << junk << ": " << r.out << r.err;
    EXPECT_CONTAINS(r.err, fmt::format("tessera: error: --memory '{}' is not a size", junk));
  }
  for (const char* size : {"400M", "2G", "1.5G", "0", "123456789", "512k"}) {
    CliResult r = run_cli(dir, fmt::format("verify {} {} --memory {}", sh(model), sh(input), size));
    EXPECT_EQ(r.exit_code, 0) << size << ": " << r.err;
  }
}

TEST(TileDefaultsCli, AnAbsurdTileWarnsAndRuns) {
  TempDir dir;
  std::string model = compile_with_cli(dir, "sr_pixelshuffle.onnx", "sr.tsr", "--dim height=16:256 --dim width=16:256");
  ASSERT_FALSE(model.empty());
  std::string input = random_npy(dir, 64, 48);
  CliResult r = run_cli(dir, fmt::format("verify {} {} --tile 16 --halo 20", sh(model), sh(input)));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.err, "tessera: warning: --tile 16 recomputes 12x the pixels for the model's halo 20; --tile 178 "
                         "or more keeps it under 1.5x");
  EXPECT_CONTAINS(r.out, "bit-identical");
  CliResult fine = run_cli(dir, fmt::format("verify {} {} --tile 32", sh(model), sh(input)));
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  EXPECT_EQ(fine.err.find("warning"), std::string::npos) << fine.err;
}

}  // namespace
}  // namespace tessera::testing
