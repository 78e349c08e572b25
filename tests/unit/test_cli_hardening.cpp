// Bad inputs a user or an attacker can give the tessera command: names that are not UTF-8 or hold
// terminal controls, pixel ranges and tiling options out of range, FIFOs and devices in place of
// files, and signals in the middle of a run. Each ends with one line, a non-zero exit, and nothing
// left behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/temp_path.h"
#include "image_support.h"
#include "io/pixel_scale.h"
#include "onnx_builder.h"
#include "tessera/tiling.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

class CliHardening : public ::testing::Test {
 protected:
  // tiny (gray in, gray out) for 32..256 pixels of 0..255.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    model_ = compile_with_cli(*dir_, "tiny.onnx", "tiny.tsr",
                              "--dim height=32:256 --dim width=32:256 --pixel-range 0:255");
    ASSERT_FALSE(model_.empty());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // Expects exit 1 with one "tessera: error:" line that contains `part`.
  static void expect_one_error_line(const CliResult& r, const std::string& part) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("tessera: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_CONTAINS(r.err, part);
  }

  // The files in `dir` besides the CLI's captured output.
  static std::vector<std::string> files_in(const TempDir& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path()))
      if (e.path().filename() != "stdout.txt" && e.path().filename() != "stderr.txt")
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string model_;
};

// ---- names from files ----

TEST(Printable, EscapesControlsAndInvalidUtf8AndKeepsValidUtf8) {
  EXPECT_EQ(printable("conv_1"), "conv_1");
  EXPECT_EQ(printable("caf\xC3\xA9 \xE5\x9B\xBE"), "caf\xC3\xA9 \xE5\x9B\xBE");  // valid UTF-8 stays
  EXPECT_EQ(printable("caf\xE9"), "caf\\xE9");
  EXPECT_EQ(printable("a\nb\r\tc\x1b[31m\x7f"), "a\\nb\\r\\tc\\x1B[31m\\x7F");
  EXPECT_EQ(printable(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(printable("\xC2\x9B" "2J"), "\\u009B2J");        // C1 CSI
  EXPECT_EQ(printable("abc\xE2\x80\xAE" "def"), "abc\\u202Edef");  // right-to-left override
  EXPECT_EQ(printable("\xC0\xAF"), "\\xC0\\xAF");            // overlong '/'
  EXPECT_EQ(printable("\xED\xA0\x80"), "\\xED\\xA0\\x80");   // a surrogate
  EXPECT_EQ(printable("\xF0\x9F\x98"), "\\xF0\\x9F\\x98");   // cut short
  EXPECT_EQ(printable(printable("x\x1b\xE9")), printable("x\x1b\xE9"));
}

TEST_F(CliHardening, InfoJsonIsValidForAModelCompiledFromANonUtf8FileName) {
  TempDir dir;
  const std::string onnx = dir.file("caf\xE9.onnx"), tsr = dir.file("cafe.tsr");
  fs::copy_file(testdata("tiny.onnx"), onnx);
  CliResult c = run_cli(dir, fmt::format("compile {} -o {} --dim height=32:64 --dim width=32:64", sh(onnx), sh(tsr)));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  CliResult r = run_cli(dir, fmt::format("info {} --json", sh(tsr)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_CONTAINS(j["source"].get<std::string>(), "caf\xEF\xBF\xBD.onnx");  // U+FFFD for the byte
  CliResult text = run_cli(dir, fmt::format("info {}", sh(tsr)));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_CONTAINS(text.out, "caf\\xE9.onnx");
}

TEST_F(CliHardening, ErrorsNeverPrintControlBytesFromAModel) {
  TempDir dir;
  onnx::ModelProto model;
  onnx::GraphProto* g = start_image_model(model, "evil", 1, 1);
  add_node(g, "Evil\x1b]0;owned\x07", {"x"}, "y")->set_name("line1\nline2\x1b[31mred");
  std::string onnx = save_onnx(dir, model, "evil.onnx");
  CliResult r = run_cli(dir, fmt::format("compile {} -o {} --dim height=32:64 --dim width=32:64", sh(onnx),
                                         sh(dir.file("evil.tsr"))));
  expect_one_error_line(r, "line1\\nline2\\x1B[31mred");
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x07'), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.file("evil.tsr")));
}

// ---- --pixel-range ----

TEST_F(CliHardening, PixelRangesThatAreNotTwoFiniteIncreasingNumbersAreRefused) {
  TempDir dir;
  const std::string out = dir.file("m.tsr");
  for (const char* range : {"0:inf", "-inf:1", "nan:1", "0:nan", "1:0", "1:1", "0:1:2", "0:", ":1", "abc", "0:1x",
                            "-3e38:3e38", "0:1e39"}) {
    SCOPED_TRACE(range);
    CliResult r = run_cli(dir, fmt::format("compile {} -o {} --dim height=32:64 --dim width=32:64 --pixel-range '{}'",
                                           sh(testdata("tiny.onnx")), sh(out), range));
    expect_one_error_line(r, fmt::format("bad --pixel-range '{}'", range));
    EXPECT_CONTAINS(r.err, "e.g. 0:1 or 0:255");
    EXPECT_FALSE(file_exists(out));
    EXPECT_FALSE(temp_file_left(out));
  }
}

TEST(PixelRange, TheImageLibraryRefusesARangeImagesCannotBeScaledTo) {
  EXPECT_TRUE(check_pixel_range(0, 1).ok());
  EXPECT_TRUE(check_pixel_range(-1, 1).ok());
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (auto [lo, hi] : {std::pair{0.0f, inf}, {-inf, 0.0f}, {nan, 1.0f}, {1.0f, 0.0f}, {2.0f, 2.0f}, {-3e38f, 3e38f}}) {
    Status s = check_pixel_range(lo, hi);
    EXPECT_FALSE(s.ok()) << lo << ":" << hi;
    EXPECT_CONTAINS(s.message(), "compile the model again with --pixel-range MIN:MAX");
  }
}

// ---- tiling options ----

TEST_F(CliHardening, TileAndThreadOptionsOutOfRangeAreRefusedAtOnce) {
  TempDir dir;
  const std::string in = dir.file("in.png"), out = dir.file("out.png");
  write_random_image(in, 300, 300, 1, 8, 1);
  for (const char* tile : {"0", "1", "31", "-5"}) {
    SCOPED_TRACE(tile);
    auto start = std::chrono::steady_clock::now();
    CliResult r = run_cli(dir, fmt::format("run {} {} {} --tile {}", sh(model_), sh(in), sh(out), tile));
    expect_one_error_line(r, fmt::format("--tile {} is below the smallest tile the model takes, 32; give --tile 32 or more", tile));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_EQ(files_in(dir), std::vector<std::string>{"in.png"});
  }
  CliResult ok = run_cli(dir, fmt::format("run {} {} {} --tile 32 -q", sh(model_), sh(in), sh(out)));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  fs::remove(out);
  for (const char* threads : {"0", "-1", "5000"}) {
    SCOPED_TRACE(threads);
    for (const char* command : {"run", "verify", "bench"}) {
      std::string args = std::string(command) == "run" ? fmt::format("run {} {} {}", sh(model_), sh(in), sh(out))
                         : std::string(command) == "verify" ? fmt::format("verify {} {}", sh(model_), sh(in))
                                                            : fmt::format("bench {} --sizes 64", sh(model_));
      CliResult r = run_cli(dir, fmt::format("{} --threads {}", args, threads));
      expect_one_error_line(r, fmt::format("--threads {} is outside 1..256", threads));
    }
  }
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"in.png"});
  // The library refuses a tile below the model's minimum too.
  Result<std::shared_ptr<const Model>> model = Model::load(model_);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(*tiling::smallest_tile(**model), 32);
  Result<tiling::TilePlan> plan = tiling::plan_tiles(**model, 300, 300, {.tile = 4});
  ASSERT_FALSE(plan.ok());
  EXPECT_CONTAINS(plan.status().message(), "--tile 4 is below the smallest tile the model takes, 32: its height is at "
                                           "least 32 (dim 'height' is 32..256) on a grid of 1");
}

TEST_F(CliHardening, ADimGivenTwiceIsRefused) {
  TempDir dir;
  const std::string out = dir.file("m.tsr");
  CliResult r = run_cli(dir, fmt::format("compile {} -o {} --dim height=32:64 --dim width=32:64 --dim height=16:128",
                                         sh(testdata("tiny.onnx")), sh(out)));
  expect_one_error_line(r, "--dim height is given twice (32:64 and 16:128); give each dim once");
  EXPECT_FALSE(file_exists(out));
}

// ---- FIFOs, devices and directories in place of files ----

TEST_F(CliHardening, FifosDevicesAndDirectoriesAreRefusedWithoutBlocking) {
  TempDir dir;
  for (const char* name : {"fifo.tsr", "fifo.npy", "fifo.onnx", "model.json"})
    ASSERT_EQ(mkfifo(dir.file(name).c_str(), 0600), 0);  // no writer: a blocking open would wait forever
  fs::create_directory(dir.file("folder.tsr"));
  fs::create_directory(dir.file("folder.npy"));
  const std::string dims = "--dim height=32:64 --dim width=32:64";
  const std::string out = dir.file("out.npy"), tsr = dir.file("out.tsr");
  struct Case {
    std::string args;
    std::string part;
  };
  const std::vector<Case> cases = {
      {fmt::format("info {}", sh(dir.file("fifo.tsr"))), "is a FIFO (named pipe), not a regular file; give the path of a compiled model (.tsr)"},
      {fmt::format("info {}", sh(dir.file("folder.tsr"))), "is a directory, not a regular file"},
      {"info /dev/zero", "'/dev/zero': it is a character device, not a regular file"},
      {fmt::format("run {} {} {}", sh(dir.file("fifo.tsr")), sh(dir.file("in.npy")), sh(out)), "is a FIFO"},
      {fmt::format("run {} {} {}", sh(model_), sh(dir.file("fifo.npy")), sh(out)), "is a FIFO (named pipe), not a regular file; give the path of a .npy file"},
      {fmt::format("run {} {} {}", sh(model_), sh(dir.file("folder.npy")), sh(out)), "is a directory, not a regular file"},
      {fmt::format("run {} /dev/zero {}", sh(model_), sh(dir.file("out.png"))), "'/dev/zero': not a regular file"},
      {fmt::format("verify {} {}", sh(model_), sh(dir.file("fifo.npy"))), "is a FIFO"},
      {fmt::format("compile {} -o {} {}", sh(dir.file("fifo.onnx")), sh(tsr), dims), "is a FIFO (named pipe), not a regular file; give the path of an ONNX model (.onnx)"},
      {fmt::format("compile {} -o {} {}", sh(dir.file("model.json")), sh(tsr), dims), "is a FIFO (named pipe), not a regular file; give the path of a TF.js model.json"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    auto start = std::chrono::steady_clock::now();
    CliResult r = run_cli(dir, c.args);
    expect_one_error_line(r, c.part);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_FALSE(file_exists(out));
    EXPECT_FALSE(file_exists(tsr));
  }
}

// ---- signals ----

// Starts `tessera run` on a large image and waits until its output is being written.
pid_t start_long_run(const TempDir& dir, const std::string& model, const std::string& in, const std::string& out) {
  pid_t child = fork();
  if (child == 0) {
    freopen(dir.file("stderr.txt").c_str(), "w", stderr);
    execl(TESSERA_CLI_PATH, "tessera", "run", model.c_str(), in.c_str(), out.c_str(), "--tile", "128", "--backend",
          "reference", static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : fs::directory_iterator(dir.path()))
      if (parse_temp_name(e.path().filename().string())) return child;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "the run never started writing";
  return child;
}

TEST_F(CliHardening, EverySignalThatEndsARunRemovesItsPartialOutputAndExits128PlusTheSignal) {
  TempDir dir;
  const std::string in = dir.file("in.png"), out = dir.file("out.png");
  write_random_image(in, 3000, 3000, 1, 8, 9);
  struct Case {
    int sig;
    const char* said;
  };
  for (Case c : {Case{SIGTERM, "interrupted; nothing was written"}, Case{SIGHUP, "stopped by SIGHUP"},
                 Case{SIGQUIT, "stopped by SIGQUIT"}, Case{SIGPIPE, "stopped by SIGPIPE"},
                 Case{SIGALRM, "stopped by SIGALRM"}, Case{SIGUSR1, "stopped by SIGUSR1"},
                 Case{SIGUSR2, "stopped by SIGUSR2"}, Case{SIGXCPU, "stopped by SIGXCPU"},
                 Case{SIGXFSZ, "stopped by SIGXFSZ"}}) {
    SCOPED_TRACE(strsignal(c.sig));
    pid_t child = start_long_run(dir, model_, in, out);
    kill(child, c.sig);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 128 + c.sig);
    std::string err = read_file(dir.file("stderr.txt"));
    EXPECT_CONTAINS(err, c.said);
    if (c.sig != SIGTERM) {
      EXPECT_CONTAINS(err, "the partial output was removed, nothing was written");
    }
    EXPECT_EQ(files_in(dir), std::vector<std::string>{"in.png"});
  }
}

TEST_F(CliHardening, TheNextWriteRemovesWhatASigkilledRunLeftAndNothingElse) {
  TempDir dir;
  const std::string in = dir.file("in.png"), out = dir.file("out.png");
  write_random_image(in, 3000, 3000, 1, 8, 9);
  pid_t child = start_long_run(dir, model_, in, out);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  std::string left;
  for (const auto& e : fs::directory_iterator(dir.path()))
    if (std::optional<TempName> t = parse_temp_name(e.path().filename().string())) {
      EXPECT_EQ(t->pid, child);
      EXPECT_EQ(t->host, temp_host_hash());
      left = e.path().filename().string();
    }
  ASSERT_FALSE(left.empty()) << "a SIGKILL leaves the temporary file, named so that it can be recognised";
  EXPECT_EQ(left.rfind("out.tessera-tmp-", 0), 0u) << left;
  EXPECT_EQ(fs::path(left).extension(), ".png");

  // Look-alikes the sweep must keep: another host's, a live process's, other shapes, a folder, a link.
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string ours = temp_host_hash(), other = ours == "00000000" ? "11111111" : "00000000";
  std::vector<std::string> kept = {
      fmt::format("a.tessera-tmp-{}-{}-0.png", dead, other),           // another host or PID namespace
      fmt::format("b.tessera-tmp-{}-{}-0.png", getpid(), ours),        // alive
      fmt::format("c.tessera-tmp-{}-{}-0.png.bak", dead, ours),        // not the exact form
      fmt::format("d.tessera-tmp-0{}-{}-0.png", dead, ours),           // a leading zero
      fmt::format("e.tessera-tmp-{}-{}-x.png", dead, ours),
      fmt::format("tessera-tmp-{}-{}-0.png", dead, ours),              // no name before it
      "notes.txt"};
  for (const std::string& name : kept) write_file(dir.file(name), "keep");
  const std::string folder = fmt::format("f.tessera-tmp-{}-{}-0.png", dead, ours);
  const std::string link = fmt::format("g.tessera-tmp-{}-{}-0.png", dead, ours);
  fs::create_directory(dir.file(folder));
  fs::create_symlink(dir.file("notes.txt"), dir.file(link));
  kept.push_back(folder);
  kept.push_back(link);
  const std::string stale = fmt::format("h.tessera-tmp-{}-{}-7.npy", dead, ours);
  write_file(dir.file(stale), "stale");

  // The next write into the folder (a small image) sweeps.
  write_random_image(dir.file("small.png"), 64, 64, 1, 8, 2);
  CliResult r = run_cli(dir, fmt::format("run {} {} {} -q", sh(model_), sh(dir.file("small.png")), sh(dir.file("small_out.png"))));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(file_exists(dir.file(left)));
  EXPECT_FALSE(file_exists(dir.file(stale)));
  for (const std::string& name : kept) EXPECT_TRUE(fs::exists(fs::symlink_status(dir.file(name)))) << name;
}

}  // namespace
}  // namespace tessera::testing
