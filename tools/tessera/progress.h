// A progress bar on stderr for long runs: tiles done/total, megapixels per second and the time left.
// Drawn only when stderr is a terminal; safe to call from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace tessera::cli {

class Progress {
 public:
  // `megapixels`: the input pixels of the whole run, in millions.
  Progress(int64_t total_tiles, double megapixels, bool enabled);
  void tile_done(int64_t done);
  // Clears the bar so the next line starts clean.
  void finish();

 private:
  void draw(int64_t done);

  const int64_t total_;
  const double megapixels_;
  const bool enabled_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  std::mutex mutex_;
  bool drawn_ = false;
};

}  // namespace tessera::cli
