// Graph rewrites run by the compiler before planning.
#pragma once

#include "ir/graph.h"

namespace tessera {

// Folds a Mul or Add by a per-channel constant (an inference BatchNormalization) into the Conv before it.
void fold_channel_affine_into_conv(ir::Graph& graph);

// Drops values that no node reads or writes (folded constants, aliases), renumbering the rest.
void remove_unused_values(ir::Graph& graph);

}  // namespace tessera
