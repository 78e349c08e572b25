// A progress bar on stderr for long runs: how far, megapixels per second and the time left, over one
// image's tiles or a batch of images. Drawn only when stderr is a terminal; safe to call from several
// threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace tessera::cli {

class Progress {
 public:
  // `total`: the work of the whole run, in `unit`s (the input's megapixels, or images).
  Progress(double total, bool enabled, std::string unit = "MP");
  // `done` of `total` are done; `what` says so in words ("12/40 tiles"). Redrawn at most 10 times a
  // second, unless `now`.
  void update(double done, const std::string& what, bool now = false);
  // Clears the bar so the next line starts clean.
  void finish();

 private:
  void draw(double done, const std::string& what);

  const double total_;
  const std::string unit_;
  const bool enabled_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  std::mutex mutex_;
  bool drawn_ = false;
};

}  // namespace tessera::cli
