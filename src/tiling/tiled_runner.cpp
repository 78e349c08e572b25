#include "tiling/tiled_runner.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <numeric>
#include <thread>

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

Result<TiledRunStats> run_tiles(std::shared_ptr<const Model> model, const TilePlan& plan, const Shape& input_shape,
                                TileSource& source, TileSink& sink, int threads, const SessionOptions& session) {
  const size_t count = plan.tiles.size();
  TESSERA_CHECK(threads >= 1, Error::InvalidArgument, "--threads must be at least 1, got {}", threads);
  const int workers = static_cast<int>(std::min<size_t>(threads, std::max<size_t>(count, 1)));
  SessionOptions per_worker = session;
  per_worker.threads = std::max(session.threads, threads / workers);

  // Same-shape tiles back to back, so that a worker rarely sees a new shape.
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  auto shape_of = [&](size_t i) { return std::make_pair(plan.tiles[i].rows.window(), plan.tiles[i].cols.window()); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return shape_of(a) < shape_of(b); });

  int64_t max_h = 0, max_w = 0;
  for (const Tile& t : plan.tiles) {
    max_h = std::max(max_h, t.rows.window());
    max_w = std::max(max_w, t.cols.window());
  }
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<Tensor> buffers;
  for (int w = 0; w < workers; ++w) {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, Session::create(model, per_worker));
    sessions.push_back(std::move(s));
    buffers.emplace_back(Shape{input_shape[0], input_shape[1], max_h, max_w});
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  Status first_error;
  auto work = [&](int w) {
    Status s;
    for (size_t i = next++; i < count && !failed; i = next++) {
      const Tile& tile = plan.tiles[order[i]];
      TensorView window{buffers[w].data(), Shape{input_shape[0], input_shape[1], tile.rows.window(), tile.cols.window()}};
      s = source.read(tile.rows.window_begin, tile.cols.window_begin, window);
      if (s.ok()) {
        ConstTensorView in = window;
        Result<std::span<const TensorView>> out = sessions[w]->run({&in, 1});
        s = out.ok() ? sink.write(tile, (*out)[0]) : out.status();
      }
      if (!s.ok()) break;
    }
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (first_error.ok()) first_error = s;
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (std::thread& t : pool) t.join();
  TESSERA_RETURN_IF_ERROR(first_error);

  TiledRunStats stats;
  stats.workers = workers;
  stats.session_arena_bytes = sessions.empty() ? 0 : sessions[0]->arena_bytes();
  stats.window_buffer_bytes = input_shape[0] * input_shape[1] * max_h * max_w * static_cast<int64_t>(sizeof(float));
  return stats;
}

Result<Tensor> run_tiled(std::shared_ptr<const Model> model, ConstTensorView image, const TilePlanOptions& options,
                         int threads, TilePlan* plan_out, const SessionOptions& session) {
  TESSERA_CHECK(image.shape.rank() == 4, Error::RankMismatch, "tiling takes a 4-D [N, C, H, W] image, got {}",
                image.shape.to_string());
  TESSERA_ASSIGN_OR_RETURN(TilePlan plan, plan_tiles(*model, image.shape[2], image.shape[3], options));
  const ModelData& d = model->data();
  Tensor output(Shape{image.shape[0], d.upper_shapes[d.graph.outputs[0]][1], plan.out_height, plan.out_width});
  TensorSource source(image);
  TensorSink sink(output.view());
  TESSERA_RETURN_IF_ERROR(run_tiles(model, plan, image.shape, source, sink, threads, session).status());
  if (plan_out) *plan_out = std::move(plan);
  return output;
}

}  // namespace tessera::tiling
