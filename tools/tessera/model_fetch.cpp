// fetch_pretrained_model: npm pack into a temporary folder in the cache, tar -xzf, compile in-process
// (the same steps as scripts/fetch-models.sh, then the compiler library).
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "model_zoo.h"
#include "run_program.h"
#include "tessera/compiler.h"

namespace tessera::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kWorkPrefix = ".tessera-fetch.";
constexpr const char* kSystemCAs = "/etc/ssl/certs/ca-certificates.crt";

// 8 hex digits of the host name and the PID namespace: whose process ids a work folder's name holds.
// FNV-1a, so that every tessera build agrees.
std::string host_tag() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  char ns[128] = {};
  ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
  std::string key = std::string(host) + "/" + std::string(ns, n > 0 ? static_cast<size_t>(n) : 0);
  uint32_t h = 2166136261u;
  for (unsigned char c : key) h = (h ^ c) * 16777619u;
  return fmt::format("{:08x}", h);
}

// Work folders ".tessera-fetch.PID.HOST.XXXXXX" left by fetches that were killed on this host.
void remove_stale_work_dirs(const std::string& cache_dir) {
  std::error_code ec;
  const std::string host = host_tag();
  for (const fs::directory_entry& e : fs::directory_iterator(cache_dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(kWorkPrefix, 0) != 0) continue;
    std::istringstream parts(name.substr(std::strlen(kWorkPrefix)));
    std::string pid_text, tag;
    if (!std::getline(parts, pid_text, '.') || !std::getline(parts, tag, '.') || tag != host) continue;
    long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) fs::remove_all(e.path(), ec);
  }
}

// A temporary folder in the cache, removed with its contents at the end of the scope.
class WorkDir {
 public:
  static Result<std::unique_ptr<WorkDir>> create(const std::string& cache_dir) {
    std::string pattern = fmt::format("{}/{}{}.{}.XXXXXX", cache_dir, kWorkPrefix, ::getpid(), host_tag());
    if (::mkdtemp(pattern.data()) == nullptr)
      return Status(Error::IoError, fmt::format("the model cache folder {} is not writable ({}); set TESSERA_CACHE_DIR "
                                                "or give --cache-dir to use another folder",
                                                cache_dir, std::strerror(errno)));
    return std::unique_ptr<WorkDir>(new WorkDir(pattern));
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit WorkDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Status create_cache_dir(const std::string& cache_dir) {
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec || !fs::is_directory(cache_dir))
    return Status(Error::IoError, fmt::format("cannot create the model cache folder {} ({}); set TESSERA_CACHE_DIR or "
                                              "give --cache-dir to use a writable folder",
                                              cache_dir, ec ? ec.message() : "not a folder"));
  return {};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The gist of a failed program's output on one line (npm's or tar's): its error code and first message
// ("E404: 404 Not Found - GET https://..."), or the first line of other output.
std::string output_gist(const std::string& log) {
  std::istringstream lines(log);
  std::string line, code, message, first;
  while (std::getline(lines, line)) {
    bool from_npm = false;
    for (const char* prefix : {"npm error ", "npm ERR! "})
      if (line.rfind(prefix, 0) == 0) {
        line = line.substr(std::strlen(prefix));
        from_npm = true;
      }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (first.empty()) first = line;
    if (!from_npm || line[0] == ' ') continue;
    if (line.rfind("code ", 0) == 0) {
      if (code.empty()) code = line.substr(5);
    } else if (message.empty() && line.rfind("syscall ", 0) != 0 && line.rfind("errno ", 0) != 0) {
      message = line;
    }
  }
  std::string gist = !message.empty() ? (code.empty() ? message : code + ": " + message) : first;
  if (gist.empty()) gist = "no output";
  return gist.size() > 300 ? gist.substr(0, 300) + "..." : gist;
}

// `options.dims` over the defaults, by name.
std::vector<DimInfo> requested_dims(const FetchOptions& options) {
  std::vector<DimInfo> dims = default_pretrained_dims();
  for (const DimInfo& d : options.dims) {
    auto same = std::find_if(dims.begin(), dims.end(), [&](const DimInfo& x) { return x.name == d.name; });
    if (same != dims.end()) *same = d;
    else dims.push_back(d);
  }
  return dims;
}

bool same_dims(std::vector<DimInfo> a, std::vector<DimInfo> b) {
  auto key = [](const DimInfo& d) { return std::make_tuple(d.name, d.min, d.max, d.multiple_of); };
  auto by_key = [&](const DimInfo& x, const DimInfo& y) { return key(x) < key(y); };
  std::sort(a.begin(), a.end(), by_key);
  std::sort(b.begin(), b.end(), by_key);
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](const DimInfo& x, const DimInfo& y) { return key(x) == key(y); });
}

// Whether the cached file already is what was asked for: any cached model, unless dims were given.
bool cached_as_asked(const std::string& path, const FetchOptions& options) {
  if (options.force || !fs::exists(path)) return false;
  if (options.dims.empty()) return true;
  Result<std::shared_ptr<const Model>> cached = Model::load(path);
  return cached.ok() && same_dims((*cached)->info().dims, requested_dims(options));
}

// npm pack, as scripts/fetch-models.sh runs it: the package's .tgz in `work`.
Result<std::string> npm_pack(const PretrainedModel& model, const std::string& npm, const WorkDir& work) {
  ProgramRun run{npm, {"pack", "--loglevel=error", model.package_spec()}, work.path(), work.file("pack.log"), {}};
  // Node.js trusts only its own CA list; add the system's, so that a CA installed with
  // update-ca-certificates (a TLS-inspecting proxy's) is trusted too.
  const char* extra_cas = std::getenv("NODE_EXTRA_CA_CERTS");
  if ((extra_cas == nullptr || *extra_cas == '\0') && fs::exists(kSystemCAs))
    run.extra_env.push_back(std::string("NODE_EXTRA_CA_CERTS=") + kSystemCAs);
  TESSERA_ASSIGN_OR_RETURN(int exit_code, run_program(run));
  // Ctrl-C or kill reaches npm too (same process group); npm exits 128 + the signal as well.
  if (exit_code == 128 + SIGINT || exit_code == 128 + SIGTERM)
    return Status(Error::Cancelled, fmt::format("'npm pack {}' was stopped by {}", model.package_spec(),
                                                exit_code == 128 + SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM"));
  if (exit_code != 0)
    return Status(Error::IoError, fmt::format("'npm pack {}' failed (is the npm registry reachable?): {}",
                                              model.package_spec(), output_gist(read_text(run.log_path))));
  // npm names the file after the package: @upscalerjs/esrgan-slim@1.0.0 -> upscalerjs-esrgan-slim-1.0.0.tgz
  std::string tgz = work.file(fmt::format("upscalerjs-esrgan-{}-{}.tgz", model.variant, model.version));
  if (!fs::exists(tgz))
    return Status(Error::IoError, fmt::format("'npm pack {}' succeeded but wrote no {}", model.package_spec(),
                                              fs::path(tgz).filename().string()));
  return tgz;
}

// tar -xzf: the package's files in work/package/.
Status unpack(const std::string& tgz, const WorkDir& work) {
  std::optional<std::string> tar = find_on_path("tar");
  if (!tar) return Status(Error::IoError, "tar is not installed (or not on PATH); install it (apt-get install tar)");
  ProgramRun run{*tar, {"-xzf", tgz, "-C", work.path()}, work.path(), work.file("tar.log"), {}};
  TESSERA_ASSIGN_OR_RETURN(int exit_code, run_program(run));
  if (exit_code != 0)
    return Status(Error::IoError, fmt::format("cannot unpack {}: tar failed: {}", fs::path(tgz).filename().string(),
                                              output_gist(read_text(run.log_path))));
  return {};
}

}  // namespace

Result<FetchResult> fetch_pretrained_model(const PretrainedModel& model, const FetchOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(std::string cache_dir, model_cache_dir(options.cache_dir));
  FetchResult result{cached_model_path(cache_dir, model), false};
  if (cached_as_asked(result.path, options)) return result;

  std::optional<std::string> npm = find_on_path("npm");
  if (!npm)
    return Status(Error::IoError, fmt::format("npm is not installed (or not on PATH); install npm (apt-get install npm) "
                                              "to fetch {} ({})",
                                              model.name, model.package_spec()));
  TESSERA_RETURN_IF_ERROR(create_cache_dir(cache_dir));
  remove_stale_work_dirs(cache_dir);
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<WorkDir> work, WorkDir::create(cache_dir));
  if (!options.quiet)
    fmt::print(stderr, "fetching {} ({}, {}) from npm into {} ...\n", model.name, model.package, model.license,
               display_path(cache_dir));
  std::fflush(stderr);

  TESSERA_ASSIGN_OR_RETURN(std::string tgz, npm_pack(model, *npm, *work));
  TESSERA_RETURN_IF_ERROR(unpack(tgz, *work));
  std::string source = work->file(fmt::format("package/models/x{}/model.json", model.scale));
  if (!fs::exists(source))
    return Status(Error::InvalidModel,
                  fmt::format("the npm package {} has no models/x{}/model.json", model.package_spec(), model.scale));

  CompileOptions compile;
  compile.dims = requested_dims(options);
  compile.pixel_min = model.pixel_min;
  compile.pixel_max = model.pixel_max;
  Result<std::shared_ptr<const Model>> compiled = compile_model(source, result.path, compile);
  if (!compiled.ok())
    return Status(compiled.status().code(),
                  fmt::format("compiling {} from {}: {}", model.name, model.package_spec(), compiled.status().message()));
  result.fetched = true;
  return result;
}

}  // namespace tessera::cli
