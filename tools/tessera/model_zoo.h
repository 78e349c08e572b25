// The pretrained models tessera knows by name ("esrgan-slim-x2"), fetched from npm and compiled
// once into the user's model cache (docs/models.md). A command built without the compiler library
// has none: without_compiler.cpp defines add_pretrained_option and pretrained_model_path there.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/model.h"
#include "tessera/status.h"

namespace tessera::cli {

struct PretrainedModel {
  std::string name;          // "esrgan-slim-x2"
  std::string variant;       // "slim", "medium" or "thick"
  int scale = 0;             // 2, 3, 4 or 8
  std::string package;       // "@upscalerjs/esrgan-slim"
  std::string version;       // "1.0.0"
  std::string license;       // "MIT"
  int64_t download_bytes = 0;  // the npm package's .tgz, which holds all four scales of the variant
  float pixel_min = 0.0f;    // the pixel values the model takes
  float pixel_max = 1.0f;

  std::string package_spec() const { return package + "@" + version; }  // "@upscalerjs/esrgan-slim@1.0.0"
};

// Every pretrained model, in listing order.
const std::vector<PretrainedModel>& pretrained_models();

// The model of that name, or an InvalidArgument error that lists the valid names.
Result<const PretrainedModel*> find_pretrained_model(const std::string& name);

// The model cache folder: `override_dir` if not empty, else $TESSERA_CACHE_DIR, else
// $XDG_CACHE_HOME/tessera, else ~/.cache/tessera. Not created here.
Result<std::string> model_cache_dir(const std::string& override_dir = "");

// Where `model` is (or would be) cached in `cache_dir`: "<cache_dir>/<name>.tsr".
std::string cached_model_path(const std::string& cache_dir, const PretrainedModel& model);

// `path` with the home folder shown as "~", for messages.
std::string display_path(const std::string& path);

// The dims a pretrained model is compiled for unless told otherwise: height and width 16..512.
std::vector<DimInfo> default_pretrained_dims();

struct FetchOptions {
  std::string cache_dir;      // "" for model_cache_dir()'s default
  bool force = false;         // fetch and compile again even when cached
  std::vector<DimInfo> dims;  // overrides of default_pretrained_dims(), by name
  bool quiet = false;         // no "fetching ..." line on stderr
};

struct FetchResult {
  std::string path;           // the cached .tsr
  bool fetched = false;       // false when the cache already held it (nothing was done)
};

// Makes sure `model` is in the cache: when it is missing (or --force, or cached with other dims than
// `options.dims` asks for), runs `npm pack` into a temporary folder in the cache, unpacks it with tar
// and compiles the scale's model.json to the cached .tsr, written atomically (a killed fetch leaves
// no partial model; its temporary folder is removed by the next fetch).
Result<FetchResult> fetch_pretrained_model(const PretrainedModel& model, const FetchOptions& options);

// run's -m/--model NAME.
void add_pretrained_option(CLI::App* sub, std::string& name);

// For `tessera run -m NAME`: the cached .tsr of the pretrained model `name` in the default cache
// folder, fetched and compiled on first use with one line on stderr unless `quiet`:
// "fetching esrgan-slim-x2 (@upscalerjs/esrgan-slim, MIT) from npm into ~/.cache/tessera ...".
// Errors name the problem and the fix (an unknown name lists the valid ones; npm missing or failing).
Result<std::string> pretrained_model_path(const std::string& name, bool quiet);

}  // namespace tessera::cli
