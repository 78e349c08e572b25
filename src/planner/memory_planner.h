// Plans where every activation lives inside one arena, sized for the dims' upper bounds.
// Sizes only shrink below the upper bound, so one plan serves every accepted input shape.
#pragma once

#include <span>
#include <vector>

#include "ir/graph.h"
#include "tessera/status.h"

namespace tessera {

inline constexpr int64_t kArenaAlignment = 64;

// A rank-4 activation stored in channels [channel, channel + C) of every pixel of another value
// `into` (C: its own channels), as a channels-last backend lays out the pieces of a channel Concat so
// that the Concat copies nothing. Allowed into a channel Concat that reads the value at that channel,
// and, for a channel Concat whose pieces already lie side by side in one value, into that value.
struct ChannelSlice {
  int into = -1;  // -1: the value is stored on its own
  int64_t channel = 0;
  // The step that writes the value when that comes before its own node (an activation fused into
  // the operator that makes its input), else -1.
  int written_at = -1;
};

struct MemoryPlan {
  // Per value: byte offset in the arena, or -1 (inputs, constants). A channel slice's offset is that
  // of its first element in channels-last order: its holder's offset + 4 bytes per channel before it.
  std::vector<int64_t> offsets;
  int64_t arena_bytes = 0;
  int64_t lower_bound_bytes = 0;  // the largest sum of live activation sizes at any step
  std::vector<ChannelSlice> slices;  // per value, or empty: every value on its own (a model file's plan)
};

// Greedy by size with best-fit offsets (as TFLite's arena planner); element-wise ops write over
// their first input when that input dies there (Add and Mul over the earliest-made dying input).
// With `slices` (per value), values are stored inside others as they say; the holder's bytes then
// stay reserved from the first write of any value inside it to the last read of any.
Result<MemoryPlan> plan_memory(const ir::Graph& graph, std::span<const Shape> upper_shapes,
                               std::vector<ChannelSlice> slices = {});

// Proves that no two activations that are alive at the same step overlap, that all fit, and that
// every channel slice lies where its rule allows.
Status verify_plan(const ir::Graph& graph, const MemoryPlan& plan, std::span<const Shape> upper_shapes);

// Fills `ranges` with the byte ranges [begin, end) of the arena that a run at `shapes` (every
// value's shape) writes: each stored value's bytes from its offset (a channel slice's: all of its
// holder's, whose pixels it interleaves with the other slices'), sorted, overlapping or touching ones
// merged. `stored`, when not empty, says per value whether a run writes it at all (a backend that
// folds a node into another never writes the folded node's output). Reuses the vector's capacity:
// once it has held one range per value, no allocation.
void written_ranges(const MemoryPlan& plan, std::span<const Shape> shapes,
                    std::vector<std::pair<int64_t, int64_t>>& ranges, std::span<const char> stored = {});

// The value whose bytes hold v (v itself unless v is a channel slice), and v's first channel in it.
int storage_root(std::span<const ChannelSlice> slices, int v);
int64_t root_channel(std::span<const ChannelSlice> slices, int v);

// Where the pieces of the channel Concat `node` already lie side by side, in order, in one value:
// that value and the first piece's channel in it; {-1} when they do not.
ChannelSlice pieces_side_by_side(std::span<const ChannelSlice> slices, const ir::Node& node,
                                 std::span<const Shape> upper_shapes);

}  // namespace tessera
