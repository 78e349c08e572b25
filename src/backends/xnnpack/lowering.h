// How the XNNPACK backend runs each node of a model, decided once per session: by an XNNPACK operator,
// fused into the XNNPACK operator before it, by one of the backend's own NHWC kernels, or by the
// reference kernel on NCHW copies; and the pixel stride of what each step reads and writes (a value
// stored as a channel slice of a Concat has the Concat's).
#pragma once

#include <limits>
#include <span>
#include <vector>

#include "runtime/model_data.h"

namespace tessera::xnnpack {

enum class Kind { Xnnpack, Fused, Concat, Resize, Fallback };

struct NodePlan {
  Kind kind = Kind::Fallback;
  // The value this node's step writes: its own output, or that of the Relu or Clip fused into it
  // (whose bounds are then output_min and output_max).
  int output = -1;
  float output_min = -std::numeric_limits<float>::infinity();
  float output_max = std::numeric_limits<float>::infinity();
  // Conv only: > 0 when its output channels are reordered at creation so that the CRD DepthToSpace of
  // this block size that reads them runs as XNNPACK's DCR one.
  int64_t crd_block = 0;
  // Floats from one pixel to the next in the first input and in the output (rank-4 values).
  int64_t input_stride = 0;
  int64_t output_stride = 0;
};

// One plan per node, in graph order, for the session's memory plan.
std::vector<NodePlan> lower(const ModelData& model, const MemoryPlan& memory);

// How the node runs before any fusion.
Kind base_kind(const ModelData& model, const ir::Node& node);

using ir::Uses;
using ir::uses_of;

// The step of the XNNPACK operator that node `act` (a Relu or Clip) may be fused into, or -1: the
// operator makes act's only input, which nothing else reads. `kinds` are the nodes' base kinds.
int fusion_target(const ModelData& model, std::span<const Kind> kinds, const Uses& uses, int act);

// Floats from one pixel of rank-4 value v to the next: the channels of the value that holds it.
inline int64_t pixel_stride(const ModelData& model, const MemoryPlan& memory, int v) {
  return model.upper_shapes[storage_root(memory.slices, v)][1];
}

inline bool is_constant(const ModelData& model, int v) { return model.graph.values[v].kind == ir::ValueKind::Constant; }

// An input or activation of rank 4: stored in NHWC.
inline bool rank4_activation(const ModelData& model, int v) {
  return !is_constant(model, v) && model.upper_shapes[v].rank() == 4;
}

// A graph output whose NHWC form differs from its NCHW one: the backend keeps its NHWC form in a
// buffer of its own and transposes it into the output's arena slot at the end of each run.
bool output_in_own_buffer(const ModelData& model, int v);

}  // namespace tessera::xnnpack
