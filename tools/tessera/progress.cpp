#include "progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace tessera::cli {

namespace {

std::string clock_time(double seconds) {
  auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

Progress::Progress(double total, bool enabled, std::string unit)
    : total_(total), unit_(std::move(unit)), enabled_(enabled && total > 0) {}

void Progress::update(double done, const std::string& what, bool now) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto clock = std::chrono::steady_clock::now();
  if (!now && clock - last_draw_ < std::chrono::milliseconds(100)) return;  // at most 10 redraws a second
  last_draw_ = clock;
  draw(done, what);
}

void Progress::draw(double done, const std::string& what) {
  constexpr int kWidth = 30;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = std::min(1.0, done / total_);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  std::string rate = elapsed > 0 ? fmt::format("{:.2f} {}/s", done / elapsed, unit_) : "";
  std::string eta = fraction > 0 ? "ETA " + clock_time(elapsed * (1 - fraction) / fraction) : "";
  fmt::print(stderr, "\r[{}] {}  {}  {}\033[K", bar, what, rate, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (drawn_) fmt::print(stderr, "\r\033[K");
  drawn_ = false;
}

}  // namespace tessera::cli
