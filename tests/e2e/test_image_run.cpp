// Image files through the streamed path (run_image_file): the pixels equal the Session's output on the
// same pixels converted by hand; tiled == whole image bit for bit for every depth, channel and alpha
// case on every backend; gray <-> RGB conversion and alpha carried through at the model's scale.
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <random>

#include <vips/vips8>

#include "compile/dims.h"
#include "image_support.h"
#include "io/pixel_scale.h"
#include "tessera/image.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

// A test model compiled with its manifest range and a pixel range of 0..pixel_max.
std::shared_ptr<const Model> image_model(const std::string& name, float pixel_max) {
  static std::map<std::pair<std::string, float>, std::shared_ptr<const Model>> cache;
  auto& model = cache[{name, pixel_max}];
  if (!model) {
    const TestModel& m = test_model(name);
    Result<DimInfo> range = parse_dim(m.dims[0]);
    EXPECT_TRUE(range.ok());
    DimInfo small = *range;  // small images keep the tests quick
    small.min = std::min<int64_t>(small.min, 32);
    small.max = std::min<int64_t>(small.max, 256);
    model = compile_with_range(m, small, fmt::format("pixels{}", pixel_max), pixel_max);
  }
  return model;
}

ImageRunOptions options_for(const std::string& backend, int64_t tile, int threads) {
  ImageRunOptions o;
  o.tiles.tile = tile;
  o.no_tile = tile == 0;
  o.run.threads = threads;
  o.run.backend = backend;
  return o;
}

// The model's output pixels for `in`, computed without the image path: samples -> floats -> Session ->
// clamped, rounded samples.
Pixels expected_pixels(std::shared_ptr<const Model> model, const Pixels& in) {
  PixelScale scale(in.bits, model->info().pixel_min, model->info().pixel_max);
  Tensor x(Shape{1, in.bands, in.height, in.width});
  for (int c = 0; c < in.bands; ++c)
    for (int y = 0; y < in.height; ++y)
      for (int xx = 0; xx < in.width; ++xx)
        x.data()[(static_cast<int64_t>(c) * in.height + y) * in.width + xx] = scale.to_model(in.at(y, xx, c));
  Result<std::unique_ptr<Session>> session = Session::create(model, SessionOptions{"reference", 1});
  EXPECT_TRUE(session.ok());
  ConstTensorView view = x.view();
  Result<std::span<const TensorView>> out = (*session)->run({&view, 1});
  EXPECT_TRUE(out.ok()) << out.status().message();
  const TensorView& y = (*out)[0];
  Pixels p{static_cast<int>(y.shape[3]), static_cast<int>(y.shape[2]), static_cast<int>(y.shape[1]), in.bits, {}};
  p.samples.resize(static_cast<size_t>(p.width) * p.height * p.bands);
  for (int yy = 0; yy < p.height; ++yy)
    for (int xx = 0; xx < p.width; ++xx)
      for (int c = 0; c < p.bands; ++c)
        p.samples[(static_cast<size_t>(yy) * p.width + xx) * p.bands + c] =
            scale.to_pixel(y.data[(static_cast<int64_t>(c) * p.height + yy) * p.width + xx]);
  return p;
}

TEST(PixelScale, MapsTheEndsOfTheRangeAndRoundsClampsAndZeroesNaN) {
  PixelScale bytes(8, 0.0f, 255.0f);
  EXPECT_EQ(bytes.to_model(0), 0.0f);
  EXPECT_EQ(bytes.to_model(255), 255.0f);
  EXPECT_EQ(bytes.to_pixel(254.6f), 255);
  EXPECT_EQ(bytes.to_pixel(3.4f), 3);
  EXPECT_EQ(bytes.to_pixel(300.0f), 255);
  EXPECT_EQ(bytes.to_pixel(-5.0f), 0);
  EXPECT_EQ(bytes.to_pixel(std::nanf("")), 0);
  PixelScale words(16, -1.0f, 1.0f);
  EXPECT_EQ(words.to_model(0), -1.0f);
  EXPECT_EQ(words.to_model(65535), 1.0f);
  EXPECT_EQ(words.to_pixel(1.0f), 65535);
  EXPECT_EQ(words.to_pixel(0.0f), 32768);  // 32767.5 rounds to even
  for (int v : {0, 1, 77, 254, 255}) EXPECT_EQ(bytes.to_pixel(bytes.to_model(static_cast<uint16_t>(v))), v);
}

TEST(ImageRun, WritesTheSessionsPixelsForEachDepthAndRange) {
  TempDir dir;
  struct Case {
    std::string model, file;
    int bands, bits;
    float pixel_max;
  };
  for (const Case& c : {Case{"sr_pixelshuffle", "rgb8.png", 3, 8, 1.0f}, Case{"sr_pixelshuffle", "rgb16.png", 3, 16, 255.0f},
                        Case{"tiny", "gray8.tif", 1, 8, 255.0f}, Case{"valid_convs", "rgb8.tif", 3, 8, 1.0f}}) {
    SCOPED_TRACE(c.model + " " + c.file);
    std::shared_ptr<const Model> model = image_model(c.model, c.pixel_max);
    ASSERT_TRUE(model);
    std::string in = dir.file(c.file), out = dir.file("out_" + c.file);
    write_random_image(in, 41, 36, c.bands, c.bits, 7);
    Result<ImageRunInfo> info = run_image_file(model, in, out, options_for("reference", 0, 1));
    ASSERT_TRUE(info.ok()) << info.status().message();
    Pixels expected = expected_pixels(model, read_pixels(in));
    PixelDifference d = pixel_difference(read_pixels(out), expected);
    EXPECT_EQ(d.count, 0) << "max " << d.max;
    EXPECT_EQ(info->out_width, expected.width);
    EXPECT_EQ(info->out_height, expected.height);
  }
}

TEST(ImageRun, ConvertsBetweenGrayAndRgbAsTheModelAsks) {
  TempDir dir;
  // tiny takes gray: an RGB file is converted by libvips, as is a gray file for the RGB sr_pixelshuffle
  // (whose output goes back to gray).
  std::string rgb = dir.file("rgb.png"), gray = dir.file("gray.png");
  write_random_image(rgb, 40, 33, 3, 8, 1);
  write_random_image(gray, 40, 33, 1, 8, 2);
  Result<ImageRunInfo> to_gray = run_image_file(image_model("tiny", 255), rgb, dir.file("tiny.png"),
                                                options_for("reference", 0, 1));
  ASSERT_TRUE(to_gray.ok()) << to_gray.status().message();
  EXPECT_EQ(read_pixels(dir.file("tiny.png")).bands, 1);
  Result<ImageRunInfo> to_rgb = run_image_file(image_model("sr_pixelshuffle", 1), gray, dir.file("sr.png"),
                                               options_for("reference", 0, 1));
  ASSERT_TRUE(to_rgb.ok()) << to_rgb.status().message();
  Pixels sr = read_pixels(dir.file("sr.png"));
  EXPECT_EQ(sr.bands, 1);  // converted back: gray in, gray out
  EXPECT_EQ(sr.width, 80);
  EXPECT_EQ(to_rgb->in_description, "gray 8-bit");
}

TEST(ImageRun, CarriesAlphaThroughResizedToTheModelsScale) {
  TempDir dir;
  std::string in = dir.file("rgba.png"), out = dir.file("out.png"), tiled = dir.file("tiled.png");
  Pixels p{37, 29, 4, 8, std::vector<uint16_t>(37 * 29 * 4)};
  std::mt19937 rng(3);
  for (size_t i = 0; i < p.samples.size(); ++i) p.samples[i] = i % 4 == 3 ? (i / 4 % 37 < 18 ? 255 : 40) : rng() % 256;
  write_pixels(in, p);
  std::shared_ptr<const Model> model = image_model("sr_pixelshuffle", 1);
  ASSERT_TRUE(run_image_file(model, in, out, options_for("reference", 0, 1)).ok());
  ASSERT_TRUE(run_image_file(model, in, tiled, options_for("reference", 16, 2)).ok());
  Pixels o = read_pixels(out);
  ASSERT_EQ(o.bands, 4);
  ASSERT_EQ(o.width, 74);
  EXPECT_EQ(o.at(10, 2, 3), 255);   // left half opaque
  EXPECT_EQ(o.at(10, 70, 3), 40);   // right half translucent
  EXPECT_EQ(pixel_difference(o, read_pixels(tiled)).count, 0);
  // The colour bands are the model's output for the colour alone.
  Pixels rgb = p;
  rgb.bands = 3;
  rgb.samples.clear();
  for (size_t i = 0; i < p.samples.size(); ++i)
    if (i % 4 != 3) rgb.samples.push_back(p.samples[i]);
  Pixels expected = expected_pixels(model, rgb);
  int64_t differing = 0;
  for (int y = 0; y < o.height; ++y)
    for (int x = 0; x < o.width; ++x)
      for (int c = 0; c < 3; ++c) differing += o.at(y, x, c) != expected.at(y, x, c);
  EXPECT_EQ(differing, 0);
}

TEST(ImageRun, ReadsTiledAndPyramidalTiffs) {
  TempDir dir;
  std::string strips = dir.file("strips.tif"), tiled = dir.file("tiled.tif");
  write_random_image(strips, 150, 130, 3, 8, 12);
  vips::VImage::new_from_file(strips.c_str())
      .write_to_file((tiled + "[tile,pyramid,tile-width=32,tile-height=32]").c_str());
  std::shared_ptr<const Model> model = image_model("sr_pixelshuffle", 1);
  ASSERT_TRUE(run_image_file(model, strips, dir.file("a.png"), options_for("reference", 48, 2)).ok());
  Result<ImageRunInfo> info = run_image_file(model, tiled, dir.file("b.png"), options_for("reference", 48, 2));
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->in_width, 150);  // the full-resolution page
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("a.png")), read_pixels(dir.file("b.png"))).count, 0);
}

TEST(ImageRun, RefusesChannelsItCannotConvert) {
  TempDir dir;
  std::string rgb = dir.file("rgb.png");
  write_random_image(rgb, 40, 40, 3, 8, 13);
  // op_conv_groups2 takes 4 channels.
  Result<ImageRunInfo> r = run_image_file(image_model("op_conv_groups2", 1), rgb, dir.file("out.tif"),
                                          options_for("reference", 0, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::InvalidImage);
  EXPECT_CONTAINS(r.status().message(), "the model takes 4 channels and '" + rgb + "' has 3 bands (8-bit, none is alpha)");
  EXPECT_FALSE(file_exists(dir.file("out.tif")));
}

class ImageTiledEqualsWhole : public ::testing::TestWithParam<std::string> {};

// Random sizes, tiles and threads; 8- and 16-bit; gray, RGB and alpha; scale 1, 2 and 1/2.
TEST_P(ImageTiledEqualsWhole, ForEveryModelDepthAndChannelLayout) {
  const std::string& backend = GetParam();
  TESSERA_SKIP_WITHOUT_BACKEND(backend);
  TempDir dir;
  std::mt19937 rng(11);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  struct Case {
    std::string model;
    int bands, bits;
    std::string ext;
  };
  for (const Case& c : {Case{"tiny", 1, 8, ".png"}, Case{"tiny", 3, 16, ".tif"}, Case{"sr_pixelshuffle", 4, 8, ".png"},
                        Case{"sr_pixelshuffle", 3, 16, ".png"}, Case{"valid_convs", 3, 8, ".webp"},
                        Case{"unet", 3, 8, ".tif"}}) {
    std::shared_ptr<const Model> model = image_model(c.model, 1);
    ASSERT_TRUE(model);
    const DimInfo& dim = model->info().dims[0];
    for (int trial = 0; trial < 2; ++trial) {
      const int m = static_cast<int>(dim.multiple_of);
      int w = uniform(static_cast<int>(dim.min), static_cast<int>(dim.max)) / m * m;
      int h = uniform(static_cast<int>(dim.max) / 2, static_cast<int>(dim.max) * 2) / m * m;
      w = std::max(w, static_cast<int>(dim.min));
      h = std::max(h, static_cast<int>(dim.min));
      // At least the smallest tile the model takes (smaller ones are refused).
      const int64_t tile = std::max<int64_t>(16 * uniform(1, 4), *tiling::smallest_tile(*model));
      const int threads = uniform(1, 4);
      SCOPED_TRACE(fmt::format("{} {}x{} bands {} {}-bit {}, tile {}, threads {}", c.model, w, h, c.bands, c.bits, c.ext,
                               tile, threads));
      std::string in = dir.file("in" + c.ext), tiled = dir.file("tiled.tif"), whole = dir.file("whole.tif");
      write_random_image(in, w, h, c.bands, c.bits, static_cast<uint32_t>(rng()));
      Result<ImageRunInfo> t = run_image_file(model, in, tiled, options_for(backend, tile, threads));
      ASSERT_TRUE(t.ok()) << t.status().message();
      EXPECT_GT(t->tiles, 1);
      // The whole image in one call, on a model compiled wide enough to take it.
      ImageRunOptions o = options_for(backend, 0, 1);
      if (w > dim.max || h > dim.max) o = options_for(backend, std::max(w, h) + 64, 1);
      Result<ImageRunInfo> f = run_image_file(model, in, whole, o);
      if (!f.ok()) {
        // Above the model's maximum: stitched tiles vs tiles of another size are still bit-equal.
        o = options_for(backend, 2 * tile, 1);
        f = run_image_file(model, in, whole, o);
      }
      ASSERT_TRUE(f.ok()) << f.status().message();
      PixelDifference d = pixel_difference(read_pixels(tiled), read_pixels(whole));
      EXPECT_EQ(d.count, 0) << "max " << d.max;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ImageTiledEqualsWhole, ::testing::Values("reference", "xnnpack", "onednn"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tessera::testing
