// Shapes of every value for concrete values of the dynamic dims. Runs at compile time (for every value
// in each dim's range) and in Session::run when the input shape changes, so the success path never
// allocates.
#pragma once

#include <span>

#include "ir/graph.h"
#include "tessera/status.h"

namespace tessera::ir {

// The shape of graph input `input` (index into graph.inputs) when the dims take `dim_values`.
Shape input_shape(const Graph& graph, int input, std::span<const int64_t> dim_values);

// Fills `shapes` (one per value) from the inputs' shapes, node by node.
Status infer_shapes(const Graph& graph, std::span<const Shape> input_shapes, std::span<Shape> shapes);

// Convenience for callers that allocate anyway (compiler, tools): shapes at the given dim values.
Result<std::vector<Shape>> shapes_at(const Graph& graph, std::span<const int64_t> dim_values);

// Whether `node` may write its output over `input`, one of its inputs (element-wise, same shape; the
// planner decides which inputs qualify).
bool can_run_in_place(const Node& node, const Shape& input, const Shape& output);

}  // namespace tessera::ir
