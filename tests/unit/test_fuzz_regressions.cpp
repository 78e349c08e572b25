// Inputs the fuzz targets once crashed on (tests/data/fuzz/<target>/, small files committed as they
// were found), replayed through the fuzz targets' own entry points (fuzz/targets.h): each must end
// with a Status, never a crash, and an error must be one clean line. Under make test-asan this also
// proves that no sanitizer report comes back. docs/reliability.md: how a crash becomes one of these.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "targets.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> reproducers(const std::string& target) {
  std::vector<fs::path> files;
  fs::path dir = fs::path(TESSERA_FUZZ_REPRODUCERS_DIR) / target;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.' && e.path().extension() != ".md")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void expect_clean(const Status& s) {
  if (s.ok()) return;
  EXPECT_FALSE(s.message().empty());
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

template <typename Run>
void replay(const std::string& target, Run run) {
  fuzz::ScratchDir dir;
  for (const fs::path& file : reproducers(target)) {
    SCOPED_TRACE(file.string());
    expect_clean(run(dir, bytes_of(file)));
  }
}

TEST(FuzzRegressions, Tsr) { replay("tsr", fuzz::tsr_one); }
TEST(FuzzRegressions, Onnx) { replay("onnx", fuzz::onnx_one); }
TEST(FuzzRegressions, Tfjs) { replay("tfjs", fuzz::tfjs_one); }
TEST(FuzzRegressions, Npy) { replay("npy", fuzz::npy_one); }

TEST(FuzzRegressions, Image) {
  fuzz::ScratchDir model_dir;
  auto model = fuzz::image_model(model_dir, TESSERA_TESTDATA_DIR);
  ASSERT_TRUE(model.ok()) << model.status().message();
  replay("image", [&](const fuzz::ScratchDir& dir, std::string_view bytes) { return fuzz::image_one(dir, bytes, *model); });
}

}  // namespace
}  // namespace tessera::testing
