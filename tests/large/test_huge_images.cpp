// make test-large: images far larger than memory would allow whole, made lazily by libvips and streamed
// through `tessera run` as a user runs it. Checks the peak RSS of the tessera process and the output
// against untiled runs on crops (each crop run on its input window plus a margin wider than the halo).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vips/vips8>

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

#include "image_support.h"
#include "io/vips_util.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

struct ChildRun {
  int exit_code = -1;
  int64_t peak_rss_bytes = 0;
  double seconds = 0;
  std::string err;
};

// Runs the tessera CLI as a child process and reads its peak RSS from wait4().
ChildRun run_child(const TempDir& dir, const std::vector<std::string>& args) {
  auto start = std::chrono::steady_clock::now();
  std::string err_path = dir.file("child_stderr.txt");
  pid_t pid = fork();
  if (pid == 0) {
    freopen(err_path.c_str(), "w", stderr);
    std::vector<char*> argv{const_cast<char*>("tessera")};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(TESSERA_CLI_PATH, argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  ChildRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.peak_rss_bytes = int64_t{usage.ru_maxrss} * 1024;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.err = read_file(err_path);
  return r;
}

std::string read_file_prefix(const std::string& path, size_t n) {
  std::ifstream file(path, std::ios::binary);
  std::string bytes(n, '\0');
  file.read(bytes.data(), static_cast<std::streamsize>(n));
  return bytes;
}

// A gray image with structure everywhere, computed by libvips per region (never whole in memory).
vips::VImage pattern(int width, int height, int bits) {
  vips::VImage xyz = vips::VImage::xyz(width, height);
  vips::VImage x = xyz[0], y = xyz[1];
  vips::VImage v = (x * 7 + y * 13) % 256 + (x * y) % 253;
  if (bits == 16) return (v * 131).cast(VIPS_FORMAT_USHORT).copy(vips::VImage::option()->set("interpretation",
                                                                                              VIPS_INTERPRETATION_GREY16));
  return (v % 256).cast(VIPS_FORMAT_UCHAR);
}

// Compares out[y0:y0+size, x0:x0+size] with an untiled run of the input window around it.
void expect_crop_matches(const TempDir& dir, const std::string& model, const std::string& in, const std::string& out,
                         int x0, int y0, int size, int scale) {
  SCOPED_TRACE(fmt::format("crop at ({}, {})", x0, y0));
  constexpr int kMargin = 24;  // wider than the test models' halos
  vips::VImage input = vips::VImage::new_from_file(in.c_str());
  const int cx = std::max(0, x0 - kMargin), cy = std::max(0, y0 - kMargin);
  const int cw = std::min(input.width(), x0 + size + kMargin) - cx, ch = std::min(input.height(), y0 + size + kMargin) - cy;
  std::string crop_in = dir.file("crop_in.tif"), crop_out = dir.file("crop_out.tif");
  input.crop(cx, cy, cw, ch).write_to_file(crop_in.c_str());
  CliResult r = run_cli(dir, fmt::format("run {} {} {} --no-tile -q", sh(model), sh(crop_in), sh(crop_out)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  vips::VImage expected = vips::VImage::new_from_file(crop_out.c_str())
                              .crop((x0 - cx) * scale, (y0 - cy) * scale, size * scale, size * scale);
  vips::VImage actual = vips::VImage::new_from_file(out.c_str()).crop(x0 * scale, y0 * scale, size * scale, size * scale);
  expected.write_to_file(dir.file("expected.tif").c_str());
  actual.write_to_file(dir.file("actual.tif").c_str());
  PixelDifference d = pixel_difference(read_pixels(dir.file("actual.tif")), read_pixels(dir.file("expected.tif")));
  EXPECT_EQ(d.count, 0) << "max " << d.max;
}

TEST(HugeImages, A20000SquareImageStreamsUnder400MB) {
  ASSERT_TRUE(ensure_vips().ok());
  TempDir dir;
  std::string in = dir.file("in.tif"), out = dir.file("out.tif");
  std::string model = compile_with_cli(dir, "tiny.onnx", "tiny.tsr",
                                       "--dim height=32:1024 --dim width=32:1024 --pixel-range 0:255");
  ASSERT_FALSE(model.empty());
  pattern(20000, 20000, 8).write_to_file(in.c_str());
  ChildRun r = run_child(dir, {"run", model, in, out, "--tile", "512", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::printf("20000x20000 8-bit gray, tiny, --tile 512 --threads 2: %.1f s, peak RSS %.1f MiB\n", r.seconds,
              r.peak_rss_bytes / 1048576.0);
  EXPECT_LT(r.peak_rss_bytes, 400'000'000);
  for (auto [x, y] : {std::pair{0, 0}, std::pair{19700, 19700}, std::pair{500, 9990}, std::pair{12270, 3050},
                      std::pair{19700, 0}})
    expect_crop_matches(dir, model, in, out, x, y, 300, 1);
}

// An output of 4.4 GB: past 2^31 and 2^32 bytes, written as a tiled BigTIFF.
TEST(HugeImages, AFourGigabyteOutputBecomesABigTiff) {
  ASSERT_TRUE(ensure_vips().ok());
  TempDir dir;
  std::string in = dir.file("in16.tif"), out = dir.file("out16.tif");
  std::string model = compile_with_cli(dir, "sr_pixelshuffle.onnx", "sr.tsr", "--dim height=16:600 --dim width=16:600");
  ASSERT_FALSE(model.empty());
  pattern(13500, 13500, 16).write_to_file(in.c_str());
  ChildRun r = run_child(dir, {"run", model, in, out, "--tile", "512", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::printf("13500x13500 16-bit gray -> 27000x27000 RGB16 (4.4 GB), sr_pixelshuffle: %.1f s, peak RSS %.1f MiB\n",
              r.seconds, r.peak_rss_bytes / 1048576.0);
  vips::VImage written = vips::VImage::new_from_file(out.c_str());
  EXPECT_EQ(written.width(), 27000);
  EXPECT_EQ(written.bands(), 3);
  EXPECT_EQ(written.format(), VIPS_FORMAT_USHORT);
  EXPECT_GT(std::filesystem::file_size(out), uint64_t{1} << 32);
  EXPECT_EQ(read_file_prefix(out, 4), std::string("II\x2b\0", 4));  // BigTIFF's version number, 43
  for (auto [x, y] : {std::pair{0, 0}, std::pair{13300, 13300}, std::pair{6700, 250}})
    expect_crop_matches(dir, model, in, out, x, y, 200, 2);
}

}  // namespace
}  // namespace tessera::testing
