// The catalogue of pretrained models and where they are cached.
#include "model_zoo.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

namespace tessera::cli {

namespace {

// The .tgz sizes of @upscalerjs/esrgan-<variant>@1.0.0 as npm serves them (npm pack --dry-run --json).
struct Variant {
  const char* name;
  int64_t download_bytes;
  float pixel_max;  // UpscalerJS feeds its RDN models (slim, medium) 0..255 and its RRDN model (thick) 0..1
};
constexpr Variant kVariants[] = {{"slim", 4357056, 255.0f}, {"medium", 11361705, 255.0f}, {"thick", 110294929, 1.0f}};
constexpr int kScales[] = {2, 3, 4, 8};

std::vector<PretrainedModel> make_catalogue() {
  std::vector<PretrainedModel> models;
  for (const Variant& v : kVariants)
    for (int scale : kScales) {
      PretrainedModel m;
      m.name = fmt::format("esrgan-{}-x{}", v.name, scale);
      m.variant = v.name;
      m.scale = scale;
      m.package = fmt::format("@upscalerjs/esrgan-{}", v.name);
      m.version = "1.0.0";
      m.license = "MIT";
      m.download_bytes = v.download_bytes;
      m.pixel_min = 0.0f;
      m.pixel_max = v.pixel_max;
      models.push_back(m);
    }
  return models;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string home_dir() {
  std::string home = env("HOME");
  if (!home.empty()) return home;
  const passwd* pw = ::getpwuid(::getuid());
  return pw != nullptr && pw->pw_dir != nullptr ? pw->pw_dir : "";
}

}  // namespace

const std::vector<PretrainedModel>& pretrained_models() {
  static const std::vector<PretrainedModel> models = make_catalogue();
  return models;
}

Result<const PretrainedModel*> find_pretrained_model(const std::string& name) {
  std::string names;
  for (const PretrainedModel& m : pretrained_models()) {
    if (m.name == name) return &m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  return Status(Error::InvalidArgument,
                fmt::format("unknown pretrained model '{}'; the models are {} (tessera models list)", name, names));
}

Result<std::string> model_cache_dir(const std::string& override_dir) {
  if (!override_dir.empty()) return override_dir;
  if (std::string dir = env("TESSERA_CACHE_DIR"); !dir.empty()) return dir;
  // The XDG spec ignores a relative $XDG_CACHE_HOME.
  if (std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty() && xdg[0] == '/') return xdg + "/tessera";
  if (std::string home = home_dir(); !home.empty()) return home + "/.cache/tessera";
  return Status(Error::InvalidArgument,
                "no folder for the model cache: HOME is not set; set TESSERA_CACHE_DIR or give --cache-dir");
}

std::string cached_model_path(const std::string& cache_dir, const PretrainedModel& model) {
  return cache_dir + "/" + model.name + ".tsr";
}

std::string display_path(const std::string& path) {
  std::string home = env("HOME");
  while (home.size() > 1 && home.back() == '/') home.pop_back();
  if (home.size() > 1 && path.compare(0, home.size(), home) == 0 &&
      (path.size() == home.size() || path[home.size()] == '/'))
    return "~" + path.substr(home.size());
  return path;
}

std::vector<DimInfo> default_pretrained_dims() { return {{"height", 16, 512, 1}, {"width", 16, 512, 1}}; }

void add_pretrained_option(CLI::App* sub, std::string& name) {
  sub->add_option("-m,--model", name,
                  "a pretrained model by name (tessera models list), fetched and compiled on first use");
}

Result<std::string> pretrained_model_path(const std::string& name, bool quiet) {
  TESSERA_ASSIGN_OR_RETURN(const PretrainedModel* model, find_pretrained_model(name));
  FetchOptions options;
  options.quiet = quiet;
  TESSERA_ASSIGN_OR_RETURN(FetchResult fetched, fetch_pretrained_model(*model, options));
  return fetched.path;
}

}  // namespace tessera::cli
