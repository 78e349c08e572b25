// What a session really holds resident at a window shape: the arena is reserved at the model's
// upper bound, and only the pages that a run at a smaller shape writes ever become resident.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "core/check.h"
#include "ir/shape_inference.h"
#include "planner/memory_planner.h"
#include "runtime/backend.h"
#include "runtime/model_data.h"
#include "tessera/tiling.h"
#include "tiling/memory_estimate.h"

namespace tessera::tiling {

namespace {

int64_t page_size() {
  const long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? p : 4096;
}

}  // namespace

Result<int64_t> arena_resident_bytes(const Model& model, const std::string& backend, int64_t height, int64_t width) {
  TESSERA_ASSIGN_OR_RETURN(MemoryPlan plan, backend_memory_plan(backend == "auto" ? auto_backend() : backend, model.data()));
  return arena_resident_bytes(model.data(), plan, height, width);
}

Result<int64_t> arena_resident_bytes(const ModelData& d, const MemoryPlan& plan, int64_t height, int64_t width) {
  const ir::Graph& g = d.graph;
  const auto& axes = g.values[g.inputs[0]].input_dims;
  TESSERA_CHECK(axes.size() == 4 && axes[2].dynamic >= 0 && axes[3].dynamic >= 0, Error::Unsupported,
                "the model's input has no dynamic height and width");
  std::vector<int64_t> dim_values = g.upper_dim_values();
  dim_values[axes[2].dynamic] = height;
  dim_values[axes[3].dynamic] = width;
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> shapes, ir::shapes_at(g, dim_values));

  // Small pages under what a run at this shape writes: the arena lies on huge pages only where it
  // writes whole ones (session.cpp advise_huge_pages), so they hold nothing more.
  const int64_t reserved = plan.arena_bytes + kArenaAlignment;
  const int64_t page = page_size();
  std::vector<std::pair<int64_t, int64_t>> ranges;
  written_ranges(plan, shapes, ranges);
  int64_t count = 0, end = 0;
  for (auto [begin, last] : ranges) {
    const int64_t first = std::max(begin / page, end);
    end = std::max(end, (last + page - 1) / page);
    if (end > first) count += end - first;
  }
  return std::min(count * page, (reserved + page - 1) / page * page);
}

int64_t process_resident_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * page_size();
}

}  // namespace tessera::tiling
