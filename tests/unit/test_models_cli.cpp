// `tessera models` offline: a fake npm first on PATH "packs" ESRGAN-slim from the package the test data
// step unpacked into .cache/models (tests/esrgan/make_testdata.py), so that fetch, the cache, list and
// path run as a user meets them, without the network; and every failure is one line naming the fix.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>

#include "test_support.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

// The files and folders in `dir` (none when it does not exist).
std::vector<std::string> entries_in(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void write_script(const std::string& path, const std::string& body) {
  write_file(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
}

class ModelsCli : public ::testing::Test {
 protected:
  // The package's .tgz as npm serves it (files under package/), with only what the x2 model needs.
  static void SetUpTestSuite() {
    data_ = std::make_unique<TempDir>();
    std::string manifest_path = testdata("esrgan/manifest.json");
    if (file_exists(testdata("esrgan/fetch_error.txt"))) {
      setup_error_ = "the ESRGAN packages could not be fetched from npm: " + read_file(testdata("esrgan/fetch_error.txt"));
      return;
    }
    if (!file_exists(manifest_path)) {
      setup_error_ = manifest_path + " is missing; build the tessera_tests target, which fetches the models";
      return;
    }
    std::string package;
    nlohmann::json manifest = nlohmann::json::parse(read_file(manifest_path));
    for (const auto& m : manifest["models"])
      if (m["variant"] == "slim" && m["scale"] == 2)
        package = fs::path(m["model"].get<std::string>()).parent_path().parent_path().parent_path().string();
    tgz_ = data_->file("upscalerjs-esrgan-slim-1.0.0.tgz");
    std::string tar = fmt::format("/bin/tar -czf {} -C {} --transform 's,^,package/,' package.json LICENSE models/x2",
                                  sh(tgz_), sh(package));
    if (std::system(tar.c_str()) != 0) setup_error_ = "could not pack " + package + " with: " + tar;
  }
  static void TearDownTestSuite() { data_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    fs::create_directories(bin());
    cache_ = dir_.file("cache");
  }

  std::string bin() const { return dir_.file("bin"); }

  // npm that records its arguments and NODE_EXTRA_CA_CERTS, and "packs" the package into the current folder.
  void install_fake_npm() {
    write_script(bin() + "/npm", fmt::format("printf '%s\\n' \"$*\" > {}\nprintf '%s\\n' \"$NODE_EXTRA_CA_CERTS\" > {}\n"
                                             "exec /bin/cp {} ./upscalerjs-esrgan-slim-1.0.0.tgz\n",
                                             sh(dir_.file("npm_args.txt")), sh(dir_.file("npm_ca.txt")), sh(tgz_)));
  }

  // `tessera models ARGS` with PATH = the fake bin folder, then the system's (tar, gzip), and the cache
  // folder in TESSERA_CACHE_DIR. `path` replaces PATH when given.
  CliResult models(const std::string& args, const std::string& path = "") {
    std::string search = path.empty() ? bin() + ":/usr/bin:/bin" : path;
    return run_cli(dir_, "models " + args, fmt::format("PATH={} TESSERA_CACHE_DIR={}", sh(search), sh(cache_)));
  }

  // One "tessera: error:" line containing `part`, after the "fetching ..." line if the fetch began.
  static void expect_one_error_line(const CliResult& r, const std::string& part) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::string error = r.err.rfind("fetching ", 0) == 0 ? r.err.substr(r.err.find('\n') + 1) : r.err;
    EXPECT_EQ(error.rfind("tessera: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << r.err;
    EXPECT_CONTAINS(error, part);
  }

  TempDir dir_;
  std::string cache_;
  static inline std::unique_ptr<TempDir> data_;
  static inline std::string tgz_;
  static inline std::string setup_error_;
};

TEST_F(ModelsCli, FetchCompilesAWorkingModelOnceThenListAndPathFindIt) {
  install_fake_npm();
  const std::string tsr = cache_ + "/esrgan-slim-x2.tsr";

  CliResult r = models("fetch esrgan-slim-x2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.err, "fetching esrgan-slim-x2 (@upscalerjs/esrgan-slim, MIT) from npm into " + cache_ + " ...");
  EXPECT_CONTAINS(r.out, tsr);
  EXPECT_EQ(read_file(dir_.file("npm_args.txt")), "pack --loglevel=error @upscalerjs/esrgan-slim@1.0.0\n");
  if (file_exists("/etc/ssl/certs/ca-certificates.crt")) {
    EXPECT_EQ(read_file(dir_.file("npm_ca.txt")), "/etc/ssl/certs/ca-certificates.crt\n");
  }
  EXPECT_EQ(entries_in(cache_), std::vector<std::string>{"esrgan-slim-x2.tsr"}) << "the download was not removed";

  CliResult info = run_cli(dir_, "info " + sh(tsr));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_CONTAINS(info.out, "16..512");

  // Cached: a second fetch does nothing (npm is not run, the file is not rewritten).
  fs::remove(dir_.file("npm_args.txt"));
  auto written = fs::last_write_time(tsr);
  r = models("fetch esrgan-slim-x2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "already in the cache");
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(file_exists(dir_.file("npm_args.txt")));
  EXPECT_EQ(fs::last_write_time(tsr), written);

  r = models("path esrgan-slim-x2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, tsr + "\n");

  r = models("list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "esrgan-slim-x2     x2     4.2 MiB    MIT      0..255  yes\n");
  EXPECT_CONTAINS(r.out, "esrgan-thick-x8    x8     105.2 MiB  MIT      0..1    no\n");
  r = models("list --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json list = nlohmann::json::parse(r.out);
  EXPECT_EQ(list["cache_dir"], cache_);
  ASSERT_EQ(list["models"].size(), 12u);
  EXPECT_EQ(list["models"][0]["name"], "esrgan-slim-x2");
  EXPECT_EQ(list["models"][0]["cached"], true);
  EXPECT_EQ(list["models"][0]["path"], tsr);
  EXPECT_EQ(list["models"][0]["download_bytes"], 4357056);
  EXPECT_EQ(list["models"][1]["cached"], false);
  EXPECT_EQ(list["models"][11]["pixel_range"], nlohmann::json({0.0, 1.0}));
}

TEST_F(ModelsCli, OtherDimsRecompileAndTheCacheDirOptionWins) {
  install_fake_npm();
  std::string other = dir_.file("other");
  CliResult r = models(fmt::format("fetch esrgan-slim-x2 --dim height=16:64 --dim width=16:96 --cache-dir {}", sh(other)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(cache_));
  CliResult info = run_cli(dir_, "info " + sh(other + "/esrgan-slim-x2.tsr"));
  EXPECT_CONTAINS(info.out, "16..64");
  EXPECT_CONTAINS(info.out, "16..96");
  // The same dims again: nothing to do.
  fs::remove(dir_.file("npm_args.txt"));
  r = models(fmt::format("--cache-dir {} fetch esrgan-slim-x2 --dim width=16:96 --dim height=16:64", sh(other)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "already in the cache");
  EXPECT_FALSE(file_exists(dir_.file("npm_args.txt")));
}

TEST_F(ModelsCli, AKilledFetchLeavesNoModelAndTheNextFetchClearsItsDownload) {
  // npm is killed mid-fetch together with tessera (as by kill -9 of the process group).
  write_script(bin() + "/npm", "/bin/cp " + sh(tgz_) + " . && kill -9 $PPID; exit 1\n");
  CliResult r = models("fetch esrgan-slim-x2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(file_exists(cache_ + "/esrgan-slim-x2.tsr"));
  ASSERT_EQ(entries_in(cache_).size(), 1u) << "the killed fetch's download is expected to stay";

  install_fake_npm();
  r = models("fetch esrgan-slim-x2 -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(entries_in(cache_), std::vector<std::string>{"esrgan-slim-x2.tsr"});
}

TEST_F(ModelsCli, AFailingNpmIsReportedInOneLineAndLeavesNothing) {
  write_script(bin() + "/npm",
               "echo 'npm error code ENOTFOUND' >&2\necho 'npm error syscall getaddrinfo' >&2\n"
               "echo 'npm error request to https://registry.npmjs.org/@upscalerjs%2fesrgan-slim failed, reason: "
               "getaddrinfo ENOTFOUND registry.npmjs.org' >&2\necho 'npm error A complete log ...' >&2\nexit 1\n");
  CliResult r = models("fetch esrgan-slim-x2");
  expect_one_error_line(r, "'npm pack @upscalerjs/esrgan-slim@1.0.0' failed (is the npm registry reachable?): "
                           "ENOTFOUND: request to https://registry.npmjs.org/@upscalerjs%2fesrgan-slim failed, "
                           "reason: getaddrinfo ENOTFOUND registry.npmjs.org");
  EXPECT_EQ(entries_in(cache_), std::vector<std::string>{});
}

TEST_F(ModelsCli, WithoutNpmTheErrorSaysHowToInstallIt) {
  CliResult r = models("fetch esrgan-slim-x2", bin());  // an empty PATH folder: no npm
  expect_one_error_line(r, "install npm (apt-get install npm)");
  EXPECT_FALSE(fs::exists(cache_));
}

TEST_F(ModelsCli, AnUnknownNameListsTheModels) {
  for (const char* command : {"fetch esrgan-huge-x2", "path esrgan-slim-x5"}) {
    CliResult r = models(command);
    expect_one_error_line(r, "unknown pretrained model 'esrgan-");
    EXPECT_CONTAINS(r.err, "the models are esrgan-slim-x2, esrgan-slim-x3, esrgan-slim-x4, esrgan-slim-x8, "
                           "esrgan-medium-x2");
    EXPECT_CONTAINS(r.err, "esrgan-thick-x8");
  }
  EXPECT_FALSE(fs::exists(cache_));
}

TEST_F(ModelsCli, ANotFetchedModelsPathSaysHowToFetchIt) {
  CliResult r = models("path esrgan-medium-x4");
  expect_one_error_line(r, "esrgan-medium-x4 is not in the model cache " + cache_ +
                               "; fetch it with: tessera models fetch esrgan-medium-x4");
}

TEST_F(ModelsCli, AnUnwritableCacheFolderIsNamed) {
  install_fake_npm();
  write_file(dir_.file("a-file"), "");
  cache_ = dir_.file("a-file") + "/cache";
  CliResult r = models("fetch esrgan-slim-x2");
  expect_one_error_line(r, "cannot create the model cache folder " + cache_);
  EXPECT_CONTAINS(r.err, "set TESSERA_CACHE_DIR or give --cache-dir");

  if (::geteuid() == 0) return;  // root writes into a read-only folder
  cache_ = dir_.file("read-only");
  fs::create_directories(cache_);
  ::chmod(cache_.c_str(), 0555);
  r = models("fetch esrgan-slim-x2");
  expect_one_error_line(r, "the model cache folder " + cache_ + " is not writable");
  ::chmod(cache_.c_str(), 0755);
}

TEST_F(ModelsCli, TheCacheFolderFollowsTheEnvironment) {
  auto cache_dir_of = [&](const std::string& env) {
    std::string out = dir_.file("stdout.txt");
    std::string command = fmt::format("/usr/bin/env -u TESSERA_CACHE_DIR -u XDG_CACHE_HOME {} {} models list --json >{}",
                                      env, sh(TESSERA_CLI_PATH), sh(out));
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return nlohmann::json::parse(read_file(out))["cache_dir"].get<std::string>();
  };
  EXPECT_EQ(cache_dir_of("HOME=/home/someone"), "/home/someone/.cache/tessera");
  EXPECT_EQ(cache_dir_of("HOME=/home/someone XDG_CACHE_HOME=/var/cache/someone"), "/var/cache/someone/tessera");
  EXPECT_EQ(cache_dir_of("HOME=/home/someone XDG_CACHE_HOME=relative"), "/home/someone/.cache/tessera");
  EXPECT_EQ(cache_dir_of("XDG_CACHE_HOME=/x TESSERA_CACHE_DIR=/models"), "/models");
}

}  // namespace
}  // namespace tessera::testing
