// The one semantic check of a graph, whoever made it: an importer, the compiler's passes, or a .tsr
// file from anywhere. The compiler refuses what Model::load would refuse, with the same message, and
// no kernel of any backend sees a graph that fails it.
#pragma once

#include <span>

#include "ir/graph.h"
#include "tessera/status.h"

namespace tessera::ir {

// The largest dim range bound, kernel, stride, dilation, pad or group a model may use.
inline constexpr int64_t kMaxAttribute = int64_t{1} << 24;
// The most memory one model's activations may be planned for (its arena at the dims' upper bounds).
inline constexpr int64_t kMaxArenaBytes = int64_t{1} << 40;

// What does not depend on the dims' ranges: values and nodes refer to each other in order (every
// value computed once, before it is read), each node has its op's input count and attribute kind
// (ops.inc) with attributes in range, and weights are constants matching the kernel and channels.
Status validate_nodes(const Graph& graph);

// validate_nodes, the dims' ranges, and the shapes at both ends of every dim's accepted values:
// shape inference succeeds there and every value fits in kMaxArenaBytes.
Status validate(const Graph& graph);

// shapes_at, with a failure's message starting "at height=.., width=..: ".
Result<std::vector<Shape>> shapes_at_dims(const Graph& graph, std::span<const int64_t> dim_values);

// Every value of `shapes` (the graph's shapes with the dims at `dim_values`) holds at least one
// element and fits in kMaxArenaBytes.
Status check_value_sizes(const Graph& graph, std::span<const Shape> shapes, std::span<const int64_t> dim_values);

// An arena of `bytes` is within kMaxArenaBytes.
Status check_arena_bytes(const Graph& graph, int64_t bytes);

// "height=512, width=768": dim values for messages.
std::string dims_text(const Graph& graph, std::span<const int64_t> dim_values);

}  // namespace tessera::ir
