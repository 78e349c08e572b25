// The tessera CLI as a user runs it: exit codes, "tessera: error:" messages, and no output file left behind
// by a failed command.
#include "test_support.h"

#include <fmt/format.h>

#include "tessera/session.h"

namespace tessera::testing {
namespace {

class Cli : public ::testing::Test {
 protected:
  // tiny compiled once by the CLI itself.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    model_ = dir_->file("tiny.tsr");
    CliResult r = run_cli(*dir_, fmt::format("compile {} -o {} --dim height=256:1024 --dim width=256:1024",
                                             sh(testdata("tiny.onnx")), sh(model_)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_CONTAINS(r.out, "compiled");
  }
  static void TearDownTestSuite() { dir_.reset(); }

  void SetUp() override { ASSERT_TRUE(file_exists(model_)) << "the suite's compile failed"; }

  // Expects a failure with a "tessera: error:" line on stderr.
  static void expect_error(const CliResult& r) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("tessera: error: ", 0), 0u) << r.err;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string model_;
};

TEST_F(Cli, CompileWithABadDimFailsAndWritesNothing) {
  TempDir dir;
  std::string out = dir.file("bad.tsr");
  for (const char* dims : {"--dim height=10:5 --dim width=256:1024", "--dim width=256:1024",
                           "--dim height=256:1024 --dim width=256:1024 --dim depth=1:2"}) {
    CliResult r = run_cli(dir, fmt::format("compile {} -o {} {}", sh(testdata("tiny.onnx")), sh(out), dims));
    SCOPED_TRACE(dims);
    expect_error(r);
    EXPECT_FALSE(file_exists(out));
    EXPECT_FALSE(temp_file_left(out));
  }
  CliResult r = run_cli(dir, fmt::format("compile {} -o {} --dim height=10:5 --dim width=256:1024",
                                         sh(testdata("tiny.onnx")), sh(out)));
  EXPECT_CONTAINS(r.err, "bad --dim 'height=10:5'");
}

TEST_F(Cli, RunRefusesAFloat64Input) {
  TempDir dir;
  std::string in = dir.file("in_f8.npy"), out = dir.file("out.npy");
  write_file(in, npy_bytes("<f8", false, "(1, 1, 256, 256)", std::string(256 * 256 * 8, '\0')));
  CliResult r = run_cli(dir, fmt::format("run {} {} {}", sh(model_), sh(in), sh(out)));
  expect_error(r);
  EXPECT_CONTAINS(r.err, "'<f8'");
  EXPECT_CONTAINS(r.err, "float32");
  EXPECT_FALSE(file_exists(out));
  EXPECT_FALSE(temp_file_left(out));
}

TEST_F(Cli, RunRefusesAnOutOfRangeInput) {
  TempDir dir;
  std::string in = dir.file("in.npy"), out = dir.file("out.npy");
  Tensor small(Shape{1, 1, 100, 256});
  ASSERT_TRUE(write_npy(in, small.view()).ok());
  CliResult r = run_cli(dir, fmt::format("run {} {} {}", sh(model_), sh(in), sh(out)));
  expect_error(r);
  EXPECT_CONTAINS(r.err, "(height) is 100");
  EXPECT_CONTAINS(r.err, "256..1024");
  EXPECT_FALSE(file_exists(out));
  EXPECT_FALSE(temp_file_left(out));
}

TEST_F(Cli, RunRefusesToWriteOverItsInput) {
  TempDir dir;
  std::string in = dir.file("in.npy");
  Tensor t(Shape{1, 1, 256, 256});
  ASSERT_TRUE(write_npy(in, t.view()).ok());
  std::string before = read_file(in);
  for (const std::string& out : {in, dir.path() + "/./in.npy"}) {
    CliResult r = run_cli(dir, fmt::format("run {} {} {}", sh(model_), sh(in), sh(out)));
    SCOPED_TRACE(out);
    expect_error(r);
    EXPECT_CONTAINS(r.err, "is the input file");
    EXPECT_TRUE(read_file(in) == before) << "the input was modified";
  }
}

// Like run, compile refuses to write over its input. Regression: `tessera compile m.onnx -o m.onnx` used to
// exit 0 and replace the ONNX source with the .tsr.
TEST_F(Cli, CompileRefusesToWriteOverItsSource) {
  TempDir dir;
  std::string source = dir.file("model.onnx");
  write_file(source, read_file(testdata("tiny.onnx")));
  std::string before = read_file(source);
  CliResult r = run_cli(dir, fmt::format("compile {} -o {} --dim height=256:1024 --dim width=256:1024", sh(source),
                                         sh(source)));
  expect_error(r);
  EXPECT_CONTAINS(r.err, "is the source model");
  EXPECT_TRUE(read_file(source) == before) << "the source model was overwritten";
}

TEST_F(Cli, InfoJson) {
  TempDir dir;
  CliResult r = run_cli(dir, fmt::format("info {} --json", sh(model_)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON:\n" << r.out;
  ASSERT_TRUE(j["dims"].is_array());
  ASSERT_EQ(j["dims"].size(), 2u);
  EXPECT_EQ(j["dims"][0]["name"], "height");
  EXPECT_EQ(j["dims"][1]["name"], "width");
  for (const auto& d : j["dims"]) {
    EXPECT_EQ(d["min"], 256);
    EXPECT_EQ(d["max"], 1024);
    EXPECT_EQ(d["multiple_of"], 1);
  }
  EXPECT_EQ(j["inputs"][0]["name"], "x");
  EXPECT_EQ(j["inputs"][0]["axes"], nlohmann::json({"1", "1", "height", "width"}));
  EXPECT_EQ(j["ops"]["Conv"], 3);
  EXPECT_EQ(j["ops"]["Relu"], 2);
  EXPECT_EQ(j["arena_bytes"], 2 * 8 * 1024 * 1024 * 4);
  EXPECT_EQ(j["source"], "tiny.onnx");
  // No Concat: every backend runs on the file's plan.
  for (const char* backend : {"reference", "xnnpack", "onednn"})
    EXPECT_EQ(j["backends"][backend]["arena_bytes"], j["arena_bytes"]);
}

// A dense block's Concats live in one slice of the XNNPACK backend's arena: info prints each backend's.
TEST_F(Cli, InfoPrintsEachBackendsArena) {
  TempDir dir;
  std::string model = compile_with_cli(dir, "dense_block.onnx", "dense_block.tsr",
                                       "--dim height=16:200 --dim width=16:200");
  ASSERT_FALSE(model.empty());
  CliResult r = run_cli(dir, fmt::format("info {} --json", sh(model)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON:\n" << r.out;
  EXPECT_EQ(j["backends"]["onednn"]["arena_bytes"], j["arena_bytes"]);
  EXPECT_LT(j["backends"]["xnnpack"]["arena_bytes"].get<int64_t>(), j["arena_bytes"].get<int64_t>());
  r = run_cli(dir, fmt::format("info {}", sh(model)));
  EXPECT_CONTAINS(r.out, fmt::format("backend  xnnpack{}: every node; arena 4.3 MiB",
                                     auto_backend() == "xnnpack" ? " (auto)" : ""));
}

// info marks the backend --backend auto picks on this machine, once, in the text and in the JSON.
TEST_F(Cli, InfoMarksTheAutoBackend) {
  TempDir dir;
  CliResult r = run_cli(dir, fmt::format("info {}", sh(model_)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, fmt::format("\nbackend  {} (auto): every node; ", auto_backend()));
  size_t marks = 0;
  for (size_t at = r.out.find("(auto)"); at != std::string::npos; at = r.out.find("(auto)", at + 1)) ++marks;
  EXPECT_EQ(marks, 1u) << r.out;
  r = run_cli(dir, fmt::format("info {} --json", sh(model_)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON:\n" << r.out;
  EXPECT_EQ(j["auto_backend"], auto_backend());
  EXPECT_TRUE(j["backends"].contains(auto_backend())) << r.out;
}

TEST_F(Cli, InfoOnAFileThatIsNotAModel) {
  TempDir dir;
  std::string path = dir.file("fake.tsr");
  write_file(path, "definitely not a tessera model, but long enough to hold a 64-byte header..........");
  CliResult r = run_cli(dir, fmt::format("info {}", sh(path)));
  expect_error(r);
  EXPECT_CONTAINS(r.err, "bad magic");
}

TEST_F(Cli, RunWritesTheOutput) {
  TempDir dir;
  std::string out = dir.file("out.npy");
  CliResult r = run_cli(dir, fmt::format("run {} {} {}", sh(model_), sh(testdata("tiny/in_256x256.npy")),
                                         sh(out)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "[1, 1, 256, 256]");
  EXPECT_FALSE(temp_file_left(out));
  Result<Tensor> got = read_npy(out);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->shape(), (Shape{1, 1, 256, 256}));
  Result<Tensor> expected = read_npy(testdata("tiny/out_256x256.npy"));
  ASSERT_TRUE(expected.ok());
  Difference d = compare(got->view(), expected->view());
  EXPECT_LE(d.max_abs, 1e-4 * std::max(d.scale, 1e-2));
}

}  // namespace
}  // namespace tessera::testing
