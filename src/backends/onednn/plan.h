// The execution plan of a oneDNN session, decided once from the graph and its memory plan: which
// nodes run as oneDNN primitives, which are folded into the convolution before them as post-ops,
// which convolutions run on the backend's own narrow kernel, which go to the reference kernels,
// and where each value's data lives during a run.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <span>
#include <string>
#include <vector>

#include "runtime/model_data.h"

namespace tessera::onednn {

enum class Role {
  Primitive,     // runs as one or more oneDNN primitives
  Fused,         // folded into a convolution: post-ops of an earlier one, or a Concat it reads piece by piece;
                 // or a term (or partial sum) of a PointwiseSum
  Narrow,        // a convolution with few output channels, on NarrowConv (narrow_conv.h), with its post-ops
  PointwiseSum,  // the last node of a sum of 1x1 convolutions, or of a run of its consecutive nodes (a part), on
                 // PointwiseSum (pointwise_sum.h), with its post-ops
  Reference,     // runs on the reference kernels, on NCHW copies
};

// One post-op of a convolution, from the node `node` that it replaces.
struct PostOp {
  enum class Kind { Eltwise, Binary, Sum, Prelu };
  Kind kind = Kind::Eltwise;
  int node = -1;
  dnnl::algorithm algorithm = dnnl::algorithm::undef;  // Eltwise, Binary
  float alpha = 0.0f;
  float beta = 0.0f;
  int value = -1;  // Binary: the other operand; Prelu: the slopes
};

struct NodePlan {
  Role role = Role::Primitive;
  std::vector<PostOp> post_ops;  // Conv and ConvTranspose (Primitive or Narrow), PointwiseSum
  // A Conv over a Concat that is never stored: the Concat's inputs, each convolved with its slice
  // of the weights, the partial results accumulated into the output (sum post-ops). Empty: the
  // Conv reads its input.
  std::vector<int> pieces;
  std::vector<int> terms;        // PointwiseSum: the 1x1 convolutions it sums, in graph order
  // PointwiseSum of a sum whose nodes do not all run together (run_sum_terms_early): the running sum
  // of the parts before (no bias, no post-ops) that it adds to, or -1; whether it is the last part,
  // which adds the bias of `sum_terms` (every term of the sum) and the post-ops.
  int running = -1;
  bool last_part = true;
  std::vector<int> sum_terms;
  int output = -1;               // the value the node's primitives write: its own output, or the last folded node's
  std::string reason;            // Reference: why oneDNN does not run it
};

// Where a value lives while a run executes.
enum class Home {
  Arena,      // at its planned offset, NHWC when rank 4
  ArenaNchw,  // a graph output nobody reads, written NCHW straight to its planned offset
  Input,      // a graph input, reordered to NHWC into a session buffer
  Output,     // a graph output, computed NHWC into a session buffer and reordered to its offset at the end
  Constant,   // a constant, in the mapped file (NCHW)
};

struct ExecutionPlan {
  std::vector<NodePlan> nodes;  // per node
  std::vector<Home> homes;      // per value
};

ExecutionPlan plan_execution(const ModelData& model, const MemoryPlan& memory);

// Per value, the first and last step (node index; graph outputs: nodes.size(), when they are
// reordered to their offsets) at which a run may write or read its bytes, folded nodes counted at
// their own index and at the step that runs them: the time its slot in the arena is taken.
std::vector<std::pair<int, int>> value_steps(const ir::Graph& graph, const ExecutionPlan& plan);

// Per value, whether a run writes it in the arena: what a step writes (NodePlan::output) and the
// graph outputs reordered to their offsets at the end; not the output of a node folded into another,
// nor a graph input (a session buffer).
std::vector<char> stored_values(const ir::Graph& graph, const ExecutionPlan& plan);

// Removes the post-ops of the last node folded into convolution `lead`; that node runs on its own.
void unfold_last(const ir::Graph& graph, ExecutionPlan& plan, int lead);

// Whether convolution `conv`'s output (NodePlan::output) shares no memory with `pieces`.
bool output_clear_of(const ModelData& model, const MemoryPlan& memory, const ExecutionPlan& plan, int conv,
                     std::span<const int> pieces);

// Makes convolution `conv` read its Concat input again, and the Concat run.
void unsplit(const ir::Graph& graph, ExecutionPlan& plan, int conv);

}  // namespace tessera::onednn
