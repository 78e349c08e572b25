// Per op: whether oneDNN computes it as the reference kernels define it, the same way at every
// shape (so that tiles stitch bit for bit), and its primitives at one set of shapes.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/onednn/plan.h"

namespace tessera::onednn {

// Why `node` goes to the reference kernels, or "" when oneDNN runs it; `shapes` at the upper bounds.
std::string reference_reason(const ir::Graph& graph, const ir::Node& node, std::span<const Shape> shapes);

// The post-ops that replace `node` when it follows a convolution (an element-wise op or PRelu
// reading the convolution's result); empty when it has none.
std::vector<PostOp> unary_post_ops(const ir::Graph& graph, int node);

// Primitive attributes that leave the scratchpad to the caller: the session passes one buffer of
// its own to every primitive, so that executing allocates no scratch memory.
dnnl::primitive_attr user_scratchpad();

// A failure to build a primitive that oneDNN itself does not report.
struct OpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A primitive's argument: its descriptor and whose data it is.
struct Operand {
  int arg = 0;  // DNNL_ARG_*
  dnnl::memory::desc md;
  int value = -1;                 // a graph value, at its home
  dnnl_memory_t fixed = nullptr;  // or a memory the session owns (packed weights)
  bool bf16_copy = false;         // or the session's bf16 copy of a convolution's input (OpContext::bf16)
};

struct PrimitiveSpec {
  dnnl::primitive_desc_base pd;
  std::vector<Operand> operands;  // all but the scratchpad
};

// A convolution's implementation and weights layout, chosen once at the upper bound.
struct ConvChoice {
  dnnl::memory::desc weights_md;
  std::string impl;
};

struct OpContext {
  const dnnl::engine& engine;
  const ir::Graph& graph;
  std::span<const Shape> shapes;  // every value's shape for this run
  const ExecutionPlan& plan;
  std::span<const int64_t> offsets;  // the memory plan's arena offset of each value
  // The implementation of each of the node's primitives chosen at the upper bound, which every
  // shape must use (oneDNN lists several for most problems; their results may differ in the last
  // bits). Empty: take oneDNN's first choice.
  std::span<const std::string> impls = {};
  // A convolution's part `part` with its weights packed into `md`, the layout its pinned
  // implementation takes at ctx.shapes when that differs from the layout it takes at the upper
  // bound (brgconv blocks 16, 32 or 64 output channels by the shape and the thread count; the block
  // does not change any sum). Empty: only the upper bound's layout.
  std::function<dnnl::memory(int part, const dnnl::memory::desc& md)> weights_in = {};
  // Convolutions multiply in bf16 (SessionOptions::precision): each reads a bf16 copy of its input,
  // rounded by a reorder just before it, and bf16 weights, and sums and writes in fp32. So do the
  // sums of 1x1 convolutions (PointwiseSum, rounding as they read); every other op, and NarrowConv,
  // stay fp32.
  bool bf16 = false;
};

// The primitives of a convolution: one, or one per piece when it reads a Concat's pieces
// (NodePlan::pieces), each over its slice of the weights and accumulating into the output.
int conv_parts(const NodePlan& plan);

// The implementation oneDNN picks for part `part` of convolution `node` (with its post-ops) at
// ctx.shapes. Throws dnnl::error when it has none.
ConvChoice choose_conv(const OpContext& ctx, int node, int part);

// Reorders part `part` of convolution `node`'s weights into `md`, into memory that oneDNN allocates.
dnnl::memory pack_weights(const OpContext& ctx, int node, int part, const dnnl::memory::desc& md,
                          dnnl::stream& stream);

// The primitives for node `node` (role Primitive) at ctx.shapes, in execution order (with bf16, each
// part of a convolution after the reorder that rounds its input), each held to ctx.impls. `convs`
// and `weights` are a convolution's choices and packed weights, one per part; a part whose
// implementation takes another weights layout at ctx.shapes gets it from ctx.weights_in. Throws
// dnnl::error or OpError.
std::vector<PrimitiveSpec> make_primitives(const OpContext& ctx, int node, std::span<const ConvChoice> convs = {},
                                           std::span<const dnnl::memory> weights = {});

}  // namespace tessera::onednn
