// Long runs (tiles, image files) from Python: the work runs on a thread of its own without the GIL,
// while the calling thread wakes every 50 ms to turn Ctrl-C into a cancel and to report progress.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>
#include <functional>

#include "tessera/status.h"

namespace tessera::python {

struct Progress {
  std::atomic<int64_t> done{0};  // tiles finished, counted by the work
  int64_t total = 0;             // set by the work once it knows
};

// Runs `work`, which must stop soon after `cancel` turns true. Calls `callback(done, total)` (a
// Python callable, or None) when tiles finish. On Ctrl-C the work is cancelled and waited for, then
// KeyboardInterrupt is raised; a failed Status raises its exception.
void run_interruptibly(const std::function<Status(const std::atomic<bool>& cancel, Progress& progress)>& work,
                       const pybind11::object& callback);

}  // namespace tessera::python
