// Plans where every activation lives inside one arena, sized for the dims' upper bounds.
// Sizes only shrink below the upper bound, so one plan serves every accepted input shape.
#pragma once

#include <span>
#include <vector>

#include "ir/graph.h"
#include "tessera/status.h"

namespace tessera {

inline constexpr int64_t kArenaAlignment = 64;

struct MemoryPlan {
  std::vector<int64_t> offsets;  // per value: byte offset in the arena, or -1 (inputs, constants)
  int64_t arena_bytes = 0;
  int64_t lower_bound_bytes = 0;  // the largest sum of live activation sizes at any step
};

// Greedy by size with best-fit offsets (as TFLite's arena planner); element-wise ops write over
// their first input when that input dies there (Add and Mul over the earliest-made dying input).
Result<MemoryPlan> plan_memory(const ir::Graph& graph, std::span<const Shape> upper_shapes);

// Proves that no two activations that are alive at the same step overlap, and that all fit.
Status verify_plan(const ir::Graph& graph, const MemoryPlan& plan, std::span<const Shape> upper_shapes);

}  // namespace tessera
