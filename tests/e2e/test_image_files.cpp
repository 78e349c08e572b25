// What an image file says besides its pixels, through run_image_file on real files made here: save
// options and quality; EXIF orientation applied (or kept); EXIF, ICC, XMP and resolution carried and
// scaled; GeoTIFF georeferencing moved onto the output's grid; bands picked, alpha only where the file
// says so, N bands on an N-channel model; gray through an RGB model back to gray; padding of small and
// unaligned images. Tiled == whole bit for bit with every one of these.
#include <gdal.h>
#include <ogr_srs_api.h>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <map>

#include <onnx/onnx_pb.h>
#include <vips/vips8>

#include "compile/dims.h"
#include "image_support.h"
#include "io/georef.h"
#include "onnx_builder.h"
#include "tessera/compiler.h"
#include "tessera/image.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

using std::filesystem::file_size;

// A test model compiled for 16..256 with pixels in 0..1.
std::shared_ptr<const Model> small_model(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const Model>> cache;
  auto& model = cache[name];
  if (!model) {
    const TestModel& m = test_model(name);
    Result<DimInfo> range = parse_dim(m.dims[0]);
    EXPECT_TRUE(range.ok());
    DimInfo small = *range;
    small.min = std::max<int64_t>(std::min<int64_t>(small.min, 16), small.multiple_of);
    small.max = std::min<int64_t>(small.max, 256);
    model = compile_with_range(m, small, "files", 1.0f);
  }
  return model;
}

// A x2 super-resolution model on 4 channels (Conv 4 -> 16, DepthToSpace 2), for RGB + NIR scenes.
std::shared_ptr<const Model> four_band_x2(const TempDir& dir) {
  onnx::ModelProto model;
  onnx::GraphProto* g = start_image_model(model, "four_band_x2", 4, 4);
  std::mt19937 rng(5);
  add_conv(g, rng, "x", "features", 4, 16, 3, {1, 1, 1, 1});
  onnx::NodeProto* d2s = add_node(g, "DepthToSpace", {"features"}, "y");
  onnx::AttributeProto* block = d2s->add_attribute();
  block->set_name("blocksize");
  block->set_type(onnx::AttributeProto::INT);
  block->set_i(2);
  return compile_small_onnx(dir, save_onnx(dir, model, "four_band_x2.onnx"), 256, "four_band_x2.tsr");
}

ImageRunOptions whole() {
  ImageRunOptions o;
  o.no_tile = true;
  o.run.backend = "reference";
  return o;
}

ImageRunOptions tiles(int64_t tile, int threads) {
  ImageRunOptions o;
  o.tiles.tile = tile;
  o.run.threads = threads;
  o.run.backend = "reference";
  return o;
}

vips::VImage load(const std::string& path) { return vips::VImage::new_from_file(path.c_str()); }

bool has(const vips::VImage& image, const char* field) { return vips_image_get_typeof(image.get_image(), field) != 0; }

std::string blob(const vips::VImage& image, const char* field) {
  const void* data;
  size_t length;
  if (vips_image_get_blob(image.get_image(), field, &data, &length) != 0) return "";
  return std::string(static_cast<const char*>(data), length);
}

// An RGB photo with EXIF (a camera make, orientation 6: shown turned 90 degrees clockwise), an ICC
// profile, XMP, IPTC (a caption) and 300 dpi.
void write_photo(const std::string& path, int width, int height) {
  write_random_image(path + ".png", width, height, 3, 8, 21);
  vips::VImage image = load(path + ".png").copy(vips::VImage::option()
                                                     ->set("xres", 300 / 25.4)
                                                     ->set("yres", 300 / 25.4));
  vips_image_set_int(image.get_image(), VIPS_META_ORIENTATION, 6);
  vips_image_set_string(image.get_image(), "exif-ifd0-Make", "TesseraCam");
  VipsBlob* srgb = vips::VImage::profile_load("srgb");
  size_t length = 0;
  const void* profile = vips_blob_get(srgb, &length);
  vips_image_set_blob_copy(image.get_image(), VIPS_META_ICC_NAME, profile, length);
  vips_area_unref(VIPS_AREA(srgb));
  const std::string xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>";
  vips_image_set_blob_copy(image.get_image(), VIPS_META_XMP_NAME, xmp.data(), xmp.size());
  // A Photoshop resource block (as JPEG's APP13 holds it) with IPTC record 2:120, a 7-byte caption.
  const std::string record = std::string("\x1c\x02\x78\x00\x07", 5) + "caption";
  const std::string iptc = std::string("Photoshop 3.0\0" "8BIM\x04\x04\0\0\0\0\0", 25) +
                           static_cast<char>(record.size()) + record;
  vips_image_set_blob_copy(image.get_image(), VIPS_META_IPTC_NAME, iptc.data(), iptc.size());
  image.write_to_file(path.c_str());
}

// A TIFF written by GDAL, band by band: `photometric` RGB or MINISBLACK, `alpha` marks the last band
// as unassociated alpha (otherwise extra bands are "unspecified"); a UTM geotransform, no-data and a
// metadata item when `geo`.
void write_gdal_tiff(const std::string& path, const Pixels& p, const char* photometric, bool alpha, bool geo) {
  GDALAllRegister();
  std::vector<std::string> options = {fmt::format("PHOTOMETRIC={}", photometric)};
  if (alpha) options.push_back("ALPHA=YES");
  std::vector<char*> list;
  for (std::string& o : options) list.push_back(o.data());
  list.push_back(nullptr);
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), p.width, p.height, p.bands,
                               p.bits == 16 ? GDT_UInt16 : GDT_Byte, list.data());
  ASSERT_NE(ds, nullptr) << CPLGetLastErrorMsg();
  for (int b = 0; b < p.bands; ++b) {
    std::vector<uint16_t> plane;
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x) plane.push_back(p.at(y, x, b));
    ASSERT_EQ(GDALRasterIO(GDALGetRasterBand(ds, b + 1), GF_Write, 0, 0, p.width, p.height, plane.data(), p.width,
                           p.height, GDT_UInt16, 0, 0),
              CE_None);
  }
  if (geo) {
    double transform[6] = {500000, 30, 0, 4000000, 0, -30};
    GDALSetGeoTransform(ds, transform);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
    OSRImportFromEPSG(srs, 32633);
    GDALSetSpatialRef(ds, srs);
    OSRDestroySpatialReference(srs);
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), 0);
    GDALSetMetadataItem(ds, "SCENE", "tile 33SVB", nullptr);
  }
  GDALClose(ds);
}

Pixels random_pixels(int width, int height, int bands, int bits, uint32_t seed) {
  Pixels p{width, height, bands, bits, std::vector<uint16_t>(static_cast<size_t>(width) * height * bands)};
  std::mt19937 rng(seed);
  for (uint16_t& s : p.samples) s = static_cast<uint16_t>(rng() % (bits == 16 ? 65536 : 256));
  return p;
}

// Bands `picked` (0-based) of `p`, in that order.
Pixels bands_of(const Pixels& p, const std::vector<int>& picked) {
  Pixels out{p.width, p.height, static_cast<int>(picked.size()), p.bits, {}};
  for (int y = 0; y < p.height; ++y)
    for (int x = 0; x < p.width; ++x)
      for (int b : picked) out.samples.push_back(p.at(y, x, b));
  return out;
}

TEST(ImageFiles, SaveOptionsAndQualityReachTheWriter) {
  TempDir dir;
  std::string in = dir.file("in.png");
  write_random_image(in, 64, 48, 3, 8, 1);
  std::shared_ptr<const Model> model = small_model("sr_pixelshuffle");
  for (const char* out : {"q95.jpg[Q=95]", "q30.jpg[Q=30]", "c9.png[compression=9]", "lzw.tif[compression=lzw]",
                          "none.tif", "strip.webp[Q=80,strip]"}) {
    Result<ImageRunInfo> r = run_image_file(model, in, dir.file(out), whole());
    EXPECT_TRUE(r.ok()) << out << ": " << r.status().message();
  }
  EXPECT_GT(file_size(dir.file("q95.jpg")), file_size(dir.file("q30.jpg")));
  EXPECT_LT(file_size(dir.file("lzw.tif")), file_size(dir.file("none.tif")));
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("c9.png")), read_pixels(dir.file("none.tif"))).count, 0);
  // --quality is Q.
  ImageRunOptions q = whole();
  q.quality = 30;
  ASSERT_TRUE(run_image_file(model, in, dir.file("quality30.jpg"), q).ok());
  EXPECT_EQ(read_file(dir.file("quality30.jpg")), read_file(dir.file("q30.jpg")));

  // Bad options are refused before any work, and nothing is written.
  Result<ImageRunInfo> typo = run_image_file(model, in, dir.file("bad.jpg[Qualty=9]"), whole());
  ASSERT_FALSE(typo.ok());
  EXPECT_CONTAINS(typo.status().message(), "the save options [Qualty=9] do not suit jpegsave");
  EXPECT_FALSE(file_exists(dir.file("bad.jpg")));
  q.quality = 80;
  Result<ImageRunInfo> lossless = run_image_file(model, in, dir.file("q.png"), q);
  ASSERT_FALSE(lossless.ok());
  EXPECT_CONTAINS(lossless.status().message(), "--quality: .png files are lossless");
  Result<ImageRunInfo> tiff = run_image_file(model, in, dir.file("q.tif"), q);
  ASSERT_FALSE(tiff.ok());
  EXPECT_CONTAINS(tiff.status().message(), "[compression=jpeg,Q=80]");
  q.quality = 101;
  EXPECT_CONTAINS(run_image_file(model, in, dir.file("q.jpg"), q).status().message(), "--quality 101 is outside");
}

TEST(ImageFiles, TurnsPhotosUprightAndCarriesTheirMetadataScaled) {
  TempDir dir;
  std::string photo = dir.file("photo.jpg");
  write_photo(photo, 40, 24);  // stored 40 wide, 24 high; shown 24 wide, 40 high
  std::shared_ptr<const Model> model = small_model("sr_pixelshuffle");
  for (const char* ext : {".jpg", ".png", ".webp"}) {
    SCOPED_TRACE(ext);
    std::string out = dir.file(std::string("up") + ext);
    Result<ImageRunInfo> r = run_image_file(model, photo, out, whole());
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_TRUE(r->rotated);
    vips::VImage o = load(out);
    EXPECT_EQ(o.width(), 48);
    EXPECT_EQ(o.height(), 80);
    EXPECT_EQ(o.get_int(VIPS_META_ORIENTATION), 1);  // upright, and says so
    // 300 dpi x 2: the same printed size, in the EXIF and (where the format has one) the header.
    EXPECT_EQ(std::string(o.get_string("exif-ifd0-XResolution")).substr(0, 6), "600/1 ");
    EXPECT_EQ(std::string(o.get_string("exif-ifd0-YResolution")).substr(0, 6), "600/1 ");
    if (std::string(ext) != ".webp") {
      EXPECT_NEAR(o.xres() * 25.4, 600, 0.1);
      EXPECT_NEAR(o.yres() * 25.4, 600, 0.1);
    }
    EXPECT_EQ(blob(o, VIPS_META_ICC_NAME), blob(load(photo), VIPS_META_ICC_NAME));
    EXPECT_EQ(blob(o, VIPS_META_XMP_NAME), blob(load(photo), VIPS_META_XMP_NAME));
    ASSERT_TRUE(has(o, "exif-ifd0-Make"));
    EXPECT_CONTAINS(std::string(o.get_string("exif-ifd0-Make")), "TesseraCam");
    if (std::string(ext) == ".jpg") {
      EXPECT_EQ(blob(o, VIPS_META_IPTC_NAME), blob(load(photo), VIPS_META_IPTC_NAME));
      EXPECT_EQ(r->kept, (std::vector<std::string>{"EXIF", "ICC", "XMP", "IPTC"}));
    } else {
      EXPECT_EQ(r->kept, (std::vector<std::string>{"EXIF", "ICC", "XMP"}));
      EXPECT_EQ(r->dropped, (std::vector<std::string>{"IPTC"}));
    }
  }
  // The pixels are the model's output on the upright image.
  std::string upright = dir.file("upright.png");
  load(photo).autorot().write_to_file(upright.c_str());
  ASSERT_TRUE(run_image_file(model, upright, dir.file("from_upright.png"), whole()).ok());
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("up.png")), read_pixels(dir.file("from_upright.png"))).count, 0);
  // Tiles of the turned image stitch to the whole.
  ASSERT_TRUE(run_image_file(model, photo, dir.file("tiled.png"), tiles(16, 2)).ok());
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("up.png")), read_pixels(dir.file("tiled.png"))).count, 0);

  // --no-autorotate: the pixels as stored, the orientation kept for viewers to apply.
  ImageRunOptions stored = whole();
  stored.input.autorotate = false;
  Result<ImageRunInfo> r = run_image_file(model, photo, dir.file("stored.jpg"), stored);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->rotated);
  vips::VImage o = load(dir.file("stored.jpg"));
  EXPECT_EQ(o.width(), 80);
  EXPECT_EQ(o.get_int(VIPS_META_ORIENTATION), 6);
}

TEST(ImageFiles, SaysWhatTheOutputFormatCannotHold) {
  TempDir dir;
  std::string photo = dir.file("photo.jpg");
  write_photo(photo, 32, 32);
  Result<ImageRunInfo> r = run_image_file(small_model("sr_pixelshuffle"), photo, dir.file("out.tif"), whole());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kept, (std::vector<std::string>{"ICC", "XMP", "IPTC"}));
  EXPECT_EQ(r->dropped, (std::vector<std::string>{"EXIF"}));
  // JPEG has no alpha: the colour goes alone, and the run says so.
  write_random_image(dir.file("rgba.png"), 30, 30, 4, 8, 3);
  Result<ImageRunInfo> jpeg = run_image_file(small_model("sr_pixelshuffle"), dir.file("rgba.png"), dir.file("rgba.jpg"),
                                             whole());
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().message();
  EXPECT_EQ(jpeg->dropped, (std::vector<std::string>{"alpha (JPEG has none)"}));
  EXPECT_EQ(jpeg->out_bands, 3);
  EXPECT_EQ(read_pixels(dir.file("rgba.jpg")).bands, 3);
  // Picked bands in another order are other colours too.
  ImageRunOptions swapped = whole();
  swapped.input.bands = {3, 2, 1};
  Result<ImageRunInfo> bgr = run_image_file(small_model("sr_pixelshuffle"), photo, dir.file("bgr.png"), swapped);
  ASSERT_TRUE(bgr.ok()) << bgr.status().message();
  EXPECT_EQ(bgr->dropped, (std::vector<std::string>{"ICC (the colours were converted)", "IPTC"}));
  // A gray model changes the colours: the RGB profile no longer describes them.
  Result<ImageRunInfo> gray = run_image_file(small_model("tiny"), photo, dir.file("gray.png"), whole());
  ASSERT_TRUE(gray.ok()) << gray.status().message();
  EXPECT_FALSE(has(load(dir.file("gray.png")), VIPS_META_ICC_NAME));
  EXPECT_EQ(gray->dropped, (std::vector<std::string>{"ICC (the colours were converted)", "IPTC"}));
}

TEST(ImageFiles, GrayThroughAnRgbModelComesBackGrayAtItsDepth) {
  TempDir dir;
  std::shared_ptr<const Model> model = small_model("sr_pixelshuffle");
  for (int bits : {8, 16}) {
    SCOPED_TRACE(bits);
    std::string gray = dir.file(fmt::format("gray{}.png", bits)), rgb = dir.file(fmt::format("rgb{}.png", bits));
    write_random_image(gray, 45, 38, 1, bits, 3);
    load(gray).colourspace(bits == 16 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB).write_to_file(rgb.c_str());
    std::string out = dir.file(fmt::format("out{}.png", bits)), from_rgb = dir.file(fmt::format("from_rgb{}.png", bits));
    Result<ImageRunInfo> r = run_image_file(model, gray, out, whole());
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->out_bands, 1);
    Pixels o = read_pixels(out);
    EXPECT_EQ(o.bands, 1);
    EXPECT_EQ(o.bits, bits);
    // The RGB run of the same pixels, turned gray by libvips.
    ASSERT_TRUE(run_image_file(model, rgb, from_rgb, whole()).ok());
    std::string back = dir.file(fmt::format("back{}.png", bits));
    load(from_rgb).colourspace(bits == 16 ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W).write_to_file(back.c_str());
    EXPECT_EQ(pixel_difference(o, read_pixels(back)).count, 0);
    ASSERT_TRUE(run_image_file(model, gray, dir.file("tiled.png"), tiles(16, 3)).ok());
    EXPECT_EQ(pixel_difference(o, read_pixels(dir.file("tiled.png"))).count, 0);
  }
}

TEST(ImageFiles, OnlyABandTheFileMarksAsAlphaIsAlpha) {
  TempDir dir;
  Pixels p = random_pixels(40, 36, 4, 16, 4);
  std::string nir = dir.file("rgb_nir.tif"), rgba = dir.file("rgba.tif");
  write_gdal_tiff(nir, p, "RGB", false, false);
  write_gdal_tiff(rgba, p, "RGB", true, false);
  TempDir models;
  std::shared_ptr<const Model> four = four_band_x2(models);
  ASSERT_TRUE(four);
  // RGB + NIR: four bands for the four-channel model, nothing resized aside.
  Result<ImageRunInfo> r = run_image_file(four, nir, dir.file("nir_x2.tif"), whole());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->in_description, "4 bands 16-bit");
  EXPECT_EQ(read_pixels(dir.file("nir_x2.tif")).bands, 4);
  EXPECT_EQ(*tiff_alpha_bands(dir.file("nir_x2.tif")), (std::vector<bool>{false, false, false, false}));
  ASSERT_TRUE(run_image_file(four, nir, dir.file("nir_tiled.tif"), tiles(16, 2)).ok());
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("nir_x2.tif")), read_pixels(dir.file("nir_tiled.tif"))).count, 0);
  // RGBA: the model gets RGB and the alpha goes beside it.
  Result<ImageRunInfo> a = run_image_file(small_model("sr_pixelshuffle"), rgba, dir.file("rgba_x2.tif"), whole());
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->in_description, "RGB 16-bit with alpha");
  EXPECT_EQ(a->out_bands, 4);
  EXPECT_EQ(*tiff_alpha_bands(dir.file("rgba_x2.tif")), (std::vector<bool>{false, false, false, true}));
  // RGB + NIR on an RGB model fits nothing: the message names the bands, the channels and --bands.
  Result<ImageRunInfo> no = run_image_file(small_model("sr_pixelshuffle"), nir, dir.file("no.tif"), whole());
  ASSERT_FALSE(no.ok());
  EXPECT_CONTAINS(no.status().message(), "the model takes 3 channels and '" + nir +
                                             "' has 4 bands (16-bit, none is alpha); pick 3 of its bands with --bands "
                                             "(e.g. --bands 1,2,3)");
  EXPECT_FALSE(file_exists(dir.file("no.tif")));
}

TEST(ImageFiles, BandsPicksAndOrdersTheModelsInput) {
  TempDir dir;
  Pixels p = random_pixels(44, 30, 5, 8, 6);
  std::string five = dir.file("five.tif");
  write_gdal_tiff(five, p, "MINISBLACK", false, false);
  std::shared_ptr<const Model> model = small_model("sr_pixelshuffle");
  Result<ImageRunInfo> refused = run_image_file(model, five, dir.file("out.png"), whole());
  ASSERT_FALSE(refused.ok());
  EXPECT_CONTAINS(refused.status().message(), "has 5 bands (8-bit, none is alpha); pick 3 of its bands with --bands");
  // --bands 5,3,1 equals the same three bands written as an RGB file.
  ImageRunOptions picked = whole();
  picked.input.bands = {5, 3, 1};
  Result<ImageRunInfo> r = run_image_file(model, five, dir.file("picked.png"), picked);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->in_description, "5 bands 8-bit, bands 5,3,1");
  std::string rgb = dir.file("rgb.png");
  write_pixels(rgb, bands_of(p, {4, 2, 0}));
  ASSERT_TRUE(run_image_file(model, rgb, dir.file("from_rgb.png"), whole()).ok());
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("picked.png")), read_pixels(dir.file("from_rgb.png"))).count, 0);
  ImageRunOptions tiled = tiles(16, 2);
  tiled.input.bands = {5, 3, 1};
  ASSERT_TRUE(run_image_file(model, five, dir.file("tiled.png"), tiled).ok());
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("picked.png")), read_pixels(dir.file("tiled.png"))).count, 0);
  // One band through an RGB model is converted as gray is.
  picked.input.bands = {2};
  Result<ImageRunInfo> one = run_image_file(model, five, dir.file("one.png"), picked);
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->out_bands, 1);
  for (std::vector<int> bad : {std::vector<int>{0, 1, 2}, std::vector<int>{1, 2, 6}, std::vector<int>{1, 2}}) {
    picked.input.bands = bad;
    Result<ImageRunInfo> e = run_image_file(model, five, dir.file("bad.png"), picked);
    EXPECT_FALSE(e.ok());
    EXPECT_FALSE(file_exists(dir.file("bad.png")));
  }
}

TEST(ImageFiles, GeoTiffKeepsItsPlaceOnEarthAtTheNewPixelSize) {
  TempDir dir;
  Pixels p = random_pixels(60, 50, 4, 16, 8);
  std::string scene = dir.file("scene.tif");
  write_gdal_tiff(scene, p, "RGB", false, true);
  TempDir models;
  std::shared_ptr<const Model> four = four_band_x2(models);
  ASSERT_TRUE(four);
  std::string out = dir.file("scene_x2.tif"), tiled = dir.file("scene_tiled.tif");
  Result<ImageRunInfo> r = run_image_file(four, scene, out, whole());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kept, (std::vector<std::string>{"georeferencing"}));
  ASSERT_TRUE(run_image_file(four, scene, tiled, tiles(16, 2)).ok());
  EXPECT_EQ(pixel_difference(read_pixels(out), read_pixels(tiled)).count, 0);
  EXPECT_FALSE(file_exists(out + ".aux.xml"));

  GDALDatasetH in = GDALOpen(scene.c_str(), GA_ReadOnly), o = GDALOpen(out.c_str(), GA_ReadOnly);
  ASSERT_TRUE(in != nullptr && o != nullptr);
  EXPECT_EQ(GDALGetRasterXSize(o), 120);
  EXPECT_EQ(GDALGetRasterCount(o), 4);
  double a[6], b[6];
  ASSERT_EQ(GDALGetGeoTransform(in, a), CE_None);
  ASSERT_EQ(GDALGetGeoTransform(o, b), CE_None);
  EXPECT_EQ(b[0], a[0]);  // the same upper-left corner
  EXPECT_EQ(b[3], a[3]);
  EXPECT_EQ(b[1], a[1] / 2);  // half the pixel size
  EXPECT_EQ(b[5], a[5] / 2);
  EXPECT_EQ(b[0] + 120 * b[1], a[0] + 60 * a[1]);  // the same lower-right corner
  EXPECT_EQ(b[3] + 100 * b[5], a[3] + 50 * a[5]);
  OGRSpatialReferenceH want = OSRNewSpatialReference(GDALGetProjectionRef(in));
  OGRSpatialReferenceH got = OSRNewSpatialReference(GDALGetProjectionRef(o));
  EXPECT_TRUE(OSRIsSame(want, got));
  EXPECT_STREQ(OSRGetAuthorityCode(got, nullptr), "32633");
  OSRDestroySpatialReference(want);
  OSRDestroySpatialReference(got);
  int has_nodata = 0;
  EXPECT_EQ(GDALGetRasterNoDataValue(GDALGetRasterBand(o, 1), &has_nodata), 0);
  EXPECT_TRUE(has_nodata);
  EXPECT_STREQ(GDALGetMetadataItem(o, "SCENE", nullptr), "tile 33SVB");
  GDALClose(in);
  GDALClose(o);

  // A PNG cannot hold it, and the run says so.
  Result<ImageRunInfo> png = run_image_file(small_model("sr_pixelshuffle"), scene, dir.file("scene.png"), [] {
    ImageRunOptions o = whole();
    o.input.bands = {1, 2, 3};
    return o;
  }());
  ASSERT_TRUE(png.ok()) << png.status().message();
  EXPECT_EQ(png->dropped, (std::vector<std::string>{"georeferencing (write a .tif to keep it)"}));
}

TEST(ImageFiles, AlphaFollowsAValidModelsOffset) {
  TempDir dir;
  std::shared_ptr<const Model> model = small_model("valid_convs");
  const AxisTiling& x = model->info().tiling.axes[1];
  ASSERT_GT(x.offset, 0);
  Pixels p = random_pixels(60, 50, 4, 8, 11);
  for (int y = 0; y < p.height; ++y)  // alpha: a ramp along x
    for (int xx = 0; xx < p.width; ++xx) p.samples[(static_cast<size_t>(y) * p.width + xx) * 4 + 3] = xx * 4;
  write_pixels(dir.file("rgba.png"), p);
  Result<ImageRunInfo> r = run_image_file(model, dir.file("rgba.png"), dir.file("out.png"), whole());
  ASSERT_TRUE(r.ok()) << r.status().message();
  Pixels o = read_pixels(dir.file("out.png"));
  ASSERT_EQ(o.bands, 4);
  // Output pixel j covers input pixels [j / scale + offset, (j + 1) / scale + offset): the ramp's mean there.
  const double per_output = static_cast<double>(x.scale_den) / static_cast<double>(x.scale_num);
  for (int xx = 2; xx + 2 < o.width; ++xx)
    EXPECT_NEAR(o.at(o.height / 2, xx, 3), 4 * (xx * per_output + x.offset + (per_output - 1) / 2), 3.0) << xx;
}

TEST(ImageFiles, TiffsGdalCannotOpenStillRun) {
  TempDir dir;
  write_random_image(dir.file("in.png"), 40, 30, 3, 8, 12);
  // JPEG 2000 inside TIFF: libvips reads and writes it, GDAL's TIFF driver lacks the codec.
  // (libvips 8.14 writes it readably in tiles only.)
  load(dir.file("in.png")).write_to_file((dir.file("jp2k.tif") + "[compression=jp2k,tile,lossless]").c_str());
  std::shared_ptr<const Model> model = small_model("sr_pixelshuffle");
  Result<ImageRunInfo> in = run_image_file(model, dir.file("jp2k.tif"), dir.file("out.png"), whole());
  ASSERT_TRUE(in.ok()) << in.status().message();
  EXPECT_EQ(in->in_description, "RGB 8-bit");
  Result<ImageRunInfo> out = run_image_file(model, dir.file("in.png"), dir.file("out.tif[compression=jp2k,tile]"), whole());
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(read_pixels(dir.file("out.tif")).width, 80);
}

TEST(ImageFiles, PadsSmallAndUnalignedImagesAndCropsTheOutputBack) {
  TempDir dir;
  std::shared_ptr<const Model> sr = small_model("sr_pixelshuffle");
  std::string small = dir.file("small.png");
  write_random_image(small, 10, 7, 3, 8, 9);
  Result<ImageRunInfo> refused = run_image_file(sr, small, dir.file("out.png"), whole());
  ASSERT_FALSE(refused.ok());
  EXPECT_CONTAINS(refused.status().message(), "--pad mirror|edge|zero pads it to 16x16");
  struct Case {
    Padding pad;
    VipsExtend extend;
  };
  for (Case c : {Case{Padding::Mirror, VIPS_EXTEND_MIRROR}, Case{Padding::Edge, VIPS_EXTEND_COPY},
                 Case{Padding::Zero, VIPS_EXTEND_BLACK}}) {
    SCOPED_TRACE(static_cast<int>(c.pad));
    ImageRunOptions o = whole();
    o.input.pad = c.pad;
    Result<ImageRunInfo> r = run_image_file(sr, small, dir.file("padded.png"), o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->padded_width, 16);
    EXPECT_EQ(r->padded_height, 16);
    Pixels out = read_pixels(dir.file("padded.png"));
    EXPECT_EQ(out.width, 20);
    EXPECT_EQ(out.height, 14);
    // The same as padding by hand, running, and cropping.
    std::string by_hand = dir.file("by_hand.png");
    load(small).embed(0, 0, 16, 16, vips::VImage::option()->set("extend", c.extend)).write_to_file(by_hand.c_str());
    ASSERT_TRUE(run_image_file(sr, by_hand, dir.file("by_hand_x2.png"), whole()).ok());
    std::string cropped = dir.file("cropped.png");
    load(dir.file("by_hand_x2.png")).crop(0, 0, 20, 14).write_to_file(cropped.c_str());
    EXPECT_EQ(pixel_difference(out, read_pixels(cropped)).count, 0);
  }
  // Off the U-Net's multiple: padded to it, tiled == whole.
  std::shared_ptr<const Model> unet = small_model("unet");
  const int64_t multiple = unet->info().dims[0].multiple_of;
  ASSERT_GT(multiple, 1);
  std::string odd = dir.file("odd.png");
  write_random_image(odd, static_cast<int>(5 * multiple + 1), static_cast<int>(7 * multiple + 3), 3, 8, 10);
  ImageRunOptions o = whole();
  o.input.pad = Padding::Mirror;
  Result<ImageRunInfo> w = run_image_file(unet, odd, dir.file("unet_whole.png"), o);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->padded_width, 6 * multiple);
  EXPECT_EQ(w->out_width, 5 * multiple + 1);
  ImageRunOptions t = tiles(*tiling::smallest_tile(*unet), 2);
  t.input.pad = Padding::Mirror;
  ASSERT_TRUE(run_image_file(unet, odd, dir.file("unet_tiled.png"), t).ok());
  EXPECT_EQ(pixel_difference(read_pixels(dir.file("unet_whole.png")), read_pixels(dir.file("unet_tiled.png"))).count,
            0);
}

}  // namespace
}  // namespace tessera::testing
