// How the XNNPACK backend runs each node of a model, decided once per session: by an XNNPACK operator,
// fused into the XNNPACK operator before it, by one of the backend's own NHWC kernels, or by the
// reference kernel on NCHW copies.
#pragma once

#include <limits>
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
};

// One plan per node, in graph order.
std::vector<NodePlan> lower(const ModelData& model);

inline bool is_constant(const ModelData& model, int v) { return model.graph.values[v].kind == ir::ValueKind::Constant; }

// An input or activation of rank 4: stored in NHWC.
inline bool rank4_activation(const ModelData& model, int v) {
  return !is_constant(model, v) && model.upper_shapes[v].rank() == 4;
}

// A graph output whose NHWC form differs from its NCHW one: the backend keeps its NHWC form in a
// buffer of its own and transposes it into the output's arena slot at the end of each run.
bool output_in_own_buffer(const ModelData& model, int v);

}  // namespace tessera::xnnpack
