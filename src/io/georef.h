// GeoTIFF georeferencing carried from an input file to an output TIFF, through GDAL. libvips drops
// the geo tags, so a run reads them from the input and writes them, moved to the output's pixel
// grid, into the TIFF libvips wrote. GDAL stays inside georef.cpp: nothing here includes it.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tessera/status.h"

namespace tessera {

// How an output pixel maps to the input: input coordinate = output coordinate / scale + offset, per
// axis (a x2 model: scale 2, offset 0; a "valid" 3x3 conv: scale 1, offset 1). Pixel-corner
// coordinates: (0, 0) is the top-left corner of the top-left pixel.
struct PixelMap {
  double scale_x = 1, scale_y = 1, offset_x = 0, offset_y = 0;
};

// KEY=VALUE items of a GDAL metadata domain, in GDAL's order.
using MetadataItems = std::vector<std::pair<std::string, std::string>>;

// Where a raster lies on Earth and the GDAL metadata that goes with it, as GDAL reads it from a file.
// Empty (not an error) for a file without any: a PNG, a plain TIFF.
struct Georef {
  // A ground control point: (pixel, line) in pixel-corner coordinates of the raster, at (x, y, z) in
  // gcp_projection.
  struct Gcp {
    std::string id, info;
    double pixel = 0, line = 0, x = 0, y = 0, z = 0;
  };
  // The items of one band of the input (a TIFF keeps them in its GDAL_METADATA tag).
  struct Band {
    std::string description;
    MetadataItems metadata;
    std::optional<double> scale, offset;
    bool empty() const { return description.empty() && metadata.empty() && !scale && !offset; }
  };

  std::optional<std::array<double, 6>> geotransform;  // GDAL's affine pixel -> projection coefficients
  std::string projection;                             // WKT; empty when none
  std::vector<Gcp> gcps;
  std::string gcp_projection;  // WKT of the GCPs' coordinates
  std::optional<double> nodata;
  MetadataItems metadata;  // the default domain, without TIFFTAG_* items (libvips writes those itself)
  std::vector<Band> bands;  // one per input band, when any band has an item; else empty
  MetadataItems rpc;        // the RPC domain (rational polynomial coefficients of a satellite scene)

  bool empty() const;
};

// GDAL is loaded when a TIFF first needs it (gdal_library.h): every function below that meets a TIFF
// fails with Error::Unsupported when it cannot be, and with other codes for the file's own faults.

// The georeferencing of `path`. A file that is not a TIFF gives an empty Georef (tessera reads
// georeferencing from TIFFs only); a missing, unreadable or corrupt file is an error.
Result<Georef> read_georef(const std::string& path);

// Writes `geo` into the TIFF at `tiff_path` (the output, written by libvips), in place, as GeoTIFF
// and GDAL tags (never a .aux.xml side file), moved through `map` onto the output's pixel grid so
// that the output overlays the input exactly. `band_source[i]` is the input band (0-based) that
// output band i came from, or -1: per-band items follow it; it has one entry per band of the TIFF.
// An empty `geo` leaves the file untouched.
Status write_georef(const std::string& tiff_path, const Georef& geo, const PixelMap& map,
                    const std::vector<int>& band_source);

// Marks in the TIFF at `tiff_path` (an output libvips wrote) only `alpha_band` (0-based; -1: none) as
// alpha: libvips marks every band past the colour ones as alpha, so an RGB + NIR output would say its
// NIR band is alpha. The other extra bands become "unspecified".
Status mark_alpha_band(const std::string& tiff_path, int alpha_band);

// Which bands of the TIFF at `path` are alpha (ExtraSamples says associated or unassociated alpha;
// "unspecified" is not alpha), one per band. Empty for a file that is not a TIFF.
Result<std::vector<bool>> tiff_alpha_bands(const std::string& path);

}  // namespace tessera
