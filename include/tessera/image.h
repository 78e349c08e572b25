// Image files in and out (library tessera::images, over libvips).
//
// run_image_file runs a model over an image file and writes an image file, streaming: the input is
// decoded from top to bottom a band of tiles at a time, and the output is encoded as bands finish,
// so memory depends on the tile size, the image width and the threads, never on the image height.
// The output is written to a temporary file beside the target and renamed at the end; on any error
// nothing is left behind.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tessera/model.h"
#include "tessera/tiling.h"

namespace tessera {

// How an image file becomes the model's input.
// Mirror: the edge pixel, then the image backwards (numpy's "symmetric"); Edge: the edge pixel repeated.
enum class Padding { None, Mirror, Edge, Zero };

struct ImageInputOptions {
  // The file's bands (1-based) fed to the model, in this order (e.g. {3, 2, 1}); empty: its colour
  // bands, converted between gray and RGB when the model takes the other.
  std::vector<int> bands;
  bool autorotate = true;  // apply the EXIF orientation: the pixels come upright, the output says 1
  // An image below the model's minimum or off its multiple is padded at the bottom and right to the
  // next size the model takes, and the output cropped back to the exact scaled size; None: an error.
  Padding pad = Padding::None;
};

struct ImageRunOptions {
  ImageInputOptions input;
  int quality = 0;                // 1..100 for writers with a quality (JPEG, WebP, HEIF, ...); 0: their default
  // tiles.tile > 0 asks for tiles even when the image fits the model; without it, tiles.memory > 0
  // picks the largest tile whose run fits it (tiling::plan_run).
  tiling::TilePlanOptions tiles;
  bool no_tile = false;           // one call on the whole image
  tiling::TiledRunOptions run;    // threads, backend, progress and cancel
  // This process's resident bytes before the run, for the memory budget; -1: read when planning. A
  // batch gives what it had before its first image: the sessions it keeps between images (run.sessions)
  // are reused, not added, and would otherwise be counted twice.
  int64_t process_bytes = -1;
};

struct ImageRunInfo {
  int64_t in_width = 0, in_height = 0;  // upright, before padding
  int64_t out_width = 0, out_height = 0;
  std::string in_description;  // e.g. "RGB 8-bit with alpha"
  int out_bands = 0;           // alpha included
  int64_t tiles = 0;
  int64_t core_height = 0, core_width = 0;
  int workers = 0;
  bool tiled = false;
  int64_t estimated_bytes = 0;  // the run's peak memory as planned (tiling::plan_run), for --memory
  bool above_default_memory = false;  // tiling::RunPlan::above_default_memory
  bool bigtiff = false;        // the output needed BigTIFF
  bool rotated = false;        // the EXIF orientation was applied
  int64_t padded_height = 0, padded_width = 0;  // the size the model ran at when padded, else 0
  std::vector<std::string> kept;  // the metadata carried to the output: "EXIF", "ICC", "XMP", "IPTC", "georeferencing"
  std::vector<std::string> dropped;  // what the input had and the output format cannot hold
  std::string temp_path;       // the file being written, renamed to the output at the end
};

// `on_start` is called once the tiles are planned, before any pixel is computed.
Result<ImageRunInfo> run_image_file(std::shared_ptr<const Model> model, const std::string& input,
                                    const std::string& output, const ImageRunOptions& options,
                                    const std::function<void(const ImageRunInfo&)>& on_start = {});

// The whole image as the model's input [1, C, H, W] in its pixel range, converted as run_image_file
// converts it, for comparing runs in memory (tessera verify); run_image_file streams instead.
Result<Tensor> read_image_tensor(const std::string& path, const Model& model, const ImageInputOptions& options = {});

// Whether `path` names an image file rather than a .npy tensor.
bool is_image_path(const std::string& path);

// Whether libvips has a writer for the type `path`'s extension names.
bool image_writer_exists(const std::string& path);

}  // namespace tessera
