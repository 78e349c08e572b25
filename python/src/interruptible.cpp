#include "interruptible.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "errors.h"

namespace py = pybind11;

namespace tessera::python {

void run_interruptibly(const std::function<Status(const std::atomic<bool>& cancel, Progress& progress)>& work,
                       const py::object& callback) {
  std::atomic<bool> cancel{false};
  Progress progress;
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  Status status;
  std::thread worker([&] {
    Status s = work(cancel, progress);
    std::lock_guard lock(mutex);
    status = s;
    done = true;
    finished.notify_all();
  });
  int64_t reported = -1;
  bool interrupted = false;
  std::optional<py::error_already_set> callback_error;  // the progress callback raised: stop, then re-raise
  while (true) {
    {
      py::gil_scoped_release release;
      std::unique_lock lock(mutex);
      finished.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; });
      if (done) break;
    }
    if (!interrupted && PyErr_CheckSignals() != 0) {  // Ctrl-C: KeyboardInterrupt is now pending
      interrupted = true;
      cancel = true;
    }
    if (!interrupted && !callback_error && !callback.is_none() && progress.done != reported) {
      reported = progress.done;
      try {
        callback(reported, progress.total);
      } catch (py::error_already_set& e) {
        callback_error = std::move(e);
        cancel = true;
      }
    }
  }
  worker.join();
  if (interrupted) throw py::error_already_set();
  if (callback_error) throw std::move(*callback_error);
  check(status);
  if (!callback.is_none() && progress.done != reported) callback(progress.done.load(), progress.total);
}

}  // namespace tessera::python
