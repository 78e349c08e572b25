#include "run_batch.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <map>

#include "progress.h"

namespace tessera::cli {

namespace {

namespace fs = std::filesystem;

struct Job {
  std::string input;
  std::string output;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The files a folder's scan takes: the image types libvips reads, by extension (a folder also holds
// notes, sidecars and thumbnails' databases, which are left alone).
bool is_image_file(const fs::path& path) {
  static const char* const kExtensions[] = {".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".webp", ".gif",
                                            ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".pgm", ".ppm",
                                            ".pbm", ".pnm"};
  const std::string ext = lower(path.extension().string());
  return std::any_of(std::begin(kExtensions), std::end(kExtensions), [&](const char* e) { return ext == e; });
}

bool is_inside(const fs::path& path, const fs::path& dir) {
  std::error_code ec;
  const fs::path rel = fs::relative(fs::weakly_canonical(path, ec), fs::weakly_canonical(dir, ec), ec);
  return !ec && !rel.empty() && *rel.begin() != "..";
}

fs::path output_for(const fs::path& relative, const RunArgs& args) {
  fs::path out = fs::path(args.out_dir) / relative;
  if (!args.format.empty()) out.replace_extension("." + args.format);
  return out;
}

// Every input image with its output, in a stable order: folders are scanned (sorted), files taken as given.
Result<std::vector<Job>> plan_jobs(const RunArgs& args) {
  std::vector<Job> jobs;
  for (const std::string& path : args.paths) {
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      TESSERA_RETURN_IF_ERROR(require(is_image_path(path), Error::InvalidArgument,
                                      "'{}': a batch takes image files; run a .npy tensor on its own: tessera run "
                                      "MODEL IN.npy OUT.npy",
                                      path));
      TESSERA_RETURN_IF_ERROR(require(is_image_file(path) || !fs::exists(path, ec), Error::InvalidArgument,
                                      "'{}' is not an image file (PNG, JPEG, TIFF, WebP, ...: by its extension)",
                                      path));
      jobs.push_back({path, output_for(fs::path(path).filename(), args).string()});
      continue;
    }
    std::vector<fs::path> found;
    const auto options = fs::directory_options::skip_permission_denied;
    auto take = [&](const fs::directory_entry& e) {
      if (e.is_regular_file(ec) && is_image_file(e.path()) && !is_inside(e.path(), args.out_dir))
        found.push_back(e.path());
    };
    try {  // a folder changed during the scan throws from the iterators' increments
      if (args.recursive)
        for (const auto& e : fs::recursive_directory_iterator(path, options, ec)) take(e);
      else
        for (const auto& e : fs::directory_iterator(path, options, ec)) take(e);
      TESSERA_RETURN_IF_ERROR(require(!ec, Error::IoError, "cannot list '{}': {}", path, ec.message()));
      std::sort(found.begin(), found.end());
      for (const fs::path& f : found) jobs.push_back({f.string(), output_for(fs::relative(f, path), args).string()});
    } catch (const fs::filesystem_error& e) {
      return Status(Error::IoError, fmt::format("cannot list '{}': {}", path, e.code().message()));
    }
  }
  TESSERA_RETURN_IF_ERROR(require(!jobs.empty(), Error::InvalidArgument,
                                  "no image files in {}{}", fmt::join(args.paths, ", "),
                                  args.recursive ? "" : " (--recursive looks into subfolders too)"));
  std::map<std::string, std::string> written_by;
  for (const Job& job : jobs) {
    std::error_code ec;
    auto [it, fresh] = written_by.emplace(fs::weakly_canonical(job.output, ec).string(), job.input);
    TESSERA_RETURN_IF_ERROR(require(fresh, Error::InvalidArgument,
                                    "'{}' and '{}' would both be written to '{}'{}; run them into separate folders",
                                    it->second, job.input, job.output,
                                    args.format.empty() ? "" : fmt::format(" (--format {})", args.format)));
  }
  return jobs;
}

}  // namespace

Status run_batch(const RunArgs& args, std::shared_ptr<const Model> model) {
  if (!args.format.empty()) {
    const std::string probe = (fs::path(args.out_dir) / ("probe." + args.format)).string();
    TESSERA_RETURN_IF_ERROR(require(is_image_path(probe) && image_writer_exists(probe), Error::InvalidArgument,
                                    "--format {}: not an image type libvips writes; give png, jpg, webp or tif",
                                    args.format));
  }
  TESSERA_RETURN_IF_ERROR(image_run_options(args).status());  // --bands, --pad, --quality: before any work
  TESSERA_ASSIGN_OR_RETURN(std::vector<Job> jobs, plan_jobs(args));
  std::error_code ec;
  fs::create_directories(args.out_dir, ec);
  TESSERA_RETURN_IF_ERROR(require(!ec && fs::is_directory(args.out_dir), Error::IoError,
                                  "cannot make the output folder '{}': {}", args.out_dir, ec.message()));

  // The workers' sessions go from one image to the next; every image is planned against the memory
  // the process had before the first, so that the sessions kept for it are not counted twice.
  auto sessions = std::make_shared<tiling::SessionPool>();
  const int64_t process_bytes = tiling::process_resident_bytes();
  const int total = static_cast<int>(jobs.size());
  Progress progress(total, !args.quiet && isatty(STDERR_FILENO), "images");
  int written = 0, kept = 0;
  std::vector<Status> failures;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < total; ++i) {
    const Job& job = jobs[i];
    const std::string name = fs::path(job.input).filename().string();
    progress.update(i, fmt::format("{}/{} images, {}", i, total, name), true);
    if (fs::exists(job.output, ec) && !args.overwrite) {
      ++kept;
      progress.finish();
      if (!args.quiet) fmt::print("{} -> {}: exists, kept (--overwrite replaces it)\n", job.input, job.output);
      continue;
    }
    fs::create_directories(fs::path(job.output).parent_path(), ec);
    TESSERA_ASSIGN_OR_RETURN(ImageRunOptions options, image_run_options(args));
    options.run.sessions = sessions;
    options.process_bytes = process_bytes > 0 ? process_bytes : -1;
    int64_t tiles = 1;
    options.run.on_tile = [&](int64_t done) {
      progress.update(i + static_cast<double>(done) / static_cast<double>(tiles),
                      fmt::format("{}/{} images, {}: {}/{} tiles", i, total, name, done, tiles));
    };
    const auto image_start = std::chrono::steady_clock::now();
    Result<ImageRunInfo> info =
        run_image_file(model, job.input, job.output, options, [&](const ImageRunInfo& run) { tiles = run.tiles; });
    progress.finish();
    if (!info.ok() && info.status().code() == Error::Cancelled)
      return Status(Error::Cancelled, fmt::format("interrupted at '{}' ({} of {} images done); it was not written",
                                                  job.input, i, total));
    if (!info.ok()) {
      failures.push_back(info.status());
      std::fflush(stdout);  // the lines before it, in order when both go to one log
      fmt::print(stderr, "tessera: error: {}; skipped\n", printable(info.status().message()));
      continue;
    }
    ++written;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - image_start).count();
    if (!args.quiet) fmt::print("{}\n", image_summary(args, *model, job.input, job.output, *info, seconds));
    std::fflush(stdout);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.quiet)
    fmt::print("{} image{}: {} written, {} kept, {} failed, {:.1f} s\n", total, total == 1 ? "" : "s", written, kept,
               failures.size(), seconds);
  std::fflush(stdout);
  if (failures.empty()) return {};
  return Status(failures.front().code(), fmt::format("{} of {} images failed (each is named above)", failures.size(),
                                                     total));
}

}  // namespace tessera::cli
