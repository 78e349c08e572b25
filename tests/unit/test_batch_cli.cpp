// `tessera run MODEL IN... -o DIR`: folders and lists of images into a folder, the model loaded once;
// a bad file is reported and skipped, the rest go on, and the exit status says something failed;
// existing outputs are kept unless --overwrite; and the run command's argument errors.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "image_support.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

int count_lines_with(const std::string& text, const std::string& part) {
  int n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

std::vector<std::string> tree(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) names.push_back(fs::relative(e.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

class BatchCli : public ::testing::Test {
 protected:
  // tiny (gray in, gray out, halo 3) for 32..256 pixels of 0..255.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    model_ = compile_with_cli(*dir_, "tiny.onnx", "tiny.tsr", "--dim height=32:256 --dim width=32:256 --pixel-range 0:255");
    ASSERT_FALSE(model_.empty());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // photos/: a.png, b.jpg, c.tif, broken.png (cut short), notes.txt, sub/d.png.
  static std::string make_folder(const TempDir& dir) {
    const std::string in = dir.file("photos");
    fs::create_directories(in + "/sub");
    write_random_image(in + "/a.png", 70, 40, 3, 8, 1);
    write_random_image(in + "/b.jpg", 50, 60, 3, 8, 2);
    write_random_image(in + "/c.tif", 45, 33, 1, 16, 3);
    write_random_image(in + "/sub/d.png", 40, 40, 1, 8, 4);
    write_file(in + "/broken.png", read_file(in + "/a.png").substr(0, 200));
    write_file(in + "/notes.txt", "not an image\n");
    return in;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string model_;
};

TEST_F(BatchCli, RunsAFolderSkipsABadFileAndSaysSo) {
  TempDir dir;
  const std::string in = make_folder(dir), out = dir.file("out");
  CliResult r = run_cli(dir, fmt::format("run {} {} -o {} --threads 2", sh(model_), sh(in), sh(out)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(tree(out), (std::vector<std::string>{"a.png", "b.jpg", "c.tif"}));  // not sub/ without --recursive
  EXPECT_EQ(count_lines_with(r.out, " -> "), 3);
  EXPECT_CONTAINS(r.out, "4 images: 3 written, 0 kept, 1 failed");
  EXPECT_CONTAINS(r.err, "tessera: error: cannot read '" + in + "/broken.png'");
  EXPECT_CONTAINS(r.err, "; skipped");
  EXPECT_CONTAINS(r.err, "1 of 4 images failed (each is named above)");
  // Each output equals a run of its file alone.
  CliResult one = run_cli(dir, fmt::format("run {} {} {} -q", sh(model_), sh(in + "/c.tif"), sh(dir.file("c.tif"))));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  Pixels alone = read_pixels(dir.file("c.tif"));
  EXPECT_EQ(alone.bits, 16);
  EXPECT_EQ(pixel_difference(read_pixels(out + "/c.tif"), alone).count, 0);
}

TEST_F(BatchCli, RecursiveFormatKeepAndOverwrite) {
  TempDir dir;
  const std::string in = make_folder(dir), out = dir.file("out");
  fs::remove(in + "/broken.png");
  CliResult r = run_cli(dir, fmt::format("run {} {} -o {} --recursive --format png", sh(model_), sh(in), sh(out)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tree(out), (std::vector<std::string>{"a.png", "b.png", "c.png", "sub/d.png"}));
  EXPECT_CONTAINS(r.out, "4 images: 4 written, 0 kept, 0 failed");
  // Again: every output exists and is kept, untouched.
  const auto written = fs::last_write_time(out + "/a.png");
  CliResult again = run_cli(dir, fmt::format("run {} {} -o {} --recursive --format png", sh(model_), sh(in), sh(out)));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_CONTAINS(again.out, "exists, kept (--overwrite replaces it)");
  EXPECT_CONTAINS(again.out, "4 images: 0 written, 4 kept, 0 failed");
  EXPECT_EQ(fs::last_write_time(out + "/a.png"), written);
  CliResult over = run_cli(
      dir, fmt::format("run {} {} -o {} --recursive --format png --overwrite -q", sh(model_), sh(in), sh(out)));
  ASSERT_EQ(over.exit_code, 0) << over.err;
  EXPECT_EQ(over.out + over.err, "");
  EXPECT_NE(fs::last_write_time(out + "/a.png"), written);
  // A folder's scan never takes the outputs inside it.
  CliResult inside = run_cli(dir, fmt::format("run {} {} -o {} --recursive -q", sh(model_), sh(in), sh(in + "/x2")));
  ASSERT_EQ(inside.exit_code, 0) << inside.err;
  EXPECT_EQ(tree(in + "/x2"), (std::vector<std::string>{"a.png", "b.jpg", "c.tif", "sub/d.png"}));
}

TEST_F(BatchCli, TakesFilesAndRefusesCollisionsBeforeAnyWork) {
  TempDir dir;
  const std::string in = make_folder(dir), out = dir.file("out");
  CliResult files =
      run_cli(dir, fmt::format("run {} {} {} -o {} --format webp --quality 90", sh(model_), sh(in + "/a.png"),
                               sh(in + "/sub/d.png"), sh(out)));
  ASSERT_EQ(files.exit_code, 0) << files.err;
  EXPECT_EQ(tree(out), (std::vector<std::string>{"a.webp", "d.webp"}));
  write_random_image(in + "/a.jpg", 40, 40, 3, 8, 5);
  CliResult clash = run_cli(dir, fmt::format("run {} {} {} -o {} --format png", sh(model_), sh(in + "/a.png"),
                                             sh(in + "/a.jpg"), sh(dir.file("clash"))));
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_CONTAINS(clash.err, "would both be written to");
  EXPECT_FALSE(fs::exists(dir.file("clash")));
}

TEST_F(BatchCli, ArgumentErrorsNameTheFix) {
  TempDir dir;
  const std::string in = make_folder(dir);
  write_file(dir.file("t.npy"), "");
  fs::create_directories(dir.file("empty"));
  struct Case {
    std::string args, message;
  };
  for (const Case& c : std::vector<Case>{
           {fmt::format("run {} {} {} {}", sh(model_), sh(in + "/a.png"), sh(in + "/b.jpg"), sh(dir.file("o.png"))),
            "3 paths: give one input and one output file, or inputs and -o DIR"},
           {fmt::format("run {} {} {} --format png", sh(model_), sh(in + "/a.png"), sh(dir.file("o.png"))),
            "--format picks the type of the files written into -o DIR"},
           {fmt::format("run {} {} -o {} --format bmpx", sh(model_), sh(in), sh(dir.file("o"))),
            "--format bmpx: not an image type libvips writes"},
           {fmt::format("run {} {} -o {}", sh(model_), sh(dir.file("t.npy")), sh(dir.file("o"))),
            "a batch takes image files"},
           {fmt::format("run {} {} -o {}", sh(model_), sh(dir.file("empty")), sh(dir.file("o"))),
            "no image files in " + dir.file("empty") + " (--recursive looks into subfolders too)"},
           {fmt::format("run {} {} {} --bands 1,x", sh(model_), sh(in + "/a.png"), sh(dir.file("o.png"))),
            "--bands '1,x': give band numbers from 1"},
           {fmt::format("run {} {} {} --bands 1,2", sh(model_), sh(in + "/a.png"), sh(dir.file("o.png"))),
            "--bands 1,2 picks 2 of the bands of '" + in + "/a.png' and the model takes 1 channels; pick 1"},
           {fmt::format("run {} {} {}", sh(model_), sh(in), sh(dir.file("o.png"))),
            "'" + in + "' is a directory, not a regular file: give -o DIR to run the images in it"},
           {fmt::format("run {} {} {}", sh(model_), sh(in + "/a.png"), sh(in)),
            "the output '" + in + "' is a directory: give a file name, or -o DIR"},
           {fmt::format("run {} {} {} --quality 0", sh(model_), sh(in + "/a.png"), sh(dir.file("o.jpg"))),
            "--quality 0 is outside 1..100"},
           {fmt::format("run {} {} '{}[Q=95]' --quality 50", sh(model_), sh(in + "/a.png"), dir.file("o.jpg")),
            "sets the quality and so does --quality 50; give it once"},
           {fmt::format("run {} {} {} --quality abc", sh(model_), sh(in + "/a.png"), sh(dir.file("o.jpg"))),
            "tessera: error: Could not convert: --quality = abc; see tessera run --help"},
           {fmt::format("run {} {} -o {}", sh(model_), sh(in + "/notes.txt"), sh(dir.file("o"))),
            "'" + in + "/notes.txt' is not an image file"},
           {fmt::format("run {} {} {} --pad reflect", sh(model_), sh(in + "/a.png"), sh(dir.file("o.png"))),
            "--pad 'reflect': give mirror"},
           {fmt::format("run {} {} {} --quality 90", sh(model_), sh(in + "/a.png"), sh(dir.file("o.png"))),
            "--quality: .png files are lossless"},
       }) {
    CliResult r = run_cli(dir, c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_CONTAINS(r.err, c.message);
    EXPECT_FALSE(fs::exists(dir.file("o.png")));
    EXPECT_FALSE(fs::exists(dir.file("o.jpg")));
    EXPECT_FALSE(fs::exists(dir.file("o")));
  }
}

TEST_F(BatchCli, EveryImageGetsThePlanItGetsAlone) {
  TempDir dir;
  fs::create_directories(dir.file("same"));
  for (const char* name : {"a.png", "b.png", "c.png"}) write_random_image(dir.file("same/") + name, 600, 500, 1, 8, 8);
  // The budget just above what the image alone is planned at: sessions kept between the batch's images
  // must not count against the next one.
  CliResult alone = run_cli(dir, fmt::format("run {} {} {} --threads 2", sh(model_), sh(dir.file("same/a.png")),
                                             sh(dir.file("alone.png"))));
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  const size_t at = alone.out.find("(planned ");
  ASSERT_NE(at, std::string::npos) << alone.out;
  const double planned = std::stod(alone.out.substr(at + 9));
  const std::string tiles = alone.out.substr(alone.out.find(": ") + 2, alone.out.find(", ") - alone.out.find(": ") - 2);
  CliResult batch = run_cli(dir, fmt::format("run {} {} -o {} --threads 2 --memory {}M", sh(model_),
                                             sh(dir.file("same")), sh(dir.file("out")), std::ceil(planned) + 2));
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_EQ(count_lines_with(batch.out, ": " + tiles + ","), 3) << tiles << "\n" << batch.out;
}

TEST_F(BatchCli, VerifyTakesTheSameImageOptions) {
  TempDir dir;
  write_random_image(dir.file("rgb.png"), 90, 70, 3, 8, 6);
  CliResult picked = run_cli(dir, fmt::format("verify {} {} --bands 2 --tile 32", sh(model_), sh(dir.file("rgb.png"))));
  ASSERT_EQ(picked.exit_code, 0) << picked.err;
  EXPECT_CONTAINS(picked.out, "image        [1, 1, 70, 90]");
  EXPECT_CONTAINS(picked.out, "result       bit-identical");
  write_random_image(dir.file("small.png"), 20, 20, 1, 8, 7);
  CliResult padded = run_cli(dir, fmt::format("verify {} {} --pad edge --tile 32", sh(model_), sh(dir.file("small.png"))));
  ASSERT_EQ(padded.exit_code, 0) << padded.err;
  EXPECT_CONTAINS(padded.out, "image        [1, 1, 32, 32]");
}

}  // namespace
}  // namespace tessera::testing
