#include "tessera/tiling.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/check.h"
#include "core/cpus.h"
#include "runtime/model_data.h"

namespace tessera::tiling {

Status TensorSource::read(int64_t y0, int64_t x0, TensorView window) {
  const Shape& in = image_.shape;
  const Shape& w = window.shape;
  TESSERA_CHECK(w[0] == in[0] && w[1] == in[1] && y0 >= 0 && x0 >= 0 && y0 + w[2] <= in[2] && x0 + w[3] <= in[3],
                Error::Internal, "window {} at ({}, {}) lies outside the image {}", w.to_string(), y0, x0, in.to_string());
  for (int64_t plane = 0; plane < w[0] * w[1]; ++plane)
    for (int64_t y = 0; y < w[2]; ++y)
      std::memcpy(window.data + (plane * w[2] + y) * w[3], image_.data + (plane * in[2] + y0 + y) * in[3] + x0,
                  static_cast<size_t>(w[3]) * sizeof(float));
  return {};
}

Status TensorSink::write(const Tile& tile, ConstTensorView window_output) {
  const Shape& out = output_.shape;
  const Shape& w = window_output.shape;
  int64_t rows = tile.rows.out_end - tile.rows.out_begin, cols = tile.cols.out_end - tile.cols.out_begin;
  TESSERA_CHECK(w[0] == out[0] && w[1] == out[1] && tile.rows.crop_begin >= 0 && tile.cols.crop_begin >= 0 &&
                    tile.rows.crop_begin + rows <= w[2] && tile.cols.crop_begin + cols <= w[3],
                Error::Internal, "a tile's output {} does not hold its core ({} x {} at {}, {})", w.to_string(), rows,
                cols, tile.rows.crop_begin, tile.cols.crop_begin);
  for (int64_t plane = 0; plane < w[0] * w[1]; ++plane)
    for (int64_t y = 0; y < rows; ++y)
      std::memcpy(output_.data + (plane * out[2] + tile.rows.out_begin + y) * out[3] + tile.cols.out_begin,
                  window_output.data + (plane * w[2] + tile.rows.crop_begin + y) * w[3] + tile.cols.crop_begin,
                  static_cast<size_t>(cols) * sizeof(float));
  return {};
}

Result<std::unique_ptr<TiledRunner>> TiledRunner::create(std::shared_ptr<const Model> model, TilePlan plan,
                                                          const Shape& input_shape, TiledRunOptions options) {
  TESSERA_CHECK(options.threads >= 1, Error::InvalidArgument, "--threads must be at least 1, got {}", options.threads);
  std::unique_ptr<TiledRunner> r(new TiledRunner());
  // Bands: the plan is row-major, so a band is a run of tiles with the same rows.
  for (size_t i = 0; i < plan.tiles.size(); ++i) {
    if (i == 0 || plan.tiles[i].rows.out_begin != plan.tiles[i - 1].rows.out_begin) r->bands_.emplace_back();
    r->bands_.back().push_back(i);
  }
  size_t widest_band = 0;
  for (std::vector<size_t>& band : r->bands_) {
    // Same-shape tiles back to back, so that a worker rarely sees a new shape.
    std::stable_sort(band.begin(), band.end(),
                     [&](size_t a, size_t b) { return plan.tiles[a].cols.window() < plan.tiles[b].cols.window(); });
    widest_band = std::max(widest_band, band.size());
  }
  TESSERA_CHECK(options.workers >= 0 && options.workers <= options.threads &&
                    (options.workers == 0 || options.threads % options.workers == 0),
                Error::InvalidArgument, "{} tile workers cannot share {} threads evenly", options.workers,
                options.threads);
  // The automatic split shares at most one thread per CPU: more workers than CPUs only take turns,
  // each holding a session (an arena at the model's upper bound).
  const int budget = options.workers > 0 ? options.threads : std::min(options.threads, usable_cpus());
  const int split = options.workers > 0 ? options.workers : tile_workers(budget, widest_band);
  const int workers = static_cast<int>(std::min<size_t>(split, std::max<size_t>(widest_band, 1)));
  // A band narrower than the workers gives its spare threads to the sessions too.
  const SessionOptions per_worker{options.backend, budget / workers, options.precision};

  int64_t max_h = 0, max_w = 0;
  for (const Tile& t : plan.tiles) {
    max_h = std::max(max_h, t.rows.window());
    max_w = std::max(max_w, t.cols.window());
  }
  r->options_.sessions = options.sessions;  // from here on, the destructor gives sessions back
  r->session_options_ = per_worker;
  for (int w = 0; w < workers; ++w) {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, options.sessions ? options.sessions->take(model, per_worker)
                                                                          : Session::create(model, per_worker));
    r->sessions_.push_back(std::move(s));
    r->windows_.emplace_back(Shape{input_shape[0], input_shape[1], max_h, max_w});
  }
  r->plan_ = std::move(plan);
  r->input_shape_ = input_shape;
  r->options_ = std::move(options);
  return r;
}

TiledRunner::~TiledRunner() {
  if (!options_.sessions) return;
  for (std::unique_ptr<Session>& s : sessions_) options_.sessions->give_back(std::move(s), session_options_);
}

Result<std::unique_ptr<Session>> SessionPool::take(std::shared_ptr<const Model> model, const SessionOptions& options) {
  std::unique_ptr<Session> found;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Sessions of other options are dropped: a run takes all its sessions with the same options, so
    // they would only hold memory beside the ones it makes.
    std::erase_if(kept_, [&](const Kept& k) {
      return &k.session->model() != model.get() || k.options.backend != options.backend ||
             k.options.threads != options.threads || k.options.precision != options.precision;
    });
    if (!kept_.empty()) {
      found = std::move(kept_.back().session);
      kept_.pop_back();
    }
  }
  if (found) return found;
  return Session::create(std::move(model), options);
}

void SessionPool::give_back(std::unique_ptr<Session> session, const SessionOptions& options) {
  if (!session) return;
  std::lock_guard<std::mutex> lock(mutex_);
  kept_.push_back({options, std::move(session)});
}

size_t SessionPool::kept() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return kept_.size();
}

std::pair<int64_t, int64_t> TiledRunner::band_output_rows(int64_t band) const {
  const Span& rows = plan_.tiles[bands_[band].front()].rows;
  return {rows.out_begin, rows.out_end};
}

Status TiledRunner::run_tile(int worker, const Tile& tile, TileSource& source, TileSink& sink) {
  TensorView window{windows_[worker].data(),
                    Shape{input_shape_[0], input_shape_[1], tile.rows.window(), tile.cols.window()}};
  TESSERA_RETURN_IF_ERROR(source.read(tile.rows.window_begin, tile.cols.window_begin, window));
  ConstTensorView in = window;
  TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> out, sessions_[worker]->run({&in, 1}));
  TESSERA_RETURN_IF_ERROR(sink.write(tile, out[0]));
  int64_t done = ++done_;
  if (options_.on_tile) options_.on_tile(done);
  return {};
}

Status TiledRunner::run_band(int64_t band, TileSource& source, TileSink& sink) {
  TESSERA_CHECK(band >= 0 && band < band_count(), Error::Internal, "band {} of {}", band, band_count());
  const std::vector<size_t>& tiles = bands_[band];
  const Span& rows = plan_.tiles[tiles.front()].rows;
  TESSERA_RETURN_IF_ERROR(source.prepare_rows(rows.window_begin, rows.window_end));
  TESSERA_RETURN_IF_ERROR(sink.prepare_rows(rows.out_begin, rows.out_end));

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  Status first_error;
  auto work = [&](int w) {
    for (size_t i = next++; i < tiles.size() && !failed; i = next++) {
      Status s = options_.cancel && options_.cancel->load() ? Status(Error::Cancelled, "interrupted")
                                                            : run_tile(w, plan_.tiles[tiles[i]], source, sink);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.ok()) first_error = s;
        failed = true;
      }
    }
  };
  const int workers = static_cast<int>(std::min(sessions_.size(), tiles.size()));
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (std::thread& t : pool) t.join();
  return first_error;
}

Status TiledRunner::run(TileSource& source, TileSink& sink) {
  for (int64_t b = 0; b < band_count(); ++b) TESSERA_RETURN_IF_ERROR(run_band(b, source, sink));
  return {};
}

TiledRunStats TiledRunner::stats() const {
  TiledRunStats stats;
  stats.workers = static_cast<int>(sessions_.size());
  stats.session_arena_bytes = sessions_.empty() ? 0 : sessions_[0]->arena_bytes();
  stats.window_buffer_bytes = windows_.empty() ? 0 : windows_[0].shape().element_count() * int64_t{sizeof(float)};
  return stats;
}

int tile_workers(int threads, int64_t band_tiles) {
  for (int workers = threads; workers > 1; --workers) {
    if (threads % workers != 0) continue;
    const int64_t slots = (band_tiles + workers - 1) / workers * workers;  // worker turns in the band
    if (8 * (slots - band_tiles) <= slots) return workers;
  }
  return 1;
}

Shape tiled_output_shape(const Model& model, const Shape& input_shape, const TilePlan& plan) {
  const ModelData& d = model.data();
  return Shape{input_shape[0], d.upper_shapes[d.graph.outputs[0]][1], plan.out_height, plan.out_width};
}

Result<TiledRunStats> run_tiles(std::shared_ptr<const Model> model, const TilePlan& plan, const Shape& input_shape,
                                TileSource& source, TileSink& sink, const TiledRunOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<TiledRunner> runner,
                           TiledRunner::create(std::move(model), plan, input_shape, options));
  TESSERA_RETURN_IF_ERROR(runner->run(source, sink));
  return runner->stats();
}

Result<Tensor> run_tiled(std::shared_ptr<const Model> model, ConstTensorView image, const TilePlanOptions& tiles,
                         const TiledRunOptions& options, TilePlan* plan_out, TiledRunStats* stats_out) {
  TESSERA_CHECK(image.shape.rank() == 4, Error::RankMismatch, "tiling takes a 4-D [N, C, H, W] image, got {}",
                image.shape.to_string());
  TESSERA_ASSIGN_OR_RETURN(TilePlan plan, plan_tiles(*model, image.shape[2], image.shape[3], tiles));
  Tensor output(tiled_output_shape(*model, image.shape, plan));
  TensorSource source(image);
  TensorSink sink(output.view());
  TESSERA_ASSIGN_OR_RETURN(TiledRunStats stats, run_tiles(model, plan, image.shape, source, sink, options));
  if (plan_out) *plan_out = std::move(plan);
  if (stats_out) *stats_out = stats;
  return output;
}

}  // namespace tessera::tiling
