// GeoTIFF georeferencing carried from an input to an output TIFF (src/io/georef.h): real GeoTIFFs
// made with GDAL, outputs written by libvips as tessera writes them, the tags GDAL writes back read
// field by field.
#include "io/georef.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_frmts.h>
#include <gtest/gtest.h>
#include <ogr_srs_api.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fmt/format.h>
#include <map>

#include "image_support.h"
#include "io/gdal_library.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::array<double, 6> kUtmGeotransform = {500000, 10, 0, 5200000, 0, -10};  // 10 m pixels, north up

std::string epsg_wkt(int code) {
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  EXPECT_EQ(OSRImportFromEPSG(srs, code), OGRERR_NONE);
  char* wkt = nullptr;
  OSRExportToWkt(srs, &wkt);
  std::string result = wkt;
  CPLFree(wkt);
  OSRDestroySpatialReference(srs);
  return result;
}

bool same_srs(const std::string& a, const std::string& b) {
  OGRSpatialReferenceH sa = OSRNewSpatialReference(a.c_str()), sb = OSRNewSpatialReference(b.c_str());
  const bool same = sa && sb && OSRIsSame(sa, sb);
  OSRDestroySpatialReference(sa);
  OSRDestroySpatialReference(sb);
  return same;
}

// A 16-bit TIFF made with GDAL, pixels a ramp; `options` are GTiff creation options.
GDALDatasetH create_tiff(const std::string& path, int width, int height, int bands,
                         std::vector<std::string> options = {}) {
  GDALRegister_GTiff();
  CPLStringList opts;
  for (const std::string& o : options) opts.AddString(o.c_str());
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), width, height, bands, GDT_UInt16, opts.List());
  EXPECT_NE(ds, nullptr) << CPLGetLastErrorMsg();
  std::vector<uint16_t> ramp(static_cast<size_t>(width) * height);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<uint16_t>(i * 37);
  for (int b = 1; b <= bands; ++b)
    EXPECT_EQ(GDALRasterIO(GDALGetRasterBand(ds, b), GF_Write, 0, 0, width, height, ramp.data(), width, height,
                           GDT_UInt16, 0, 0),
              CE_None);
  return ds;
}

// A Sentinel-2-like scene: 16-bit red, green, blue, near infrared (ExtraSamples unspecified), UTM 33N,
// 10 m pixels, no-data 0, scene and band metadata, reflectance scale and offset.
void write_scene(const std::string& path, int width = 40, int height = 30,
                 const std::array<double, 6>& gt = kUtmGeotransform) {
  GDALDatasetH ds = create_tiff(path, width, height, 4, {"PHOTOMETRIC=RGB", "ALPHA=UNSPECIFIED"});
  GDALSetProjection(ds, epsg_wkt(32633).c_str());
  GDALSetGeoTransform(ds, const_cast<double*>(gt.data()));
  GDALSetMetadataItem(ds, "ACQUISITION_DATE", "2023-06-01T10:05:59Z", nullptr);
  GDALSetMetadataItem(ds, "SENSOR", "MSI", nullptr);
  const char* names[] = {"red", "green", "blue", "nir"};
  for (int b = 1; b <= 4; ++b) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b);
    GDALSetRasterNoDataValue(band, 0);
    GDALSetDescription(band, names[b - 1]);
    GDALSetMetadataItem(band, "WAVELENGTH_NM", std::to_string(500 + 100 * b).c_str(), nullptr);
    GDALSetRasterScale(band, 0.0001);
    GDALSetRasterOffset(band, -0.1);
  }
  GDALClose(ds);
}

// tessera's output: `bands` bands of 16 bits written by libvips, with libvips save options.
void write_output(const std::string& path, int width, int height, int bands, const std::string& options = "",
                  int bits = 16) {
  write_random_image(options.empty() ? path : path + "[" + options + "]", width, height, bands, bits, 7);
}

std::map<std::string, std::string> as_map(const MetadataItems& items) { return {items.begin(), items.end()}; }

std::string aux_of(const std::string& path) { return path + ".aux.xml"; }

// The corner (x, y) of pixel-corner coordinate (px, py) through a geotransform.
std::array<double, 2> corner(const std::array<double, 6>& g, double px, double py) {
  return {g[0] + px * g[1] + py * g[2], g[3] + px * g[4] + py * g[5]};
}

TEST(Georef, ReadsAUtmSceneFieldByField) {
  TempDir dir;
  const std::string in = dir.file("scene.tif");
  write_scene(in);
  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  EXPECT_FALSE(geo->empty());
  ASSERT_TRUE(geo->geotransform);
  EXPECT_EQ(*geo->geotransform, kUtmGeotransform);
  EXPECT_TRUE(same_srs(geo->projection, epsg_wkt(32633))) << geo->projection;
  ASSERT_TRUE(geo->nodata);
  EXPECT_EQ(*geo->nodata, 0);
  auto md = as_map(geo->metadata);
  EXPECT_EQ(md["ACQUISITION_DATE"], "2023-06-01T10:05:59Z");
  EXPECT_EQ(md["SENSOR"], "MSI");
  EXPECT_EQ(md["AREA_OR_POINT"], "Area");
  for (const auto& [key, value] : geo->metadata) EXPECT_NE(key.rfind("TIFFTAG_", 0), 0u) << key;
  ASSERT_EQ(geo->bands.size(), 4u);
  EXPECT_EQ(geo->bands[3].description, "nir");
  EXPECT_EQ(as_map(geo->bands[3].metadata)["WAVELENGTH_NM"], "900");
  EXPECT_EQ(geo->bands[0].scale, 0.0001);
  EXPECT_EQ(geo->bands[0].offset, -0.1);
  EXPECT_TRUE(geo->gcps.empty());
  EXPECT_TRUE(geo->rpc.empty());
  EXPECT_FALSE(fs::exists(aux_of(in))) << "reading must leave no side file";
}

TEST(Georef, TwiceTheSizeHalvesThePixelAndKeepsTheCorners) {
  TempDir dir;
  const std::string in = dir.file("scene.tif"), out = dir.file("out.tif");
  write_scene(in, 40, 30);
  write_output(out, 80, 60, 4, "compression=lzw");
  const Pixels before = read_pixels(out);
  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  Status s = write_georef(out, *geo, PixelMap{2, 2, 0, 0}, {0, 1, 2, 3});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(fs::exists(aux_of(out)));

  Result<Georef> back = read_georef(out);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE(back->geotransform);
  const std::array<double, 6> g = *back->geotransform;
  EXPECT_EQ(g, (std::array<double, 6>{500000, 5, 0, 5200000, 0, -5}));
  for (auto [px, py] : {std::pair{0, 0}, std::pair{40, 0}, std::pair{0, 30}, std::pair{40, 30}})
    EXPECT_EQ(corner(g, 2 * px, 2 * py), corner(kUtmGeotransform, px, py)) << px << "," << py;
  EXPECT_TRUE(same_srs(back->projection, geo->projection)) << back->projection;
  EXPECT_EQ(back->nodata, 0.0);
  auto md = as_map(back->metadata);
  EXPECT_EQ(md["ACQUISITION_DATE"], "2023-06-01T10:05:59Z");
  EXPECT_EQ(md["SENSOR"], "MSI");
  ASSERT_EQ(back->bands.size(), 4u);
  for (int b = 0; b < 4; ++b) {
    EXPECT_EQ(back->bands[b].description, geo->bands[b].description);
    EXPECT_EQ(back->bands[b].metadata, geo->bands[b].metadata);
    EXPECT_EQ(back->bands[b].scale, 0.0001);
    EXPECT_EQ(back->bands[b].offset, -0.1);
  }
  // The tags went in; the pixels libvips wrote did not change.
  EXPECT_EQ(pixel_difference(before, read_pixels(out)).count, 0);
}

TEST(Georef, BandItemsFollowTheirSourceBand) {
  TempDir dir;
  const std::string in = dir.file("scene.tif"), out = dir.file("out.tif");
  write_scene(in);
  write_output(out, 80, 60, 3);
  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  ASSERT_TRUE(write_georef(out, *geo, PixelMap{2, 2, 0, 0}, {3, -1, 0}).ok());
  Result<Georef> back = read_georef(out);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->bands.size(), 3u);
  EXPECT_EQ(back->bands[0].description, "nir");
  EXPECT_TRUE(back->bands[1].empty());
  EXPECT_EQ(back->bands[2].description, "red");
  EXPECT_EQ(as_map(back->bands[2].metadata)["WAVELENGTH_NM"], "600");
}

TEST(Georef, ValidConvolutionShiftsByOnePixelAndKeepsRotation) {
  TempDir dir;
  const std::string in = dir.file("rotated.tif"), out = dir.file("out.tif");
  const std::array<double, 6> gt = {500000, 8, 6, 5200000, 6, -8};  // rotated: a ModelTransformation tag
  write_scene(in, 40, 30, gt);
  write_output(out, 38, 28, 4, "compression=deflate");
  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  ASSERT_EQ(geo->geotransform, gt);
  ASSERT_TRUE(write_georef(out, *geo, PixelMap{1, 1, 1, 1}, {0, 1, 2, 3}).ok());
  Result<Georef> back = read_georef(out);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE(back->geotransform);
  const std::array<double, 6> g = *back->geotransform;
  EXPECT_EQ(g, (std::array<double, 6>{500000 + 8 + 6, 8, 6, 5200000 + 6 - 8, 6, -8}));
  EXPECT_EQ(corner(g, 0, 0), corner(gt, 1, 1));
  EXPECT_EQ(corner(g, 38, 28), corner(gt, 39, 29));
}

TEST(Georef, GcpsMoveToTheOutputGrid) {
  TempDir dir;
  const std::string in = dir.file("gcps.tif"), out = dir.file("out.tif");
  GDALDatasetH ds = create_tiff(in, 40, 30, 1);
  const std::string wgs84 = epsg_wkt(4326);
  GDAL_GCP gcps[4];
  GDALInitGCPs(4, gcps);
  const double pl[4][4] = {{0, 0, 13.0, 46.9}, {40, 0, 13.1, 46.9}, {0, 30, 13.0, 46.8}, {40.5, 29.5, 13.1, 46.8}};
  for (int i = 0; i < 4; ++i) {
    gcps[i].dfGCPPixel = pl[i][0];
    gcps[i].dfGCPLine = pl[i][1];
    gcps[i].dfGCPX = pl[i][2];
    gcps[i].dfGCPY = pl[i][3];
  }
  ASSERT_EQ(GDALSetGCPs(ds, 4, gcps, wgs84.c_str()), CE_None);
  GDALDeinitGCPs(4, gcps);
  GDALClose(ds);

  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  ASSERT_EQ(geo->gcps.size(), 4u);
  EXPECT_FALSE(geo->geotransform);
  write_output(out, 80, 60, 1);
  const PixelMap map{2, 2, 0.5, 0.25};  // not a real model's; it tells the axes and the offset apart
  ASSERT_TRUE(write_georef(out, *geo, map, {0}).ok());
  EXPECT_FALSE(fs::exists(aux_of(out)));
  Result<Georef> back = read_georef(out);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->gcps.size(), 4u);
  EXPECT_TRUE(same_srs(back->gcp_projection, wgs84)) << back->gcp_projection;
  for (int i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(back->gcps[i].pixel, (pl[i][0] - 0.5) * 2);
    EXPECT_DOUBLE_EQ(back->gcps[i].line, (pl[i][1] - 0.25) * 2);
    EXPECT_DOUBLE_EQ(back->gcps[i].x, pl[i][2]);
    EXPECT_DOUBLE_EQ(back->gcps[i].y, pl[i][3]);
  }
}

TEST(Georef, RpcOffsetsAndScalesMoveToTheOutputGrid) {
  TempDir dir;
  const std::string in = dir.file("rpc.tif"), out = dir.file("out.tif");
  GDALDatasetH ds = create_tiff(in, 40, 30, 1);
  CPLStringList rpc;
  const char* items[][2] = {{"LINE_OFF", "15"},     {"SAMP_OFF", "20"},    {"LAT_OFF", "46.9"},
                            {"LONG_OFF", "13"},     {"HEIGHT_OFF", "500"}, {"LINE_SCALE", "15"},
                            {"SAMP_SCALE", "20"},   {"LAT_SCALE", "0.1"},  {"LONG_SCALE", "0.1"},
                            {"HEIGHT_SCALE", "100"}};
  for (auto& [k, v] : items) rpc.SetNameValue(k, v);
  auto term = [](int which) {  // 20 coefficients, all 0 but one: line ~ latitude, sample ~ longitude
    std::string s;
    for (int i = 0; i < 20; ++i) s += std::string(i ? " " : "") + (i == which ? "1" : "0");
    return s;
  };
  rpc.SetNameValue("LINE_NUM_COEFF", term(2).c_str());
  rpc.SetNameValue("SAMP_NUM_COEFF", term(1).c_str());
  rpc.SetNameValue("LINE_DEN_COEFF", term(0).c_str());
  rpc.SetNameValue("SAMP_DEN_COEFF", term(0).c_str());
  ASSERT_EQ(GDALSetMetadata(ds, rpc.List(), "RPC"), CE_None);
  GDALClose(ds);

  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  ASSERT_FALSE(geo->rpc.empty());
  write_output(out, 80, 60, 1);
  ASSERT_TRUE(write_georef(out, *geo, PixelMap{2, 2, 0, 0}, {0}).ok());
  EXPECT_FALSE(fs::exists(aux_of(out)));
  Result<Georef> back = read_georef(out);
  ASSERT_TRUE(back.ok()) << back.status().message();
  auto r = as_map(back->rpc);
  // GDAL's RPC pixel 0 is the centre of the first pixel: (OFF + 0.5) * 2 - 0.5.
  EXPECT_DOUBLE_EQ(CPLAtof(r["SAMP_OFF"].c_str()), 40.5);
  EXPECT_DOUBLE_EQ(CPLAtof(r["LINE_OFF"].c_str()), 30.5);
  EXPECT_DOUBLE_EQ(CPLAtof(r["SAMP_SCALE"].c_str()), 40);
  EXPECT_DOUBLE_EQ(CPLAtof(r["LINE_SCALE"].c_str()), 30);
  EXPECT_DOUBLE_EQ(CPLAtof(r["LAT_OFF"].c_str()), 46.9);
}

TEST(Georef, WritesIntoTiledBigTiffAndJpegTiff) {
  TempDir dir;
  const std::string in = dir.file("scene.tif");
  write_scene(in);
  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  struct Case {
    std::string name, options;
    int bands, bits;
  };
  for (const Case& c : {Case{"big.tif", "bigtiff,tile,tile_width=16,tile_height=16,compression=deflate", 4, 16},
                        Case{"jpeg.tif", "compression=jpeg,Q=90", 3, 8}}) {
    SCOPED_TRACE(c.name);
    const std::string out = dir.file(c.name);
    write_output(out, 80, 60, c.bands, c.options, c.bits);
    const Pixels before = read_pixels(out);
    std::vector<int> sources(c.bands);
    for (int b = 0; b < c.bands; ++b) sources[b] = b;
    Status s = write_georef(out, *geo, PixelMap{2, 2, 0, 0}, sources);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_FALSE(fs::exists(aux_of(out)));
    Result<Georef> back = read_georef(out);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->geotransform, (std::array<double, 6>{500000, 5, 0, 5200000, 0, -5}));
    EXPECT_TRUE(same_srs(back->projection, geo->projection));
    EXPECT_EQ(pixel_difference(before, read_pixels(out)).count, 0);
  }
  EXPECT_EQ(read_file(dir.file("big.tif")).substr(0, 4), std::string("II+\0", 4)) << "still a BigTIFF";
}

TEST(Georef, FilesWithoutGeoreferencingAreEmpty) {
  TempDir dir;
  write_random_image(dir.file("photo.png"), 20, 10, 3, 8, 1);
  write_random_image(dir.file("plain.tif"), 20, 10, 3, 16, 1);
  for (const char* name : {"photo.png", "plain.tif"}) {
    Result<Georef> geo = read_georef(dir.file(name));
    ASSERT_TRUE(geo.ok()) << geo.status().message();
    EXPECT_TRUE(geo->empty()) << name;
  }
  // Nothing to carry: the output is left as it is, whatever it is.
  EXPECT_TRUE(write_georef(dir.file("photo.png"), Georef{}, PixelMap{2, 2, 0, 0}, {}).ok());
}

TEST(Georef, AlphaBandsFollowExtraSamples) {
  TempDir dir;
  write_scene(dir.file("rgbn.tif"));
  GDALClose(create_tiff(dir.file("rgba.tif"), 8, 8, 4, {"PHOTOMETRIC=RGB", "ALPHA=NON-PREMULTIPLIED"}));
  GDALClose(create_tiff(dir.file("five.tif"), 8, 8, 5));
  write_random_image(dir.file("rgba.png"), 8, 8, 4, 8, 1);
  auto alpha = [&](const char* name) {
    Result<std::vector<bool>> a = tiff_alpha_bands(dir.file(name));
    EXPECT_TRUE(a.ok()) << a.status().message();
    return a.ok() ? *a : std::vector<bool>{};
  };
  EXPECT_EQ(alpha("rgbn.tif"), (std::vector<bool>{false, false, false, false}));
  EXPECT_EQ(alpha("rgba.tif"), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(alpha("five.tif"), std::vector<bool>(5, false));
  EXPECT_EQ(alpha("rgba.png"), std::vector<bool>{});
}

TEST(Georef, ErrorsNameTheFileAndGdalStaysQuiet) {
  TempDir dir;
  const std::string in = dir.file("scene.tif");
  write_scene(in);
  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  write_random_image(dir.file("out.png"), 80, 60, 4, 16, 1);
  write_output(dir.file("out.tif"), 80, 60, 4);
  write_file(dir.file("broken.tif"), std::string("II*\0\x08\0\0\0garbage", 15));

  ::testing::internal::CaptureStderr();
  Result<Georef> missing = read_georef(dir.file("missing.tif"));
  Result<std::vector<bool>> missing_alpha = tiff_alpha_bands(dir.file("missing.tif"));
  Result<Georef> broken = read_georef(dir.file("broken.tif"));
  Status to_missing = write_georef(dir.file("missing.tif"), *geo, PixelMap{2, 2, 0, 0}, {0, 1, 2, 3});
  Status to_png = write_georef(dir.file("out.png"), *geo, PixelMap{2, 2, 0, 0}, {0, 1, 2, 3});
  Status to_broken = write_georef(dir.file("broken.tif"), *geo, PixelMap{2, 2, 0, 0}, {0, 1, 2, 3});
  Status few_sources = write_georef(dir.file("out.tif"), *geo, PixelMap{2, 2, 0, 0}, {0, 1});
  Status bad_source = write_georef(dir.file("out.tif"), *geo, PixelMap{2, 2, 0, 0}, {0, 1, 2, 4});
  Status bad_map = write_georef(dir.file("out.tif"), *geo, PixelMap{0, 2, 0, 0}, {0, 1, 2, 3});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");

  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Error::IoError);
  EXPECT_EQ(missing.status().message(),
            "cannot read the georeferencing of '" + dir.file("missing.tif") + "': No such file or directory");
  ASSERT_FALSE(missing_alpha.ok());
  EXPECT_NE(missing_alpha.status().message().find("missing.tif"), std::string::npos);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), Error::InvalidImage);
  EXPECT_EQ(broken.status().message().rfind("cannot read the georeferencing of '" + dir.file("broken.tif") + "': ", 0),
            0u)
      << broken.status().message();
  EXPECT_EQ(to_missing.code(), Error::IoError);
  EXPECT_NE(to_missing.message().find("missing.tif': No such file"), std::string::npos) << to_missing.message();
  EXPECT_EQ(to_png.code(), Error::InvalidArgument);
  EXPECT_EQ(to_png.message(), "cannot write the georeferencing of '" + dir.file("out.png") +
                                  "': it is not a TIFF file; georeferencing goes into .tif outputs only");
  EXPECT_EQ(to_broken.code(), Error::IoError);
  EXPECT_EQ(to_broken.message().rfind("cannot write the georeferencing of '" + dir.file("broken.tif") + "': ", 0), 0u)
      << to_broken.message();
  EXPECT_NE(few_sources.message().find("it has 4 bands but 2 band sources were given"), std::string::npos)
      << few_sources.message();
  EXPECT_NE(bad_source.message().find("band source 4 is not an input band (0..3) or -1"), std::string::npos)
      << bad_source.message();
  EXPECT_EQ(bad_map.code(), Error::InvalidArgument);
  for (const Status* s : {&to_missing, &to_png, &to_broken, &few_sources, &bad_source, &bad_map})
    EXPECT_EQ(s->message().find('\n'), std::string::npos) << s->message();
  // A refused write leaves the output as libvips wrote it.
  Result<Georef> untouched = read_georef(dir.file("out.tif"));
  ASSERT_TRUE(untouched.ok());
  EXPECT_TRUE(untouched->empty());
  for (const char* name : {"out.tif", "broken.tif", "out.png"}) EXPECT_FALSE(fs::exists(aux_of(dir.file(name))));
}

TEST(Georef, ReadOnlyOutputIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes read-only files";
  TempDir dir;
  const std::string in = dir.file("scene.tif"), out = dir.file("out.tif");
  write_scene(in);
  write_output(out, 80, 60, 4);
  chmod(out.c_str(), 0444);
  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  ::testing::internal::CaptureStderr();
  Status s = write_georef(out, *geo, PixelMap{2, 2, 0, 0}, {0, 1, 2, 3});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(s.code(), Error::IoError);
  EXPECT_EQ(s.message().rfind("cannot write the georeferencing of '" + out + "': ", 0), 0u) << s.message();
  EXPECT_FALSE(fs::exists(aux_of(out)));
}

// GDAL is loaded by its soname when a TIFF first needs it (io/gdal_library.h); one that cannot be
// loaded is named with the package to install.
TEST(Georef, GdalLoadsByItsSonameOrIsNamedWithItsPackage) {
  Result<GdalLibrary> missing = load_gdal_library("libgdal.so.9999");
  ASSERT_FALSE(missing.ok());
  EXPECT_CONTAINS(missing.status().message(), "TIFF files need GDAL (libgdal.so.9999) for their georeferencing");
  EXPECT_CONTAINS(missing.status().message(), "(Debian 12: apt-get install libgdal9999)");
  Result<const GdalLibrary*> loaded = gdal_library();
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ((*loaded)->GDALOpenEx, &GDALOpenEx);  // the GDAL this test links
}

// The tessera command loads GDAL only for a TIFF: a photo's run skips its start-up cost.
TEST(Georef, TheCommandLoadsGdalOnlyForTiffs) {
  TempDir dir;
  const std::string model =
      compile_with_cli(dir, "tiny.onnx", "tiny.tsr", "--dim height=32:256 --dim width=32:256 --pixel-range 0:255");
  ASSERT_FALSE(model.empty());
  write_random_image(dir.file("in.png"), 64, 48, 1, 8, 1);
  CliResult png = run_cli(dir, fmt::format("run {} {} {}", sh(model), sh(dir.file("in.png")), sh(dir.file("o.png"))),
                          "LD_DEBUG=files");
  ASSERT_EQ(png.exit_code, 0) << png.err;
  EXPECT_EQ(png.err.find("libgdal"), std::string::npos);
  write_random_image(dir.file("in.tif"), 64, 48, 1, 8, 1);
  CliResult tif = run_cli(dir, fmt::format("run {} {} {}", sh(model), sh(dir.file("in.tif")), sh(dir.file("o.tif"))),
                          "LD_DEBUG=files");
  ASSERT_EQ(tif.exit_code, 0) << tif.err;
  EXPECT_CONTAINS(tif.err, "libgdal");
}

TEST(Georef, ConfigurationOptionsArePutBack) {
  TempDir dir;
  const std::string in = dir.file("scene.tif"), out = dir.file("out.tif");
  write_scene(in);
  write_output(out, 80, 60, 4);
  Result<Georef> geo = read_georef(in);
  ASSERT_TRUE(geo.ok()) << geo.status().message();
  CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "YES");
  ASSERT_TRUE(write_georef(out, *geo, PixelMap{2, 2, 0, 0}, {0, 1, 2, 3}).ok());
  EXPECT_STREQ(CPLGetThreadLocalConfigOption("GDAL_PAM_ENABLED", nullptr), "YES");
  EXPECT_EQ(CPLGetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", nullptr), nullptr);
  CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", nullptr);
  EXPECT_FALSE(fs::exists(aux_of(out)));
}

}  // namespace
}  // namespace tessera::testing
