// Binding the user's --dim ranges to the graph's dynamic dims, and proving that every value in each
// range gives a valid graph (branches that are added or concatenated agree, no empty tensors).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "tessera/compiler.h"

namespace tessera {

// Sets min/max/multiple_of of every dynamic dim; every dim must be bound, every binding used.
Status bind_dims(ir::Graph& graph, const std::vector<DimInfo>& bindings);

// Checks every accepted value of every dim (the others at their upper bound). On failure, the message
// names the value, the node and a range that would work.
Status check_dims(const ir::Graph& graph);

}  // namespace tessera
