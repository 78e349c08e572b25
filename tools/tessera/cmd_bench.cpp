// tessera bench MODEL.tsr [--sizes 256,512,1024 | --input IN [--one-shot N]] [--tile N] [--backend B]
//               [--precision P] [--threads T] [--workers W] [--repeats R] [--full-only] [--output OUT.npy] [--json]
// The "Test Results" block: full-image and tiled time per size, their difference, tile shapes,
// throughput against this CPU's measured FMA peak (direct-convolution FLOPs / time), memory, with
// another precision than fp32 its error against fp32, and with --one-shot the time of whole fresh
// `tessera run` processes on the input.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include <fmt/ranges.h>

#include "commands.h"
#include "fma_probe.h"
#include "image_files.h"
#include "run_program.h"
#include "tessera/npy.h"
#include "tessera/session.h"
#include "tessera/tiling.h"

namespace tessera::cli {

namespace {

struct BenchArgs {
  std::string model;
  std::vector<int64_t> sizes = {256, 512, 1024};
  std::string backend = "auto";
  std::string precision = "fp32";
  tiling::TilePlanOptions tiles;
  int threads = 1;
  int workers = 0;  // tile workers of the tiled run; 0: one per thread
  int repeats = 5;
  bool json = false;
  std::string input;   // an image file or .npy tensor instead of random square ones
  int one_shot = 0;    // fresh `tessera run` processes on `input` to time
  std::string output;  // where to write the full-image output (of the last size)
  bool full_only = false;
  TilingCheck check_tiling;
};

struct SizeResult {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<double> full_runs_ms;
  double first_run_ms = -1;  // the full image's first run: a new shape, so the backend's set-up too
  double full_ms = -1;       // median; -1: above the model's maximum
  double tiled_ms = -1;        // median, the tile workers' sessions kept from run to run
  double tiled_first_run_ms = -1;  // the first: the workers' sessions created and set up per window shape
  size_t tiles = 0;
  int64_t widest_band = 0;  // tiles in a row of tiles: the most workers a tiled run uses
  std::vector<std::pair<int64_t, int64_t>> tile_shapes;
  double max_diff = 0;
  int64_t differing = 0;
  // Another precision than fp32: its full output against fp32's, the largest difference and the PSNR
  // with the model's pixel range as the peak; -1: not measured.
  double fp32_max_error = -1;
  double fp32_psnr = -1;
  double gflop = 0;
  int64_t peak_rss = 0;  // the process's, before any fp32 run for the error
  std::vector<double> one_shot_ms;  // --one-shot: each fresh `tessera run` process, start to exit
  Tensor input, full;    // another precision than fp32: kept for its error against fp32
  std::string skipped;  // why the tiled path did not run
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// Runs `run` once to warm up, then `repeats` times; returns the median and keeps every time in `runs`
// and the warm-up's in `warm_up`.
double median_ms(int repeats, const std::function<Status()>& run, Status* status, std::vector<double>* runs = nullptr,
                 double* warm_up = nullptr) {
  std::vector<double> times;
  for (int i = 0; i < repeats + 1 && status->ok(); ++i) {
    auto start = std::chrono::steady_clock::now();
    *status = run();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i > 0) times.push_back(ms);
    if (i == 0 && warm_up) *warm_up = ms;
  }
  if (runs) *runs = times;
  return times.empty() ? 0 : median(times);
}

// Times tiled runs of `image` by one runner, whose tile workers keep their sessions from run to run
// as a whole-image session does: the median into r->tiled_ms, the first (which creates the
// sessions and sets them up for each window shape) into r->tiled_first_run_ms.
Status time_tiled(const BenchArgs& args, const std::shared_ptr<const Model>& model, ConstTensorView image,
                  tiling::TilePlan* plan, Tensor* output, SizeResult* r) {
  TESSERA_ASSIGN_OR_RETURN(*plan, tiling::plan_tiles(*model, image.shape[2], image.shape[3], args.tiles));
  *output = Tensor(tiling::tiled_output_shape(*model, image.shape, *plan));
  tiling::TensorSource source(image);
  tiling::TensorSink sink(output->view());
  const tiling::TiledRunOptions options{
      .threads = args.threads, .workers = args.workers, .backend = args.backend, .precision = args.precision};
  std::unique_ptr<tiling::TiledRunner> runner;
  Status status;
  r->tiled_ms = median_ms(args.repeats, [&]() -> Status {
    if (!runner) {
      TESSERA_ASSIGN_OR_RETURN(runner, tiling::TiledRunner::create(model, *plan, image.shape, options));
    }
    return runner->run(source, sink);
  }, &status, nullptr, &r->tiled_first_run_ms);
  return status;
}

// A random image of the model's input shape at `height` x `width`, in the model's pixel range.
Tensor random_image(const Model& model, int64_t height, int64_t width) {
  Tensor input(model.input_shape(height, width));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(model.info().pixel_min, model.info().pixel_max);
  for (int64_t i = 0; i < input.element_count(); ++i) input.data()[i] = u(rng);
  return input;
}

// How far r->full is from fp32's output of r->input, into r->fp32_max_error and r->fp32_psnr.
Status compare_with_fp32(const Model& model, Session& fp32, SizeResult* r) {
  ConstTensorView input = r->input.view();
  TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> exact, fp32.run({&input, 1}));
  double max_error = 0, squares = 0;
  const int64_t count = r->full.element_count();
  for (int64_t i = 0; i < count; ++i) {
    const double d = static_cast<double>(r->full.data()[i]) - exact[0].data[i];
    max_error = std::max(max_error, std::fabs(d));
    squares += d * d;
  }
  const double peak = model.info().pixel_max - model.info().pixel_min;
  r->fp32_max_error = max_error;
  r->fp32_psnr = squares > 0 ? 10 * std::log10(peak * peak / (squares / static_cast<double>(count))) : INFINITY;
  return {};
}

Result<SizeResult> bench_size(const BenchArgs& args, std::shared_ptr<const Model> model, Session& session,
                              const Tensor& input) {
  const Shape& shape = input.shape();
  TESSERA_RETURN_IF_ERROR(require(shape.rank() == 4, Error::RankMismatch, "bench takes a 4-D [N, C, H, W] image, got {}", shape.to_string()));
  SizeResult r;
  r.height = shape[2];
  r.width = shape[3];
  TESSERA_ASSIGN_OR_RETURN(int64_t flops, model->conv_flops(r.height, r.width));
  r.gflop = static_cast<double>(flops) / 1e9;

  if (above_max(*model, shape)) {  // tiles only: say so rather than measure nothing
    TESSERA_RETURN_IF_ERROR(require(!args.full_only, Error::InvalidArgument,
                  "the image {}x{} is above the model's maximum, so it cannot run whole; drop --full-only to time "
                  "tiles, or compile the model for larger dims",
                  r.height, r.width));
    TESSERA_RETURN_IF_ERROR(require(args.output.empty(), Error::InvalidArgument,
                  "--output writes the full-image output, and the image {}x{} is above the model's maximum",
                  r.height, r.width));
  }
  Status status;
  Tensor full;
  if (!above_max(*model, shape)) {
    ConstTensorView view = input.view();
    r.full_ms = median_ms(args.repeats, [&]() { return session.run({&view, 1}).status(); }, &status, &r.full_runs_ms,
                          &r.first_run_ms);
    TESSERA_RETURN_IF_ERROR(status);
    TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> out, session.run({&view, 1}));
    full = Tensor(out[0].shape);
    std::memcpy(full.data(), out[0].data, full.element_count() * sizeof(float));
    if (!args.output.empty()) TESSERA_RETURN_IF_ERROR(write_npy(args.output, full.view()));
  }
  if (args.full_only) {
    r.skipped = "--full-only";
  } else if (!model->info().tiling.tileable) {
    r.skipped = "not tileable";
  } else {
    tiling::TilePlan plan;
    Tensor tiled;
    status = time_tiled(args, model, input.view(), &plan, &tiled, &r);
    if (!status.ok()) {
      r.tiled_ms = -1;
      r.skipped = status.message();
    } else {
      r.tiles = plan.tiles.size();
      r.widest_band = std::count_if(plan.tiles.begin(), plan.tiles.end(), [&](const tiling::Tile& t) {
        return t.rows.out_begin == plan.tiles[0].rows.out_begin;  // a grid: every row of tiles is as wide
      });
      r.tile_shapes = plan.window_shapes();
      for (int64_t i = 0; r.full_ms >= 0 && i < full.element_count(); ++i) {
        if (std::memcmp(full.data() + i, tiled.data() + i, sizeof(float)) == 0) continue;
        ++r.differing;
        r.max_diff = std::max(r.max_diff, static_cast<double>(std::fabs(full.data()[i] - tiled.data()[i])));
      }
    }
  }
  r.peak_rss = peak_rss_bytes();
  if (args.precision != "fp32") r.full = std::move(full);
  return r;
}

std::string ms_text(double ms) { return ms < 0 ? "-" : fmt::format("{:.1f}", ms); }

// The last line of a file, for the error of a program that failed.
std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

// --one-shot: args.one_shot fresh `tessera run MODEL INPUT OUT` processes, one after the other, with
// the bench's backend, precision, threads, --tile, --halo and --memory (so that run plans its tiles
// as it would for a user); each timed from its start to its exit (load, read, first run, write),
// what someone running one image waits for. The output goes to a temporary folder, removed at the end.
Result<std::vector<double>> time_one_shots(const BenchArgs& args) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  TESSERA_RETURN_IF_ERROR(require(!error, Error::IoError,
                                  "--one-shot runs this tessera again, and /proc/self/exe does not name it: {}",
                                  error.message()));
  const std::filesystem::path temp = std::filesystem::temp_directory_path(error);
  const char* tmpdir = std::getenv("TMPDIR");
  TESSERA_RETURN_IF_ERROR(require(!error, Error::IoError,
                                  "--one-shot needs a temporary folder for the runs' outputs, and TMPDIR='{}' is not "
                                  "one: {}; set TMPDIR to a folder it may write",
                                  tmpdir ? tmpdir : "", error.message()));
  std::string dir = (temp / "tessera-bench-XXXXXX").string();
  TESSERA_RETURN_IF_ERROR(require(mkdtemp(dir.data()) != nullptr, Error::IoError,
                                  "--one-shot cannot make a temporary folder {}: {}; set TMPDIR to a folder it may "
                                  "write",
                                  dir, std::strerror(errno)));
  struct Remove {
    std::string dir;
    ~Remove() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove{dir};
  // The output in the input's format; an input's libvips options ("in.jpg[shrink=2]") are not part of it.
  std::string input_file = args.input;
  if (!input_file.empty() && input_file.back() == ']' && input_file.rfind('[') != std::string::npos)
    input_file.erase(input_file.rfind('['));
  const std::string output = dir + "/out" + std::filesystem::path(input_file).extension().string();
  ProgramRun run{self.string(),
                 {"run", args.model, args.input, output, "--backend", args.backend, "--precision", args.precision,
                  "--threads", std::to_string(args.threads), "--quiet"},
                 ".",
                 dir + "/run.log"};
  // A default budget stays a default there (TilePlanOptions::memory_is_default).
  if (!args.tiles.memory_is_default) run.args.insert(run.args.end(), {"--memory", std::to_string(args.tiles.memory)});
  if (args.tiles.tile > 0) run.args.insert(run.args.end(), {"--tile", std::to_string(args.tiles.tile)});
  if (args.tiles.halo > 0) run.args.insert(run.args.end(), {"--halo", std::to_string(args.tiles.halo)});
  std::vector<double> times;
  for (int i = 0; i < args.one_shot; ++i) {
    const auto start = std::chrono::steady_clock::now();
    TESSERA_ASSIGN_OR_RETURN(int exit_code, run_program(run));
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    TESSERA_RETURN_IF_ERROR(require(exit_code != 128 + SIGINT && exit_code != 128 + SIGTERM, Error::Cancelled,
                                    "interrupted"));
    TESSERA_RETURN_IF_ERROR(require(exit_code == 0, Error::InvalidArgument,
                                    "--one-shot: `tessera run {} {} OUT` failed (exit {}): {}", args.model, args.input,
                                    exit_code, last_line(run.log_path)));
    std::filesystem::remove(output, error);
  }
  return times;
}

// The steady run a one-shot compares with: the full one, or the tiled one above the model's maximum
// ("none" and -1 when neither ran).
std::pair<const char*, double> one_shot_baseline(const SizeResult& r) {
  if (r.full_ms > 0) return {"full", r.full_ms};
  if (r.tiled_ms > 0) return {"tiled", r.tiled_ms};
  return {"none", -1};
}

Status run_bench(const BenchArgs& args) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(args.model));
  TESSERA_RETURN_IF_ERROR(args.check_tiling(*model));
  TESSERA_RETURN_IF_ERROR(require(args.workers >= 0 && args.workers <= args.threads && (args.workers == 0 || args.threads % args.workers == 0),
                Error::InvalidArgument,
                "--workers {} must divide --threads {} (each worker gets --threads / --workers threads); e.g. --workers 1",
                args.workers, args.threads));
  TESSERA_RETURN_IF_ERROR(require(args.repeats >= 1, Error::InvalidArgument,
                                  "--repeats {} must be at least 1 (timed runs per measurement)", args.repeats));
  TESSERA_RETURN_IF_ERROR(require(args.one_shot >= 0, Error::InvalidArgument,
                                  "--one-shot {} must not be negative: it is how many fresh `tessera run` processes "
                                  "to time (0: none)",
                                  args.one_shot));
  TESSERA_RETURN_IF_ERROR(require(args.one_shot == 0 || !args.input.empty(), Error::InvalidArgument,
                                  "--one-shot times `tessera run` on an image: give it with --input IMAGE"));
  const auto created = std::chrono::steady_clock::now();
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                           Session::create(model, SessionOptions{args.backend, args.threads, args.precision}));
  const double create_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - created).count();
  std::vector<SizeResult> results;
  auto bench = [&](Tensor input) -> Status {
    TESSERA_ASSIGN_OR_RETURN(SizeResult r, bench_size(args, model, *session, input));
    if (args.precision != "fp32") r.input = std::move(input);
    results.push_back(std::move(r));
    return {};
  };
  if (!args.input.empty()) {
    TESSERA_ASSIGN_OR_RETURN(Tensor input, read_input_tensor(args.input, *model, ImageFlags{}));
    TESSERA_RETURN_IF_ERROR(bench(std::move(input)));
    if (args.one_shot > 0) {  // after this process's runs, which check the input and the options first
      TESSERA_ASSIGN_OR_RETURN(results.back().one_shot_ms, time_one_shots(args));
    }
  }
  for (int64_t s : args.input.empty() ? args.sizes : std::vector<int64_t>{})
    TESSERA_RETURN_IF_ERROR(bench(random_image(*model, s, s)));
  // Another precision against fp32 on the same backend, after the timed runs and their peak RSS.
  if (args.precision != "fp32") {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> fp32,
                             Session::create(model, SessionOptions{session->backend(), args.threads}));
    for (SizeResult& r : results)
      if (r.full.data() != nullptr) TESSERA_RETURN_IF_ERROR(compare_with_fp32(*model, *fp32, &r));
  }
  // After the runs, so that the first run's time is the model's alone.
  FmaPeak peak = measure_fma_peak(args.threads);
  const ModelInfo& info = model->info();
  auto gflops = [](const SizeResult& r) { return r.full_ms > 0 ? r.gflop / (r.full_ms / 1e3) : 0.0; };
  if (args.json) {
    nlohmann::json j = {{"model", args.model},
                        {"file_bytes", info.file_bytes},
                        {"backend", session->backend()},
                        {"precision", args.precision},
                        {"threads", args.threads},
                        {"fma_peak_gflops", peak.gflops},
                        {"fma_isa", peak.isa},
                        {"arena_bytes", session->arena_bytes()},
                        {"backend_bytes", session->backend_bytes()},
                        {"create_ms", create_ms}};
    for (const DimInfo& d : info.dims) j["dims"].push_back({{"name", d.name}, {"min", d.min}, {"max", d.max}});
    for (const SizeResult& r : results) {
      nlohmann::json s = {{"size", {r.height, r.width}}, {"gflop", r.gflop}, {"tiles", r.tiles}, {"full_runs_ms", r.full_runs_ms},
                          {"tile_shapes", r.tile_shapes}, {"max_diff", r.max_diff}, {"differing", r.differing},
                          {"peak_rss_bytes", r.peak_rss}};
      s["full_ms"] = r.full_ms < 0 ? nlohmann::json() : nlohmann::json(r.full_ms);
      s["first_run_ms"] = r.first_run_ms < 0 ? nlohmann::json() : nlohmann::json(r.first_run_ms);
      s["tiled_ms"] = r.tiled_ms < 0 ? nlohmann::json() : nlohmann::json(r.tiled_ms);
      s["tiled_first_run_ms"] = r.tiled_ms < 0 ? nlohmann::json() : nlohmann::json(r.tiled_first_run_ms);
      s["gflops"] = r.full_ms < 0 ? nlohmann::json() : nlohmann::json(gflops(r));
      s["peak_fraction"] = r.full_ms < 0 ? nlohmann::json() : nlohmann::json(gflops(r) / peak.gflops);
      if (!r.skipped.empty()) s["tiled_skipped"] = r.skipped;
      if (r.fp32_max_error >= 0) s["fp32_error"] = {{"max", r.fp32_max_error}, {"psnr_db", r.fp32_psnr}};
      if (!r.one_shot_ms.empty()) {
        const auto [against, steady] = one_shot_baseline(r);
        s["one_shot"] = {{"runs_ms", r.one_shot_ms},
                         {"min_ms", *std::min_element(r.one_shot_ms.begin(), r.one_shot_ms.end())},
                         {"median_ms", median(r.one_shot_ms)},
                         {"against", against},
                         {"ratio", steady > 0 ? nlohmann::json(median(r.one_shot_ms) / steady) : nlohmann::json()}};
      }
      j["sizes"].push_back(s);
    }
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));  // always valid UTF-8
    return {};
  }
  std::vector<std::string> dims;
  for (const DimInfo& d : info.dims) dims.push_back(fmt::format("{} {}..{}", d.name, d.min, d.max));
  fmt::print("Test Results\n");
  fmt::print("model        {} ({}), dynamic range {}\n", args.model, human_bytes(info.file_bytes), fmt::join(dims, ", "));
  fmt::print("backend      {}, {} thread(s); FMA peak {:.0f} GFLOP/s ({}, measured)\n",
             backend_text(session->backend(), args.precision), args.threads, peak.gflops, peak.isa);
  fmt::print("memory       arena {} + backend {} per session\n", human_bytes(session->arena_bytes()),
             human_bytes(session->backend_bytes()));
  fmt::print("session      created in {:.1f} ms (weights packed)\n", create_ms);
  for (const SizeResult& r : results) {
    fmt::print("{}x{}:\n", r.width, r.height);
    if (r.full_ms >= 0) {
      fmt::print("  full       {} ms, {:.1f} GFLOP/s ({:.0f}% of peak)\n", ms_text(r.full_ms), gflops(r),
                 100 * gflops(r) / peak.gflops);
      fmt::print("  first run  {} ms (a new shape: the backend's set-up included)\n", ms_text(r.first_run_ms));
      if (r.fp32_max_error >= 0) {
        const double range = model->info().pixel_max - model->info().pixel_min;
        fmt::print("  vs fp32    max error {:.3g} ({:.2f} grey levels of 255), PSNR {:.1f} dB\n", r.fp32_max_error,
                   255 * r.fp32_max_error / range, r.fp32_psnr);
      }
    } else
      fmt::print("  full       - (above the model's maximum)\n");
    if (r.tiled_ms >= 0) {
      std::vector<std::string> shapes;
      for (auto [h, w] : r.tile_shapes) shapes.push_back(fmt::format("{}x{}", w, h));
      const int64_t workers =
          std::min<int64_t>(args.workers > 0 ? args.workers : tiling::tile_workers(args.threads, r.widest_band), r.widest_band);
      fmt::print("  tiled      {} ms, {} tiles, {} worker(s) x {} thread(s)\n", ms_text(r.tiled_ms), r.tiles, workers,
                 args.threads / workers);
      fmt::print("  first tiled {} ms (the workers' sessions created and set up per window shape)\n",
                 ms_text(r.tiled_first_run_ms));
      fmt::print("  tile shapes {}\n", fmt::join(shapes, ", "));
      if (r.full_ms >= 0) fmt::print("  max difference {:g} ({} differing elements)\n", r.max_diff, r.differing);
    } else {
      fmt::print("  tiled      - ({})\n", r.skipped);
    }
    if (!r.one_shot_ms.empty()) {
      const double mid = median(r.one_shot_ms);
      const auto [against, steady] = one_shot_baseline(r);
      fmt::print(
          "  one-shot   {} ms median, {} ms min of {} fresh `tessera run` process{} (start to output written){}\n",
          ms_text(mid), ms_text(*std::min_element(r.one_shot_ms.begin(), r.one_shot_ms.end())), r.one_shot_ms.size(),
          r.one_shot_ms.size() == 1 ? "" : "es",
          steady > 0 ? fmt::format(", {:.2f}x the {} run", mid / steady, against) : "");
    }
    fmt::print("  peak RSS   {}\n", human_bytes(r.peak_rss));
  }
  return {};
}

}  // namespace

Command add_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand("bench", "time full-image and tiled runs at several sizes");
  sub->add_option("model", args->model, "the .tsr file")->required();
  sub->add_option("--sizes", args->sizes, "square input sizes (default 256,512,1024)")->delimiter(',');
  sub->add_option("--input", args->input,
                  kWithImages ? "an image file, or a float32 .npy [1, C, H, W], to time instead of random ones"
                              : "a float32 .npy image [1, C, H, W] to time instead of random ones");
  sub->add_option("--one-shot", args->one_shot,
                  "also time this many fresh `tessera run` processes on --input (with --backend, --precision, "
                  "--threads, --tile, --halo and --memory), each from its start to its output written into a "
                  "temporary folder under TMPDIR: min and median, against the full run (the tiled one above the "
                  "model's maximum)");
  sub->add_option("--output", args->output, "write the full-image output of the last size to this .npy");
  sub->add_flag("--full-only", args->full_only, "time the full-image run only, not the tiled one");
  sub->add_option("--repeats", args->repeats, "timed runs per measurement, after one warm-up (median; default 5)");
  sub->add_flag("--json", args->json, "print machine-readable JSON");
  add_backend_option(sub, args->backend, args->precision);
  args->check_tiling = add_tiling_options(sub, args->tiles, args->threads);
  sub->add_option("--workers", args->workers,
                  "tile workers of the tiled run, each with --threads / --workers threads (default: by the number of "
                  "tiles in a row, docs/architecture.md)");
  return [args] { return run_bench(*args); };
}

}  // namespace tessera::cli
