// `tessera run` on image files as a user meets it: every bad input is one "tessera: error:" line naming
// the file and the problem, and leaves no output and no temporary file; Ctrl-C stops cleanly; the
// summary, --quiet and the progress bar.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vips/vips8>

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "image_support.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

// The bytes of a PNG of `width` x `height` 8-bit gray pixels, made by hand (valid checksums), with no
// image data after the header: libvips sees the declared size at once.
std::string png_header_only(uint32_t width, uint32_t height) {
  auto crc32 = [](const std::string& bytes) {
    uint32_t crc = 0xffffffffu;
    for (unsigned char b : bytes) {
      crc ^= b;
      for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
  };
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string{8, 0, 0, 0, 0};
  std::string iend = "IEND";
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + ihdr + be32(crc32(ihdr)) + be32(0) + iend + be32(crc32(iend));
}

class ImageCli : public ::testing::Test {
 protected:
  // tiny (gray in, gray out, halo 3) for 32..256 pixels of 0..255.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    model_ = compile_with_cli(*dir_, "tiny.onnx", "tiny.tsr",
                              "--dim height=32:256 --dim width=32:256 --pixel-range 0:255");
    ASSERT_FALSE(model_.empty());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // The files in `dir` besides the CLI's captured output.
  static std::vector<std::string> files_in(const TempDir& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path()))
      if (e.path().filename() != "stdout.txt" && e.path().filename() != "stderr.txt")
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  // Runs `tessera run` expecting one error line that contains `part`, and nothing new written in `dir`.
  static void expect_refused(const TempDir& dir, const std::string& in, const std::string& out,
                             const std::string& part, const std::string& extra = "") {
    std::vector<std::string> before = files_in(dir);
    CliResult r = run_cli(dir, fmt::format("run {} {} {} {}", sh(model_), sh(in), sh(out), extra));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("tessera: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_CONTAINS(r.err, part);
    EXPECT_EQ(files_in(dir), before) << r.err;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string model_;
};

TEST_F(ImageCli, MissingEmptyAndUnknownFilesAreNamed) {
  TempDir dir;
  expect_refused(dir, dir.file("nowhere.png"), dir.file("out.png"), "no such file");
  write_file(dir.file("empty.png"), "");
  expect_refused(dir, dir.file("empty.png"), dir.file("out.png"), fmt::format("'{}' is empty", dir.file("empty.png")));
  write_file(dir.file("notes.png"), "these are not pixels\n");
  expect_refused(dir, dir.file("notes.png"), dir.file("out.png"), "is not an image libvips can read");
  fs::create_directory(dir.file("folder.png"));
  expect_refused(dir, dir.file("folder.png"), dir.file("out.png"), "not a regular file");
}

TEST_F(ImageCli, TruncatedAndCorruptImagesFailWithoutOutput) {
  TempDir dir;
  write_random_image(dir.file("good.png"), 200, 150, 1, 8, 5);
  std::string bytes = read_file(dir.file("good.png"));
  write_file(dir.file("truncated.png"), bytes.substr(0, bytes.size() / 2));
  expect_refused(dir, dir.file("truncated.png"), dir.file("out.png"), "cannot read '" + dir.file("truncated.png"));
  std::string corrupt = bytes;
  for (size_t i = corrupt.size() / 3; i < corrupt.size() / 3 + 64; ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
  write_file(dir.file("corrupt.png"), corrupt);
  expect_refused(dir, dir.file("corrupt.png"), dir.file("out.png"), "cannot read '" + dir.file("corrupt.png"));
  write_random_image(dir.file("good.jpg"), 300, 200, 3, 8, 6);
  std::string jpeg = read_file(dir.file("good.jpg"));
  write_file(dir.file("truncated.jpg"), jpeg.substr(0, jpeg.size() * 2 / 3));
  expect_refused(dir, dir.file("truncated.jpg"), dir.file("out.tif"), "cannot read '" + dir.file("truncated.jpg"));
}

TEST_F(ImageCli, ZeroAbsurdAndTooSmallSizesAreRefused) {
  TempDir dir;
  write_file(dir.file("zero.png"), png_header_only(0, 100));
  expect_refused(dir, dir.file("zero.png"), dir.file("out.png"), dir.file("zero.png"));
  write_file(dir.file("huge.png"), png_header_only(2000000000u, 2000000000u));
  expect_refused(dir, dir.file("huge.png"), dir.file("out.png"), dir.file("huge.png"));
  write_file(dir.file("wide.png"), png_header_only(9000000u, 40));
  expect_refused(dir, dir.file("wide.png"), dir.file("out.png"), dir.file("wide.png"));
  write_random_image(dir.file("small.png"), 20, 100, 1, 8, 1);
  expect_refused(dir, dir.file("small.png"), dir.file("out.png"), "the image width 20 is below the model's minimum 32");
  write_random_image(dir.file("bytes.tif"), 40, 40, 1, 8, 1);
  vips::VImage::new_from_file(dir.file("bytes.tif").c_str()).cast(VIPS_FORMAT_FLOAT).write_to_file(
      dir.file("float.tif").c_str());
  expect_refused(dir, dir.file("float.tif"), dir.file("out.tif"), "holds float pixels");
}

TEST_F(ImageCli, BadOutputsAreRefusedBeforeAnyWork) {
  TempDir dir;
  std::string in = dir.file("in.png");
  write_random_image(in, 64, 48, 1, 8, 2);
  expect_refused(dir, in, in, "is the input file");
  expect_refused(dir, in, dir.file("out.xyz"), "no writer for '.xyz' files");
  expect_refused(dir, in, dir.file("missing/out.png"), "the directory");
  expect_refused(dir, in, dir.file("out.npy"), "give two image files or two .npy tensors");
  write_random_image(dir.file("strip.png"), 70000, 32, 1, 8, 3);
  expect_refused(dir, dir.file("strip.png"), dir.file("out.jpg"), "above JPEG's limit", "--threads 2");
  expect_refused(dir, dir.file("strip.png"), dir.file("out.webp"), "above WebP's limit");
}

TEST_F(ImageCli, PrintsOneSummaryLineOrNothingWhenQuiet) {
  TempDir dir;
  std::string in = dir.file("in.png");
  write_random_image(in, 300, 90, 3, 8, 4);
  CliResult r = run_cli(dir, fmt::format("run {} {} {} --tile 64 --threads 2", sh(model_), sh(in), sh(dir.file("o.png"))));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "300x90 RGB 8-bit -> ");
  EXPECT_CONTAINS(r.out, "o.png 300x90: 10 tiles of 60x45, 2 thread(s)");  // --tile 64, balanced
  EXPECT_CONTAINS(r.out, "peak memory");
  EXPECT_EQ(r.err, "");  // not a terminal: no progress bar
  EXPECT_EQ(read_pixels(dir.file("o.png")).bands, 1);  // tiny takes and gives gray
  CliResult quiet = run_cli(dir, fmt::format("run {} {} {} -q", sh(model_), sh(in), sh(dir.file("q.png"))));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out + quiet.err, "");
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("o.png")), read_pixels(dir.file("q.png"))).count, 0);
}

TEST_F(ImageCli, VerifyTakesImages) {
  TempDir dir;
  std::string in = dir.file("in.png");
  write_random_image(in, 250, 90, 3, 8, 4);
  CliResult r = run_cli(dir, fmt::format("verify {} {} --tile 64 --threads 2", sh(model_), sh(in)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "image        [1, 1, 90, 250]");  // RGB converted to the gray tiny takes
  EXPECT_CONTAINS(r.out, "result       bit-identical");
  write_file(dir.file("cut.png"), read_file(in).substr(0, 900));
  CliResult cut = run_cli(dir, fmt::format("verify {} {} --tile 64", sh(model_), sh(dir.file("cut.png"))));
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_CONTAINS(cut.err, "cannot read '" + dir.file("cut.png"));
}

// bench --input takes an image as run does, and --one-shot times fresh `tessera run` processes on it,
// leaving none of their outputs behind.
TEST_F(ImageCli, BenchTimesOneShotRunsOnAnImage) {
  TempDir dir;
  std::string in = dir.file("in.png");
  write_random_image(in, 120, 70, 3, 8, 7);
  fs::create_directory(dir.file("tmp"));
  CliResult r =
      run_cli(dir,
              fmt::format("bench {} --input {} --one-shot 2 --full-only --repeats 1 --json --backend reference",
                          sh(model_), sh(in)),
              "TMPDIR=" + sh(dir.file("tmp")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  const auto& size = j["sizes"][0];
  EXPECT_EQ(size["size"], nlohmann::json({70, 120}));
  ASSERT_EQ(size["one_shot"]["runs_ms"].size(), 2u);
  EXPECT_GT(size["one_shot"]["min_ms"].get<double>(), 0);
  EXPECT_LE(size["one_shot"]["min_ms"].get<double>(), size["one_shot"]["median_ms"].get<double>());
  EXPECT_EQ(size["one_shot"]["against"], "full");
  EXPECT_GT(size["one_shot"]["ratio"].get<double>(), 0);
  EXPECT_TRUE(fs::is_empty(dir.file("tmp")));

  r = run_cli(dir, fmt::format("bench {} --input {} --one-shot 1 --full-only --repeats 1 --backend reference",
                               sh(model_), sh(in)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "ms min of 1 fresh `tessera run` process (start to output written), ");
  EXPECT_CONTAINS(r.out, "x the full run");
  write_random_image(dir.file("wide.png"), 300, 70, 3, 8, 8);  // above the model's maximum: tiles only
  r = run_cli(dir, fmt::format("bench {} --input {} --one-shot 1 --tile 64 --repeats 1 --backend reference",
                               sh(model_), sh(dir.file("wide.png"))));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "x the tiled run");
}

// A run that fails in --one-shot stops the bench with run's own error; the runs get bench's --memory
// (which bench's own whole-image runs do not need).
TEST_F(ImageCli, BenchOneShotReportsWhyARunFailed) {
  TempDir dir;
  std::string in = dir.file("in.png");
  write_random_image(in, 120, 70, 3, 8, 7);
  CliResult r = run_cli(
      dir, fmt::format("bench {} --input {} --one-shot 1 --full-only --memory 1K --backend reference", sh(model_), sh(in)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "--one-shot: `tessera run");
  EXPECT_CONTAINS(r.err, "failed (exit 1): tessera: error: ");
  EXPECT_CONTAINS(r.err, "is below the");
  EXPECT_CONTAINS(r.err, "give --memory");
  r = run_cli(dir, fmt::format("bench {} --sizes 64 --one-shot 1", sh(model_)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "--one-shot times `tessera run` on an image: give it with --input IMAGE");
  r = run_cli(dir, fmt::format("bench {} --input {} --one-shot -1", sh(model_), sh(in)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "--one-shot -1 must not be negative");
  r = run_cli(dir, fmt::format("bench {} --input {} --one-shot 1 --backend reference", sh(model_), sh(in)),
              "TMPDIR=" + sh(dir.file("nowhere")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "--one-shot needs a temporary folder for the runs' outputs, and TMPDIR='" +
                             dir.file("nowhere") + "' is not one");
  EXPECT_CONTAINS(r.err, "set TMPDIR to a folder it may write");
  // A missing input is named before any run.
  r = run_cli(dir, fmt::format("bench {} --input {} --one-shot 1", sh(model_), sh(dir.file("none.png"))));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.find("--one-shot"), std::string::npos) << r.err;
  EXPECT_CONTAINS(r.err, "none.png");
}

TEST_F(ImageCli, DrawsAProgressBarOnATerminal) {
  TempDir dir;
  std::string in = dir.file("in.png");
  write_random_image(in, 600, 600, 1, 8, 4);
  // script(1) gives the command a terminal and records what it shows.
  std::string run = fmt::format("{} run {} {} {} --tile 64 --backend reference", sh(TESSERA_CLI_PATH), sh(model_),
                                sh(in), sh(dir.file("o.png")));
  std::string screen = dir.file("screen.txt");
  int status = std::system(fmt::format("script -qec \"{}\" /dev/null > {} 2>&1", run, sh(screen)).c_str());
  EXPECT_EQ(status, 0);
  std::string shown = read_file(screen);
  EXPECT_CONTAINS(shown, "/100 tiles");
  EXPECT_CONTAINS(shown, "MP/s");
  EXPECT_CONTAINS(shown, "ETA");
  EXPECT_CONTAINS(shown, "100 tiles of 60x60");
}

TEST_F(ImageCli, CtrlCStopsCleanlyAndLeavesNothing) {
  TempDir dir;
  std::string in = dir.file("in.png"), out = dir.file("out.png");
  write_random_image(in, 3000, 3000, 1, 8, 9);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    freopen(dir.file("stderr.txt").c_str(), "w", stderr);
    execl(TESSERA_CLI_PATH, "tessera", "run", model_.c_str(), in.c_str(), out.c_str(), "--tile", "128", "--backend",
          "reference", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the output is being written, then interrupt.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool started = false;
  while (!started && std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : fs::directory_iterator(dir.path()))
      started |= e.path().filename().string().find(".tessera-tmp-") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(started);
  kill(child, SIGINT);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_CONTAINS(read_file(dir.file("stderr.txt")), "interrupted; nothing was written");
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"in.png"});
}

}  // namespace
}  // namespace tessera::testing
