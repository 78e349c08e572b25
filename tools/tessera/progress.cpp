#include "progress.h"

#include <fmt/format.h>

#include <cstdio>
#include <string>

namespace tessera::cli {

namespace {

std::string clock_time(double seconds) {
  auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

Progress::Progress(int64_t total_tiles, double megapixels, bool enabled)
    : total_(total_tiles), megapixels_(megapixels), enabled_(enabled && total_tiles > 0) {}

void Progress::tile_done(int64_t done) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;  // at most 10 redraws a second
  last_draw_ = now;
  draw(done);
}

void Progress::draw(int64_t done) {
  constexpr int kWidth = 30;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  std::string rate = elapsed > 0 ? fmt::format("{:.2f} MP/s", megapixels_ * fraction / elapsed) : "";
  std::string eta = done > 0 ? "ETA " + clock_time(elapsed * (1 - fraction) / fraction) : "";
  fmt::print(stderr, "\r[{}] {}/{} tiles  {}  {}\033[K", bar, done, total_, rate, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (drawn_) fmt::print(stderr, "\r\033[K");
  drawn_ = false;
}

}  // namespace tessera::cli
