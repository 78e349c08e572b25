// Floating-point operations of a graph at given shapes, for throughput figures (GFLOP/s).
#pragma once

#include <span>

#include "ir/graph.h"

namespace tessera::ir {

// 2 × multiply-adds of every Conv and ConvTranspose (the ops that dominate image models).
int64_t conv_flops(const Graph& graph, std::span<const Shape> shapes);

}  // namespace tessera::ir
