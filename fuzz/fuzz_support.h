// What the fuzz targets share: a scratch folder per process, and running a loaded model once at one
// small size on every backend linked in. The caps here keep each execution small; tessera itself
// must reject (not allocate) anything huge before these caps matter.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/model.h"
#include "tessera/session.h"

namespace tessera::fuzz {

// A folder of this process's own under $TMPDIR (or /tmp), emptied between inputs.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tessera-fuzz-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) std::abort();
    path_ = buf.data();
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  // Removes everything inside, keeping the folder.
  void clear() const {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(path_, ec)) std::filesystem::remove_all(e.path(), ec);
  }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// Caps of the harness (not of tessera): models whose arena or input is larger are loaded and
// verified but not run, so that one execution stays in milliseconds.
constexpr int64_t kMaxArenaBytes = 64ll << 20;
constexpr int64_t kMaxSide = 128;
constexpr int64_t kMaxInputElements = 1 << 20;
// The backends keep buffers as large as an input at the dims' upper bound beyond the arena (a copy
// in their layout): a model whose input there is above this is not run either.
constexpr int64_t kMaxUpperInputElements = 1 << 22;
constexpr int64_t kMaxConvFlops = 50'000'000;  // a 32x32 run of ESRGAN-slim is 1.2 GFLOP: compiled, not run

// The smallest value each dim takes, or -1 when it is above kMaxSide.
inline int64_t smallest_value(const DimInfo& d) {
  int64_t m = d.multiple_of > 0 ? d.multiple_of : 1;
  int64_t v = d.min < 1 ? 1 : d.min;
  if (v % m) v += m - v % m;
  return v <= d.max && v <= kMaxSide ? v : -1;
}

// Runs `model` once on every backend at the smallest size in its ranges (1 thread); returns the
// first error. Errors are fine; crashes, leaks and sanitizer reports are what the fuzzer looks for.
inline Status run_on_every_backend(const std::shared_ptr<const Model>& model) {
  const ModelInfo& info = model->info();
  if (info.arena_bytes > kMaxArenaBytes || info.arena_bytes < 0) return {};
  std::vector<Tensor> tensors;
  for (const TensorInfo& input : info.inputs) {
    Shape shape;
    int64_t elements = 1;
    for (const std::string& axis : input.axes) {
      int64_t v = -1;
      bool digits = !axis.empty() && axis.size() < 12 &&
                    axis.find_first_not_of("0123456789") == std::string::npos;
      if (digits) {
        v = std::stoll(axis);
      } else {
        for (const DimInfo& d : info.dims)
          if (d.name == axis) v = smallest_value(d);
      }
      if (v < 0 || v > kMaxInputElements || shape.rank() >= kMaxRank) return {};
      elements *= v == 0 ? 1 : v;
      if (elements > kMaxInputElements) return {};
      shape.push_back(v);
    }
    // The same input at the dims' upper bound (fixed axes as they are), saturating.
    int64_t upper = 1;
    for (size_t a = 0; a < input.axes.size(); ++a) {
      int64_t m = shape[static_cast<int>(a)];
      for (const DimInfo& d : info.dims)
        if (d.name == input.axes[a]) m = d.max;
      if (m > 0) upper = m > kMaxUpperInputElements / upper ? kMaxUpperInputElements + 1 : upper * m;
    }
    if (upper > kMaxUpperInputElements) return {};
    Tensor t(shape);
    for (int64_t i = 0; i < shape.element_count(); ++i) t.data()[i] = 0.25f + 0.5f * static_cast<float>(i % 7) / 7;
    tensors.push_back(std::move(t));
  }
  if (!info.inputs.empty() && tensors[0].shape().rank() == 4) {
    auto flops = model->conv_flops(tensors[0].shape()[2], tensors[0].shape()[3]);
    if (flops.ok() && *flops > kMaxConvFlops) return {};  // an error here: fixed sizes, run below
  }
  std::vector<ConstTensorView> views;
  for (const Tensor& t : tensors) views.push_back(t.view());
  Status first;
  for (const std::string& backend : available_backends()) {
    auto session = Session::create(model, SessionOptions{.backend = backend, .threads = 1});
    Status s = session.ok() ? (*session)->run(views).status() : session.status();
    if (first.ok()) first = s;
  }
  return first;
}

}  // namespace tessera::fuzz
