// Graph rewrites run by the compiler before planning.
#pragma once

#include <functional>

#include "ir/graph.h"

namespace tessera {

// Folds a Mul or Add by a per-channel constant (an inference BatchNormalization) into the Conv before it.
void fold_channel_affine_into_conv(ir::Graph& graph);

// Replaces each channel-Concat input that is itself a channel Concat by that Concat's inputs (dense
// blocks concatenate concatenations), so that every Concat reads the tensors it joins.
void flatten_channel_concats(ir::Graph& graph);

// Folds `Add(Conv(X), x)` into the Conv when x is X, or a piece of a channel Concat X, and the Conv
// reads each output pixel's own input pixel with one tap: that tap's weight from x's channel o to
// output channel o gains 1, and the Add is gone (a residual skip becomes part of the convolution).
void fold_skip_into_conv(ir::Graph& graph);

// Replaces `Conv(Concat(x1, ..., xk))`, when the Concat has no other reader, by
// `Conv(x1) + Conv(x2) + ... + Conv(xk)` over slices of the weights (a convolution is linear in its
// input channels), so that the concatenation is never stored. Each Add takes the running sum as its
// second input, which the memory planner then writes over: a backend can accumulate the next
// partial convolution into it (oneDNN's sum post-op).
void split_conv_over_concat(ir::Graph& graph);

// Runs the terms of each running sum of 1x1 convolutions (split_conv_over_concat's) as early as
// their inputs' other readers allow, in their order: an input then dies at its term instead of
// staying alive until the sum (ESRGAN's global feature fusion sums every block's output). Every
// value stays the same; a sum's terms stay moved only when `keep` says so of the graph with them moved.
void run_sum_terms_early(ir::Graph& graph, const std::function<bool(const ir::Graph&)>& keep);

// Drops values that no node reads or writes (folded constants, aliases), renumbering the rest.
void remove_unused_values(ir::Graph& graph);

}  // namespace tessera
