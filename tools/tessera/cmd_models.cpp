// tessera models list [--json] | fetch NAME [--force] [--dim ...] | path NAME   [--cache-dir DIR]
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "model_zoo.h"
#include "tessera/compiler.h"

namespace tessera::cli {

namespace {

struct ModelsArgs {
  std::string cache_dir;
  bool json = false;
  std::string name;
  bool force = false;
  bool quiet = false;
  std::vector<std::string> dims;
};

std::string pixel_range(const PretrainedModel& m) { return fmt::format("{:g}..{:g}", m.pixel_min, m.pixel_max); }

bool is_cached(const std::string& cache_dir, const PretrainedModel& m) {
  std::error_code ec;
  return std::filesystem::is_regular_file(cached_model_path(cache_dir, m), ec);
}

Status list_models(const ModelsArgs& args) {
  TESSERA_ASSIGN_OR_RETURN(std::string cache_dir, model_cache_dir(args.cache_dir));
  if (args.json) {
    nlohmann::json models = nlohmann::json::array();
    for (const PretrainedModel& m : pretrained_models()) {
      bool cached = is_cached(cache_dir, m);
      models.push_back({{"name", m.name},
                        {"scale", m.scale},
                        {"package", m.package},
                        {"version", m.version},
                        {"license", m.license},
                        {"download_bytes", m.download_bytes},
                        {"pixel_range", {m.pixel_min, m.pixel_max}},
                        {"cached", cached},
                        {"path", cached ? nlohmann::json(cached_model_path(cache_dir, m)) : nlohmann::json()}});
    }
    fmt::print("{}\n", nlohmann::json{{"cache_dir", cache_dir}, {"models", models}}.dump(2));
    return {};
  }
  fmt::print("{:<18} {:<6} {:<10} {:<8} {:<7} {}\n", "NAME", "SCALE", "DOWNLOAD", "LICENSE", "PIXELS", "CACHED");
  for (const PretrainedModel& m : pretrained_models())
    fmt::print("{:<18} {:<6} {:<10} {:<8} {:<7} {}\n", m.name, fmt::format("x{}", m.scale), human_bytes(m.download_bytes),
               m.license, pixel_range(m), is_cached(cache_dir, m) ? "yes" : "no");
  fmt::print("Each download is the npm package @upscalerjs/esrgan-<slim|medium|thick>@1.0.0 (all four scales);\n"
             "tessera models fetch NAME compiles one scale into {}\n",
             display_path(cache_dir));
  return {};
}

Status fetch_model(const ModelsArgs& args) {
  TESSERA_ASSIGN_OR_RETURN(const PretrainedModel* model, find_pretrained_model(args.name));
  FetchOptions options;
  options.cache_dir = args.cache_dir;
  options.force = args.force;
  options.quiet = args.quiet;
  for (const std::string& d : args.dims) {
    TESSERA_ASSIGN_OR_RETURN(DimInfo dim, parse_dim(d));
    options.dims.push_back(dim);
  }
  TESSERA_ASSIGN_OR_RETURN(FetchResult fetched, fetch_pretrained_model(*model, options));
  if (fetched.fetched) fmt::print("{}: compiled into {}\n", model->name, fetched.path);
  else if (!args.quiet) fmt::print("{}: already in the cache, {} (--force fetches it again)\n", model->name, fetched.path);
  return {};
}

Status print_path(const ModelsArgs& args) {
  TESSERA_ASSIGN_OR_RETURN(const PretrainedModel* model, find_pretrained_model(args.name));
  TESSERA_ASSIGN_OR_RETURN(std::string cache_dir, model_cache_dir(args.cache_dir));
  TESSERA_RETURN_IF_ERROR(require(is_cached(cache_dir, *model), Error::IoError,
                                  "{} is not in the model cache {}; fetch it with: tessera models fetch {}", model->name,
                                  display_path(cache_dir), model->name));
  fmt::print("{}\n", cached_model_path(cache_dir, *model));
  return {};
}

}  // namespace

Command add_models(CLI::App& app) {
  auto args = std::make_shared<ModelsArgs>();
  CLI::App* sub = app.add_subcommand("models", "list, fetch and find the pretrained models (ESRGAN x2..x8 from npm)");
  sub->require_subcommand(1);
  sub->add_option("--cache-dir", args->cache_dir,
                  "the model cache folder (default $TESSERA_CACHE_DIR, else $XDG_CACHE_HOME/tessera, else ~/.cache/tessera)");

  CLI::App* list = sub->add_subcommand("list", "the pretrained models: scale, download size, licence, pixel range, cached");
  list->add_flag("--json", args->json, "print JSON");
  CLI::App* fetch = sub->add_subcommand("fetch", "fetch a pretrained model from npm and compile it into the cache");
  fetch->add_option("name", args->name, "e.g. esrgan-slim-x2 (tessera models list)")->required();
  fetch->add_flag("--force", args->force, "fetch and compile again even when cached");
  fetch->add_option("--dim", args->dims, "NAME=MIN:MAX[:MULTIPLE] instead of height and width 16:512");
  fetch->add_flag("-q,--quiet", args->quiet, "no progress line");
  CLI::App* path = sub->add_subcommand("path", "print the cached .tsr of a pretrained model");
  path->add_option("name", args->name, "e.g. esrgan-slim-x2")->required();
  // --cache-dir may also follow the subcommand: tessera models fetch NAME --cache-dir DIR.
  for (CLI::App* s : {list, fetch, path}) s->fallthrough();

  return [args, list, fetch] {
    if (list->parsed()) return list_models(*args);
    if (fetch->parsed()) return fetch_model(*args);
    return print_path(*args);
  };
}

}  // namespace tessera::cli
