// Tiled runs from Python: run_tiled (an array in, the stitched array out), verify (tiles against the
// whole image) and run_image (an image file in, an image file out, streamed).
#include "tiled.h"

#include <pybind11/stl.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "arrays.h"
#include "errors.h"
#include "interruptible.h"
#include "tessera/image.h"
#include "tessera/session.h"
#include "tessera/tiling.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace tessera::python {

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

py::list window_shapes(const tiling::TilePlan& plan) {
  py::list shapes;
  for (const auto& [h, w] : plan.window_shapes()) shapes.append(py::make_tuple(h, w));
  return shapes;
}

struct TiledArgs {
  int64_t tile = 0;
  int64_t halo = 0;
  int threads = 1;
  int workers = 0;
  std::string backend = "auto";
  std::string precision = "fp32";
};

// Runs `image` in tiles into a new array; fills `report` with the plan and the run's figures.
py::array_t<float> tiled(const std::shared_ptr<const Model>& model, ConstTensorView image, const TiledArgs& args,
                         const py::object& progress, py::dict& report) {
  if (image.shape.rank() != 4)
    raise(Status(Error::RankMismatch,
                 fmt::format("tiling takes a 4-D [N, C, H, W] image, got {}", image.shape.to_string())));
  tiling::TilePlan plan = take(tiling::plan_tiles(*model, image.shape[2], image.shape[3], {args.tile, args.halo}));
  Shape out_shape = tiling::tiled_output_shape(*model, image.shape, plan);
  std::vector<py::ssize_t> dims(out_shape.begin(), out_shape.end());
  py::array_t<float> output(dims);
  TensorView out_view{output.mutable_data(), out_shape};
  tiling::TiledRunStats stats;
  auto start = std::chrono::steady_clock::now();
  run_interruptibly(
      [&](const std::atomic<bool>& cancel, Progress& p) {
        p.total = static_cast<int64_t>(plan.tiles.size());
        tiling::TensorSource source(image);
        tiling::TensorSink sink(out_view);
        tiling::TiledRunOptions options{
            args.threads, args.workers, args.backend, args.precision, [&p](int64_t done) { p.done = done; }, &cancel};
        Result<tiling::TiledRunStats> run = tiling::run_tiles(model, plan, image.shape, source, sink, options);
        if (run.ok()) stats = *run;
        return run.status();
      },
      progress);
  report["tiles"] = plan.tiles.size();
  report["tile_shapes"] = window_shapes(plan);
  report["core"] = py::make_tuple(plan.core_height, plan.core_width);
  report["workers"] = stats.workers;
  report["tiled_ms"] = ms_since(start);
  report["arena_bytes_per_worker"] = stats.session_arena_bytes;
  return output;
}

py::list spans(const std::vector<tiling::Tile>& tiles, size_t count, size_t stride, bool rows) {
  py::list list;
  for (size_t i = 0; i < count; ++i) {
    const tiling::Span& s = rows ? tiles[i * stride].rows : tiles[i].cols;
    list.append(py::make_tuple(s.window_begin, s.window_end, s.out_begin, s.out_end, s.crop_begin));
  }
  return list;
}

// The cores of `size` pixels in balanced pieces of at most `core` (plan_tiles' cores).
std::vector<int64_t> even_cores(int64_t size, int64_t core) {
  std::vector<int64_t> cores;
  for (int64_t begin = 0; begin < size; begin += core) cores.push_back(std::min(core, size - begin));
  return cores;
}

// Dask's view of a tile plan: per axis the cores (chunks) and their spans, as tuples (window_begin,
// window_end, out_begin, out_end, crop_begin), and the output's size and channels. Cores not given are planned: at most `block` (0: the
// largest the model takes), balanced on its grid.
py::dict plan_blocks(const Model& model, int64_t height, int64_t width, std::vector<int64_t> row_cores,
                     std::vector<int64_t> col_cores, int64_t block) {
  if (row_cores.empty() || col_cores.empty()) {
    tiling::TilePlan even = take(tiling::plan_tiles(model, height, width, {block, 0}));
    if (row_cores.empty()) row_cores = even_cores(height, even.core_height);
    if (col_cores.empty()) col_cores = even_cores(width, even.core_width);
  }
  tiling::TilePlan plan = take(tiling::plan_tiles_at(model, height, width, row_cores, col_cores));
  return py::dict("chunks"_a = py::make_tuple(row_cores, col_cores),
                  "rows"_a = spans(plan.tiles, row_cores.size(), col_cores.size(), true),
                  "cols"_a = spans(plan.tiles, col_cores.size(), 1, false),
                  "out_size"_a = py::make_tuple(plan.out_height, plan.out_width),
                  "out_channels"_a = tiling::tiled_output_shape(model, Shape{1, 1, height, width}, plan)[1]);
}

}  // namespace

void bind_tiled(py::module_& m) {
  m.def("plan_blocks", &plan_blocks, "model"_a, "height"_a, "width"_a, "row_cores"_a, "col_cores"_a, "block"_a,
        "Tiles on given cores (Dask chunks), or planned ones: per axis the cores and their spans.");

  m.def(
      "run_tiled",
      [](const std::shared_ptr<Model>& model, const py::handle& input, int64_t tile, int64_t halo, int threads,
         int workers, const std::string& backend, const py::object& progress, const std::string& precision) {
        py::dict report;
        py::array_t<float> out = tiled(model, input_view(input, "the image"),
                                       {tile, halo, threads, workers, backend, precision}, progress, report);
        return py::make_tuple(out, report);
      },
      "model"_a, "input"_a, "tile"_a, "halo"_a, "threads"_a, "workers"_a, "backend"_a, "progress"_a,
      "precision"_a = "fp32");

  m.def(
      "verify",
      [](const std::shared_ptr<Model>& model, const py::handle& input, int64_t tile, int64_t halo, int threads,
         int workers, const std::string& backend, const std::string& precision) {
        ConstTensorView image = input_view(input, "the image");
        py::dict report;
        py::array_t<float> stitched =
            tiled(model, image, {tile, halo, threads, workers, backend, precision}, py::none(), report);
        std::unique_ptr<Session> session = take(Session::create(model, SessionOptions{backend, threads, precision}));
        Result<std::span<const TensorView>> full = Status(Error::Internal, "not run");
        auto start = std::chrono::steady_clock::now();
        {
          py::gil_scoped_release release;
          full = session->run({&image, 1});
        }
        report["full_ms"] = ms_since(start);
        const TensorView& whole = take(std::move(full))[0];
        const float* t = stitched.data();
        int64_t differing = 0;
        double max_difference = 0;
        for (int64_t i = 0; i < whole.shape.element_count(); ++i) {
          if (std::memcmp(&whole.data[i], &t[i], sizeof(float)) == 0) continue;
          ++differing;
          max_difference = std::max(max_difference, static_cast<double>(std::fabs(whole.data[i] - t[i])));
        }
        report["elements"] = whole.shape.element_count();
        report["differing"] = differing;
        report["max_difference"] = max_difference;
        report["full_arena_bytes"] = session->arena_bytes();
        return report;
      },
      "model"_a, "input"_a, "tile"_a, "halo"_a, "threads"_a, "workers"_a, "backend"_a, "precision"_a = "fp32");

  m.def(
      "run_image",
      [](const std::shared_ptr<Model>& model, const std::string& input, const std::string& output, int64_t tile,
         int64_t halo, int threads, const std::string& backend, const py::object& progress, std::vector<int> bands,
         const std::string& pad, bool autorotate, int quality, const std::string& precision) {
        static const std::map<std::string, Padding> pads = {
            {"", Padding::None}, {"mirror", Padding::Mirror}, {"edge", Padding::Edge}, {"zero", Padding::Zero}};
        if (!pads.count(pad))
          raise(Status(Error::InvalidArgument, "pad='" + pad + "': give 'mirror', 'edge', 'zero' or None"));
        ImageRunInfo info;
        run_interruptibly(
            [&](const std::atomic<bool>& cancel, Progress& p) {
              ImageRunOptions options;
              options.input = {bands, autorotate, pads.at(pad)};
              options.quality = quality;
              options.tiles = {tile, halo};
              options.run = {threads, 0, backend, precision, [&p](int64_t done) { p.done = done; }, &cancel};
              Result<ImageRunInfo> run = run_image_file(model, input, output, options,
                                                        [&p](const ImageRunInfo& i) { p.total = i.tiles; });
              if (run.ok()) info = *run;
              return run.status();
            },
            progress);
        return py::dict("input_size"_a = py::make_tuple(info.in_width, info.in_height),
                        "output_size"_a = py::make_tuple(info.out_width, info.out_height),
                        "input"_a = info.in_description, "tiles"_a = info.tiles,
                        "core"_a = py::make_tuple(info.core_height, info.core_width), "workers"_a = info.workers,
                        "tiled"_a = info.tiled, "rotated"_a = info.rotated,
                        "padded_size"_a = py::make_tuple(info.padded_width, info.padded_height),
                        "kept"_a = info.kept, "dropped"_a = info.dropped);
      },
      "model"_a, "input"_a, "output"_a, "tile"_a, "halo"_a, "threads"_a, "backend"_a, "progress"_a, "bands"_a, "pad"_a,
      "autorotate"_a, "quality"_a, "precision"_a = "fp32");
}

}  // namespace tessera::python
