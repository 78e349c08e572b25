#include <fmt/format.h>
#include <sys/resource.h>

#include <cctype>
#include <filesystem>

#include "commands.h"

namespace tessera::cli {

bool is_npy_path(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".npy";
}

bool above_max(const Model& model, const Shape& shape) {
  const ModelInfo& info = model.info();
  const std::vector<std::string>& axes = info.inputs[0].axes;
  for (int axis = 0; axis < shape.rank() && axis < static_cast<int>(axes.size()); ++axis)
    for (const DimInfo& d : info.dims)
      if (axes[axis] == d.name && shape[axis] > d.max) return true;
  return false;
}

std::string short_hash(const ModelInfo& info) {
  const std::string prefix = "sha256:";
  return info.content_hash.empty() ? "without hash" : info.content_hash.substr(0, prefix.size() + 12);
}

std::string human_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string above_default_memory(int64_t estimated_bytes, int64_t budget) {
  return fmt::format(
      " (planned {}, above the default --memory {}, in which this model's halo leaves no tiles that recompute "
      "under 4x the pixels; give --memory to set the limit)",
      human_bytes(estimated_bytes), human_bytes(budget));
}

int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t{usage.ru_maxrss} * 1024;
}

}  // namespace tessera::cli
