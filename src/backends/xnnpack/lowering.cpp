// Lowering: the kind of step per node, then two rewrites that save work: Relu/Clip fused into the
// XNNPACK operator before them, and CRD DepthToSpace turned into DCR by reordering a conv's outputs.
#include "backends/xnnpack/lowering.h"

#include <algorithm>
#include <variant>

#include "backends/xnnpack/common.h"
#include "backends/xnnpack/concat.h"
#include "backends/xnnpack/xnnpack_ops.h"

namespace tessera::xnnpack {
namespace {

bool is_graph_output(const ir::Graph& g, int v) {
  return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

// The bounds of a Relu or Clip, as an XNNPACK output clamp.
void activation_bounds(const ir::Node& act, float* lo, float* hi) {
  if (act.op == ir::Op::Relu) {
    *lo = 0.0f;
    return;
  }
  const auto& a = std::get<ir::ClipAttrs>(act.attrs);
  *lo = a.min;
  *hi = a.max;
}

}  // namespace

Kind base_kind(const ModelData& model, const ir::Node& node) {
  if (xnnpack_supports(model, node)) return Kind::Xnnpack;
  if (node.op == ir::Op::Concat && concat_supported(model, node)) return Kind::Concat;
  if (node.op == ir::Op::Resize && rank4_activation(model, node.inputs[0])) return Kind::Resize;
  return Kind::Fallback;
}

int fusion_target(const ModelData& model, std::span<const Kind> kinds, const Uses& uses, int act) {
  const ir::Graph& g = model.graph;
  const ir::Node& a = g.nodes[act];
  if ((a.op != ir::Op::Relu && a.op != ir::Op::Clip) || kinds[act] != Kind::Xnnpack) return -1;
  const int u = a.inputs[0], producer = uses.producer[u];
  if (producer < 0 || kinds[producer] != Kind::Xnnpack || !takes_output_clamp(g.nodes[producer].op) ||
      uses.readers[u].size() != 1 || is_graph_output(g, u))
    return -1;
  return producer;
}

bool output_in_own_buffer(const ModelData& model, int v) {
  return is_graph_output(model.graph, v) && nhwc_differs(model.upper_shapes[v]);
}

std::vector<NodePlan> lower(const ModelData& model, const MemoryPlan& memory) {
  const ir::Graph& g = model.graph;
  std::vector<NodePlan> plans(g.nodes.size());
  std::vector<Kind> kinds(g.nodes.size());
  const Uses uses = uses_of(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    plans[i].kind = kinds[i] = base_kind(model, g.nodes[i]);
    plans[i].output = g.nodes[i].output;
  }
  // A value read by exactly one node and not a graph output: the producer may skip writing it.
  auto private_to_one_reader = [&](int v) { return uses.readers[v].size() == 1 && !is_graph_output(g, v); };

  // Fuse a Relu or Clip into the XNNPACK operator that produces its only input. The producer then
  // writes where the activation's output lives, which must be free when the producer runs: the
  // same arena slot (the plan put the activation in place, as it does for an input that dies there),
  // the output's own buffer, or a channel slice that the plan has alive from the producer's step.
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const int p = fusion_target(model, kinds, uses, static_cast<int>(i));
    if (p < 0 || plans[p].kind != Kind::Xnnpack || plans[p].output != g.nodes[p].output) continue;
    const ir::Node& act = g.nodes[i];
    const int u = act.inputs[0];
    const bool slice_written_there = !memory.slices.empty() && memory.slices[act.output].written_at == p;
    if (memory.offsets[act.output] != memory.offsets[u] && !output_in_own_buffer(model, act.output) &&
        !slice_written_there)
      continue;
    activation_bounds(act, &plans[p].output_min, &plans[p].output_max);
    plans[p].output = act.output;
    plans[i].kind = Kind::Fused;
  }

  // A CRD DepthToSpace whose input comes only from a (non-grouped) Conv: reorder the conv's output
  // channels so that the DepthToSpace is DCR, the order XNNPACK implements.
  std::vector<int> writer(g.values.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (plans[i].kind != Kind::Fused) writer[plans[i].output] = static_cast<int>(i);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& d2s = g.nodes[i];
    if (d2s.op != ir::Op::DepthToSpace || plans[i].kind != Kind::Fallback) continue;
    const auto& a = std::get<ir::DepthToSpaceAttrs>(d2s.attrs);
    const int u = d2s.inputs[0], w = writer[u];
    if (a.mode != ir::DepthToSpaceMode::CRD || a.block < 2 || w < 0 || plans[w].kind != Kind::Xnnpack ||
        g.nodes[w].op != ir::Op::Conv || std::get<ir::ConvAttrs>(g.nodes[w].attrs).group != 1 ||
        !private_to_one_reader(u))
      continue;
    plans[w].crd_block = a.block;
    plans[i].kind = Kind::Xnnpack;
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (const int x = g.nodes[i].inputs[0]; rank4_activation(model, x))
      plans[i].input_stride = pixel_stride(model, memory, x);
    if (const int y = plans[i].output; model.upper_shapes[y].rank() == 4)
      plans[i].output_stride = pixel_stride(model, memory, y);
  }
  return plans;
}

}  // namespace tessera::xnnpack
