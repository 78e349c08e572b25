#include "io/georef.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/check.h"
#include "io/gdal_library.h"

namespace tessera {

namespace {

namespace fs = std::filesystem;

// One GDAL call sequence on this thread: GDAL's messages go to this object, never to stderr, and
// the configuration options it sets are put back at the end (they are thread-local, so other
// threads and the host program's own GDAL use are not affected).
class GdalScope {
 public:
  // `no_pam`: no PAM (.aux.xml side files), so that only the TIFF's own tags are read or written.
  // `writing`: no listing of the output's directory for side files either.
  GdalScope(const GdalLibrary& gdal, bool no_pam, bool writing = false) : gdal_(gdal) {
    static std::once_flag registered;
    std::call_once(registered, [&] { gdal.GDALRegister_GTiff(); });  // the only driver tessera needs
    gdal.CPLPushErrorHandlerEx(&GdalScope::handler, this);
    gdal.CPLErrorReset();
    if (no_pam) set_option("GDAL_PAM_ENABLED", "NO");
    if (writing) set_option("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
  }
  ~GdalScope() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it)
      gdal_.CPLSetThreadLocalConfigOption(it->first.c_str(), it->second ? it->second->c_str() : nullptr);
    gdal_.CPLPopErrorHandler();
  }
  GdalScope(const GdalScope&) = delete;
  GdalScope& operator=(const GdalScope&) = delete;

  bool failed() const { return !failure_.empty(); }
  // GDAL's last error, or its last warning when it reported no error.
  std::string reason() const {
    if (!failure_.empty()) return failure_;
    return warning_.empty() ? "GDAL gave no reason" : warning_;
  }

 private:
  void set_option(const char* key, const char* value) {
    const char* old = gdal_.CPLGetThreadLocalConfigOption(key, nullptr);
    saved_.emplace_back(key, old ? std::optional<std::string>(old) : std::nullopt);
    gdal_.CPLSetThreadLocalConfigOption(key, value);
  }

  static void CPL_STDCALL handler(CPLErr level, CPLErrorNum, const char* message) {
    auto* self = static_cast<GdalScope*>(gdal_library().value()->CPLGetErrorHandlerUserData());
    std::string text = message ? message : "";
    for (char& c : text)  // a Status message is one line, and goes on after GDAL's sentence
      if (c == '\n' || c == '\r') c = ' ';
    while (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.pop_back();
    if (level >= CE_Failure)
      self->failure_ = std::move(text);
    else if (level == CE_Warning)
      self->warning_ = std::move(text);
  }

  const GdalLibrary& gdal_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
  std::string failure_, warning_;
};

// Whether `path` starts like a classic TIFF or a BigTIFF; an error when it cannot be read.
Result<bool> is_tiff(const std::string& path, const char* doing) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  TESSERA_CHECK(f != nullptr, Error::IoError, "cannot {} '{}': {}", doing, path, std::strerror(errno));
  unsigned char m[4] = {};
  const size_t got = std::fread(m, 1, 4, f);
  std::fclose(f);
  if (got < 4) return false;
  const bool le = m[0] == 'I' && m[1] == 'I' && (m[2] == 42 || m[2] == 43) && m[3] == 0;
  const bool be = m[0] == 'M' && m[1] == 'M' && m[2] == 0 && (m[3] == 42 || m[3] == 43);
  return le || be;
}

GDALDatasetH open_tiff(const GdalLibrary& gdal, const std::string& path, bool update) {
  const char* const drivers[] = {"GTiff", nullptr};  // even if the host program registered others
  return gdal.GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR | (update ? GDAL_OF_UPDATE : 0), drivers,
                         nullptr, nullptr);
}

// The KEY=VALUE items of a GDAL list, without those whose key starts with `skip_prefix`.
MetadataItems items_of(const GdalLibrary& gdal, CSLConstList list, const char* skip_prefix) {
  MetadataItems items;
  for (CSLConstList it = list; it && *it; ++it) {
    char* key = nullptr;
    const char* value = gdal.CPLParseNameValue(*it, &key);
    if (key && value && (!skip_prefix || !STARTS_WITH(key, skip_prefix))) items.emplace_back(key, value);
    gdal.VSIFree(key);  // CPLFree, a macro
  }
  return items;
}

Status check_map(const PixelMap& m) {
  TESSERA_CHECK(std::isfinite(m.scale_x) && std::isfinite(m.scale_y) && m.scale_x > 0 && m.scale_y > 0 &&
                    std::isfinite(m.offset_x) && std::isfinite(m.offset_y),
                Error::InvalidArgument,
                "the pixel map (scale {}x{}, offset {},{}) needs finite scales above 0 and finite offsets", m.scale_x,
                m.scale_y, m.offset_x, m.offset_y);
  return {};
}

// The RPC items on the output's grid. GDAL's RPC image coordinates put 0 at the centre of the first
// pixel (gdaltransform -rpc maps LINE_OFF to LINE_OFF + 0.5), hence the half pixel either side.
MetadataItems map_rpc(const GdalLibrary& gdal, MetadataItems rpc, const PixelMap& m) {
  for (auto& [key, value] : rpc) {
    const double v = gdal.CPLAtof(value.c_str());
    if (key == "SAMP_OFF") value = fmt::format("{}", (v + 0.5 - m.offset_x) * m.scale_x - 0.5);
    if (key == "LINE_OFF") value = fmt::format("{}", (v + 0.5 - m.offset_y) * m.scale_y - 0.5);
    if (key == "SAMP_SCALE") value = fmt::format("{}", v * m.scale_x);
    if (key == "LINE_SCALE") value = fmt::format("{}", v * m.scale_y);
  }
  return rpc;
}

}  // namespace

bool Georef::empty() const {
  for (const Band& b : bands)
    if (!b.empty()) return false;
  return !geotransform && projection.empty() && gcps.empty() && !nodata && metadata.empty() && rpc.empty();
}

Result<Georef> read_georef(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(const bool tiff, is_tiff(path, "read the georeferencing of"));
  Georef geo;
  if (!tiff) return geo;
  TESSERA_ASSIGN_OR_RETURN(const GdalLibrary* library, gdal_library());
  const GdalLibrary& gdal = *library;
  // PAM stays on: georeferencing GDAL reads from the input's .aux.xml or world file counts too.
  GdalScope scope(gdal, /*no_pam=*/false);
  GDALDatasetH ds = open_tiff(gdal, path, false);
  TESSERA_CHECK(ds != nullptr, Error::InvalidImage, "cannot read the georeferencing of '{}': {}", path, scope.reason());
  std::array<double, 6> gt{};
  if (gdal.GDALGetGeoTransform(ds, gt.data()) == CE_None) geo.geotransform = gt;
  if (const char* wkt = gdal.GDALGetProjectionRef(ds)) geo.projection = wkt;
  const GDAL_GCP* gcps = gdal.GDALGetGCPs(ds);
  for (int i = 0; i < gdal.GDALGetGCPCount(ds); ++i)
    geo.gcps.push_back({gcps[i].pszId ? gcps[i].pszId : "", gcps[i].pszInfo ? gcps[i].pszInfo : "",
                        gcps[i].dfGCPPixel, gcps[i].dfGCPLine, gcps[i].dfGCPX, gcps[i].dfGCPY, gcps[i].dfGCPZ});
  if (!geo.gcps.empty())
    if (const char* wkt = gdal.GDALGetGCPProjection(ds)) geo.gcp_projection = wkt;
  geo.metadata = items_of(gdal, gdal.GDALGetMetadata(ds, nullptr), "TIFFTAG_");  // baseline tags: libvips' business
  geo.rpc = items_of(gdal, gdal.GDALGetMetadata(ds, "RPC"), nullptr);
  bool any_band_item = false;
  for (int b = 1; b <= gdal.GDALGetRasterCount(ds); ++b) {
    GDALRasterBandH band = gdal.GDALGetRasterBand(ds, b);
    int has = 0;
    const double nodata = gdal.GDALGetRasterNoDataValue(band, &has);
    if (b == 1 && has) geo.nodata = nodata;  // one value for the whole TIFF (its GDAL_NODATA tag)
    Georef::Band& item = geo.bands.emplace_back();
    if (const char* d = gdal.GDALGetDescription(band)) item.description = d;
    item.metadata = items_of(gdal, gdal.GDALGetMetadata(band, nullptr), "STATISTICS_");  // the pixels change
    const double scale = gdal.GDALGetRasterScale(band, &has);
    if (has) item.scale = scale;
    const double offset = gdal.GDALGetRasterOffset(band, &has);
    if (has) item.offset = offset;
    any_band_item |= !item.empty();
  }
  gdal.GDALClose(ds);
  if (!any_band_item) geo.bands.clear();
  return geo;
}

Status write_georef(const std::string& tiff_path, const Georef& geo, const PixelMap& map,
                    const std::vector<int>& band_source) {
  TESSERA_RETURN_IF_ERROR(check_map(map));
  if (geo.empty()) return {};
  TESSERA_ASSIGN_OR_RETURN(const bool tiff, is_tiff(tiff_path, "write the georeferencing of"));
  TESSERA_CHECK(tiff, Error::InvalidArgument,
                "cannot write the georeferencing of '{}': it is not a TIFF file; georeferencing goes into .tif "
                "outputs only",
                tiff_path);
  TESSERA_ASSIGN_OR_RETURN(const GdalLibrary* library, gdal_library());
  const GdalLibrary& gdal = *library;
  const std::string aux = tiff_path + ".aux.xml";
  std::error_code ec;
  const bool aux_before = fs::exists(aux, ec);

  GdalScope scope(gdal, /*no_pam=*/true, /*writing=*/true);
  GDALDatasetH ds = open_tiff(gdal, tiff_path, true);
  TESSERA_CHECK(ds != nullptr, Error::IoError,
                "cannot write the georeferencing of '{}': {}; the output must be a TIFF this user may write", tiff_path,
                scope.reason());
  // Everything below is written into the TIFF when the dataset is closed.
  Status status;
  auto check = [&](CPLErr err, const char* what) {
    if (err != CE_None && status.ok())
      status = Status(Error::IoError,
                      fmt::format("cannot write the georeferencing of '{}': {}: {}", tiff_path, what, scope.reason()));
  };
  const int out_bands = gdal.GDALGetRasterCount(ds);
  if (static_cast<int>(band_source.size()) != out_bands)
    status = Status(Error::InvalidArgument,
                    fmt::format("cannot write the georeferencing of '{}': it has {} bands but {} band sources were "
                                "given; give one per output band (-1 for none)",
                                tiff_path, out_bands, band_source.size()));
  for (int src : band_source)
    if (status.ok() && (src < -1 || (src >= 0 && !geo.bands.empty() && src >= static_cast<int>(geo.bands.size()))))
      status = Status(Error::InvalidArgument,
                      fmt::format("cannot write the georeferencing of '{}': band source {} is not an input band "
                                  "(0..{}) or -1",
                                  tiff_path, src, static_cast<int>(geo.bands.size()) - 1));

  if (status.ok()) {
    // AREA_OR_POINT first: GDAL writes the geotransform in the convention it names.
    for (const auto& [key, value] : geo.metadata)
      check(gdal.GDALSetMetadataItem(ds, key.c_str(), value.c_str(), nullptr),
            "metadata");  // items added, not replaced
    if (geo.geotransform) {
      const std::array<double, 6>& g = *geo.geotransform;
      double out[6] = {g[0] + map.offset_x * g[1] + map.offset_y * g[2], g[1] / map.scale_x, g[2] / map.scale_y,
                       g[3] + map.offset_x * g[4] + map.offset_y * g[5], g[4] / map.scale_x, g[5] / map.scale_y};
      check(gdal.GDALSetGeoTransform(ds, out), "geotransform");
    }
    if (!geo.projection.empty()) check(gdal.GDALSetProjection(ds, geo.projection.c_str()), "projection");
    if (!geo.gcps.empty()) {
      std::vector<GDAL_GCP> gcps;
      for (const Georef::Gcp& p : geo.gcps)  // GDAL copies the strings; it does not change them
        gcps.push_back({const_cast<char*>(p.id.c_str()), const_cast<char*>(p.info.c_str()),
                        (p.pixel - map.offset_x) * map.scale_x, (p.line - map.offset_y) * map.scale_y, p.x, p.y, p.z});
      check(gdal.GDALSetGCPs(ds, static_cast<int>(gcps.size()), gcps.data(), geo.gcp_projection.c_str()), "GCPs");
    }
    if (!geo.rpc.empty()) {
      std::vector<std::string> items;
      for (const auto& [key, value] : map_rpc(gdal, geo.rpc, map)) items.push_back(key + "=" + value);
      std::vector<const char*> list;
      for (const std::string& item : items) list.push_back(item.c_str());
      list.push_back(nullptr);
      check(gdal.GDALSetMetadata(ds, list.data(), "RPC"), "RPC metadata");
    }
    for (int b = 1; b <= out_bands; ++b) {
      GDALRasterBandH band = gdal.GDALGetRasterBand(ds, b);
      if (geo.nodata) check(gdal.GDALSetRasterNoDataValue(band, *geo.nodata), "no-data value");
      const int src = band_source[b - 1];
      if (src < 0 || src >= static_cast<int>(geo.bands.size())) continue;
      const Georef::Band& item = geo.bands[src];
      if (!item.description.empty()) gdal.GDALSetDescription(band, item.description.c_str());
      for (const auto& [key, value] : item.metadata)
        check(gdal.GDALSetMetadataItem(band, key.c_str(), value.c_str(), nullptr), "band metadata");
      if (item.scale) check(gdal.GDALSetRasterScale(band, *item.scale), "band scale");
      if (item.offset) check(gdal.GDALSetRasterOffset(band, *item.offset), "band offset");
    }
  }
  gdal.GDALClose(ds);  // writes the tags; GDAL 3.6 reports a failure here only through its error handler
  if (status.ok() && scope.failed())
    status =
        Status(Error::IoError, fmt::format("cannot write the georeferencing of '{}': {}", tiff_path, scope.reason()));
  // GDAL falls back to a side file for what a TIFF cannot hold; that would be lost with the rename.
  if (!aux_before && fs::exists(aux, ec)) {
    fs::remove(aux, ec);
    if (status.ok())
      status = Status(Error::IoError, fmt::format("cannot write the georeferencing of '{}': GDAL wrote '{}' beside it "
                                                  "instead of into the TIFF",
                                                  tiff_path, aux));
  }
  return status;
}

Result<std::vector<bool>> tiff_alpha_bands(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(const bool tiff, is_tiff(path, "read"));
  std::vector<bool> alpha;
  if (!tiff) return alpha;
  TESSERA_ASSIGN_OR_RETURN(const GdalLibrary* library, gdal_library());
  const GdalLibrary& gdal = *library;
  GdalScope scope(gdal, /*no_pam=*/true);  // the TIFF's own ExtraSamples tag, not a colour interpretation from .aux.xml
  GDALDatasetH ds = open_tiff(gdal, path, false);
  TESSERA_CHECK(ds != nullptr, Error::InvalidImage, "cannot read the bands of '{}': {}", path, scope.reason());
  for (int b = 1; b <= gdal.GDALGetRasterCount(ds); ++b)
    alpha.push_back(gdal.GDALGetRasterColorInterpretation(gdal.GDALGetRasterBand(ds, b)) == GCI_AlphaBand);
  gdal.GDALClose(ds);
  return alpha;
}

Status mark_alpha_band(const std::string& tiff_path, int alpha_band) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<bool> alpha, tiff_alpha_bands(tiff_path));
  bool right = true;
  for (int b = 0; b < static_cast<int>(alpha.size()); ++b) right = right && alpha[b] == (b == alpha_band);
  if (right) return {};
  TESSERA_ASSIGN_OR_RETURN(const GdalLibrary* library, gdal_library());
  const GdalLibrary& gdal = *library;
  GdalScope scope(gdal, /*no_pam=*/true, /*writing=*/true);
  GDALDatasetH ds = open_tiff(gdal, tiff_path, true);
  TESSERA_CHECK(ds != nullptr, Error::IoError, "cannot mark the alpha band of '{}': {}", tiff_path, scope.reason());
  for (int b = 0; b < static_cast<int>(alpha.size()); ++b)
    if (alpha[b] != (b == alpha_band))  // GDAL rewrites the TIFF's ExtraSamples tag
      gdal.GDALSetRasterColorInterpretation(gdal.GDALGetRasterBand(ds, b + 1),
                                            b == alpha_band ? GCI_AlphaBand : GCI_Undefined);
  gdal.GDALClose(ds);
  TESSERA_CHECK(!scope.failed(), Error::IoError, "cannot mark the alpha band of '{}': {}", tiff_path, scope.reason());
  return {};
}

}  // namespace tessera
