#include "backends/onednn/plan.h"

#include <algorithm>

#include "backends/onednn/narrow_conv.h"
#include "backends/onednn/ops.h"
#include "backends/onednn/pointwise_sum.h"

namespace tessera::onednn {
namespace {

bool is_graph_output(const ir::Graph& g, int v) { return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end(); }

using ir::Uses;
using ir::uses_of;

void place_values(const ModelData& m, const Uses& uses, ExecutionPlan& p) {
  const ir::Graph& g = m.graph;
  p.homes.assign(g.values.size(), Home::Arena);
  for (size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].kind == ir::ValueKind::Constant) p.homes[v] = Home::Constant;
  for (int v : g.inputs) p.homes[v] = Home::Input;
  for (int v : g.outputs) {
    const int producer = uses.producer[v];
    // Copies (DepthToSpace) and reference kernels can write the final NCHW layout directly (and
    // narrow convolutions: plan_execution).
    const bool direct = producer >= 0 && uses.readers[v].empty() && m.upper_shapes[v].rank() == 4 &&
                        (p.nodes[producer].role == Role::Reference || g.nodes[producer].op == ir::Op::DepthToSpace);
    p.homes[v] = direct ? Home::ArenaNchw : Home::Output;
  }
}

// The post-ops that fold node `r`, the only reader of `cur`, into convolution `lead` (which
// writes `cur`, possibly through earlier post-ops); empty when it cannot be folded. The fused
// primitive writes r's output at r's home while `lead` runs, so that home must be free then: it
// is when r's output is a graph output (a session buffer) or shares cur's planned slot (written in
// place). A residual Add folds only when its other operand is complete before `lead`: as a
// binary post-op, or, written over that operand's slot, as a sum post-op, which accumulates into
// the destination (valid when nothing reads the operand between `lead` and r).
std::vector<PostOp> fold(const ModelData& m, const MemoryPlan& memory, const Uses& uses, const ExecutionPlan& p, int lead,
                         int r, int cur) {
  const ir::Graph& g = m.graph;
  const std::vector<int64_t>& offsets = memory.offsets;
  const ir::Node& node = g.nodes[r];
  const int out = node.output;
  const bool dst_free = p.homes[out] == Home::Output || (p.homes[out] == Home::Arena && offsets[out] == offsets[cur]);
  if (node.op != ir::Op::Add) {
    if (!dst_free || node.inputs[0] != cur) return {};
    return unary_post_ops(g, r);
  }
  const int other = node.inputs[0] == cur ? node.inputs[1] : node.inputs[0];
  if (other == cur || !(m.upper_shapes[out] == m.upper_shapes[cur])) return {};
  if (uses.producer[other] > lead) return {};  // not computed yet when `lead` runs
  PostOp op;
  op.node = r;
  if (dst_free) {
    op.kind = PostOp::Kind::Binary;
    op.algorithm = dnnl::algorithm::binary_add;
    op.value = other;
    return {op};
  }
  bool over_other = p.homes[out] == Home::Arena && p.homes[other] == Home::Arena && offsets[out] == offsets[other] &&
                    m.upper_shapes[other] == m.upper_shapes[cur];
  for (int reader : uses.readers[other]) over_other = over_other && (reader == r || reader < lead);
  // The destination holds one operand to accumulate into: a second sum would need another.
  const std::vector<PostOp>& folded = p.nodes[lead].post_ops;
  if (!over_other || std::any_of(folded.begin(), folded.end(), [](const PostOp& f) { return f.kind == PostOp::Kind::Sum; }))
    return {};
  op.kind = PostOp::Kind::Sum;
  return {op};
}

int64_t upper_bytes(const ModelData& m, int v) { return m.upper_shapes[v].element_count() * int64_t{sizeof(float)}; }

// Whether convolution `n` may read its Concat input piece by piece instead (the Concat is then not
// run): the Concat is read by `n` alone, its pieces are activations, and the convolution's
// destination neither holds a skip to accumulate into (a sum post-op; the pieces accumulate there)
// nor overlaps a piece, which the first partial convolution would overwrite before a later one
// reads it.
bool reads_pieces(const ModelData& m, const MemoryPlan& memory, const Uses& uses, const ExecutionPlan& p, int n) {
  const ir::Graph& g = m.graph;
  const ir::Node& node = g.nodes[n];
  const int x = node.inputs[0], concat = uses.producer[x];
  if (node.op != ir::Op::Conv || p.nodes[n].role != Role::Primitive || concat < 0 ||
      p.nodes[concat].role != Role::Primitive || !ir::is_channel_concat(g.nodes[concat]) || uses.readers[x].size() != 1 ||
      is_graph_output(g, x) || std::get<ir::ConvAttrs>(node.attrs).group != 1)
    return false;
  const std::vector<PostOp>& ops = p.nodes[n].post_ops;
  if (std::any_of(ops.begin(), ops.end(), [](const PostOp& op) { return op.kind == PostOp::Kind::Sum; })) return false;
  for (int piece : g.nodes[concat].inputs)
    if (p.homes[piece] != Home::Arena && p.homes[piece] != Home::Input) return false;
  return output_clear_of(m, memory, p, n, g.nodes[concat].inputs);
}

// The nodes of a sum of 1x1 convolutions: the convolutions and the Adds between them.
struct Sum {
  std::vector<int> terms, adds;
};

// Whether arena values a and b (NHWC or NCHW) overlap at the upper bound.
bool overlap(const ModelData& m, const MemoryPlan& memory, const ExecutionPlan& p, int a, int b) {
  auto in_arena = [&](int v) { return p.homes[v] == Home::Arena || p.homes[v] == Home::ArenaNchw; };
  const int64_t x = memory.offsets[a], y = memory.offsets[b];
  return in_arena(a) && in_arena(b) && x < y + upper_bytes(m, b) && y < x + upper_bytes(m, a);
}

// Makes the sum `sum` that ends at the Add `n` run on PointwiseSum, with the unary ops after it
// folded in, when its inputs are NHWC. Each run of its nodes that are consecutive in the graph
// (nothing else runs in between, so its inputs are still whole) is one part, run at its last node,
// whose output overlaps none of the part's inputs; a part after the first adds to the running sum
// that the one before wrote, over it or elsewhere.
void plan_pointwise_sum(const ModelData& m, const MemoryPlan& memory, const Uses& uses, ExecutionPlan& p, int n,
                        Sum sum) {
  const ir::Graph& g = m.graph;
  std::vector<int> nodes = sum.adds;
  nodes.insert(nodes.end(), sum.terms.begin(), sum.terms.end());
  std::sort(nodes.begin(), nodes.end());
  std::sort(sum.terms.begin(), sum.terms.end());
  if (nodes.back() != n) return;
  struct Part {
    std::vector<int> nodes, terms;
  };
  std::vector<Part> parts;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i == 0 || nodes[i] != nodes[i - 1] + 1) parts.emplace_back();
    parts.back().nodes.push_back(nodes[i]);
    if (std::binary_search(sum.terms.begin(), sum.terms.end(), nodes[i])) parts.back().terms.push_back(nodes[i]);
  }
  int running = -1;
  for (const Part& part : parts) {
    const int y = g.nodes[part.nodes.back()].output;
    if (!PointwiseSum::applies(g, part.terms, {})) return;
    for (int t : part.terms) {
      const int x = g.nodes[t].inputs[0];
      if ((p.homes[x] != Home::Arena && p.homes[x] != Home::Input) || overlap(m, memory, p, x, y)) return;
    }
    if (p.homes[y] != Home::Arena && (y != g.nodes[n].output || p.homes[y] != Home::Output)) return;
    if (running >= 0) {
      const bool read_here = std::any_of(part.nodes.begin(), part.nodes.end(), [&](int q) {
        return std::find(g.nodes[q].inputs.begin(), g.nodes[q].inputs.end(), running) != g.nodes[q].inputs.end();
      });
      const bool over = p.homes[running] == Home::Arena && memory.offsets[running] == memory.offsets[y];
      if (!read_here || (!over && overlap(m, memory, p, running, y))) return;
    }
    running = y;
  }
  NodePlan& root = p.nodes[n];
  int cur = g.nodes[n].output;
  const std::vector<int>& last_terms = parts.back().terms;
  while (!is_graph_output(g, cur) && uses.readers[cur].size() == 1) {
    const int r = uses.readers[cur][0];
    if (p.nodes[r].role != Role::Primitive || g.nodes[r].op == ir::Op::Add) break;
    std::vector<PostOp> ops = fold(m, memory, uses, p, n, r, cur);
    ops.insert(ops.begin(), root.post_ops.begin(), root.post_ops.end());
    if (ops.size() == root.post_ops.size() || !PointwiseSum::applies(g, last_terms, ops)) break;
    root.post_ops = std::move(ops);
    p.nodes[r].role = Role::Fused;
    cur = g.nodes[r].output;
  }
  for (int q : nodes) p.nodes[q].role = Role::Fused;
  running = -1;
  for (const Part& part : parts) {
    NodePlan& plan = p.nodes[part.nodes.back()];
    plan.role = Role::PointwiseSum;
    plan.terms = part.terms;
    plan.running = running;
    plan.last_part = &part == &parts.back();
    plan.output = plan.last_part ? cur : g.nodes[part.nodes.back()].output;
    if (plan.last_part && parts.size() > 1) plan.sum_terms = sum.terms;
    running = plan.output;
  }
}

// Sums of 1x1 convolutions (what the compiler makes of a 1x1 convolution over a Concat) go to
// PointwiseSum, the widest sum first; a sum that cannot may hold smaller ones that can.
void plan_pointwise_sums(const ModelData& m, const MemoryPlan& memory, const Uses& uses, ExecutionPlan& p) {
  const ir::Graph& g = m.graph;
  std::vector<Sum> sums(g.nodes.size());  // per Add whose operands are such convolutions or sums
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const ir::Node& node = g.nodes[n];
    if (node.op != ir::Op::Add || p.nodes[n].role != Role::Primitive || node.inputs[0] == node.inputs[1]) continue;
    Sum sum;
    for (int v : node.inputs) {
      const int q = uses.producer[v];
      if (q < 0 || uses.readers[v].size() != 1 || is_graph_output(g, v) || p.nodes[q].role != Role::Primitive ||
          !(m.upper_shapes[v] == m.upper_shapes[node.output])) {
        sum.terms.clear();
        break;
      }
      if (g.nodes[q].op == ir::Op::Conv) {
        sum.terms.push_back(q);
      } else if (!sums[q].terms.empty()) {
        sum.terms.insert(sum.terms.end(), sums[q].terms.begin(), sums[q].terms.end());
        sum.adds.insert(sum.adds.end(), sums[q].adds.begin(), sums[q].adds.end());
      } else {
        sum.terms.clear();
        break;
      }
    }
    if (sum.terms.size() < 2) continue;
    sum.adds.push_back(static_cast<int>(n));
    sums[n] = std::move(sum);
  }
  for (int n = static_cast<int>(g.nodes.size()) - 1; n >= 0; --n)
    if (!sums[n].terms.empty() && p.nodes[n].role == Role::Primitive) plan_pointwise_sum(m, memory, uses, p, n, sums[n]);
}

}  // namespace

bool output_clear_of(const ModelData& m, const MemoryPlan& memory, const ExecutionPlan& p, int conv,
                     std::span<const int> pieces) {
  return std::none_of(pieces.begin(), pieces.end(),
                      [&](int piece) { return overlap(m, memory, p, piece, p.nodes[conv].output); });
}

ExecutionPlan plan_execution(const ModelData& m, const MemoryPlan& memory) {
  const ir::Graph& g = m.graph;
  ExecutionPlan p;
  p.nodes.resize(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    p.nodes[n].output = g.nodes[n].output;
    p.nodes[n].reason = reference_reason(g, g.nodes[n], m.upper_shapes);
    if (!p.nodes[n].reason.empty()) p.nodes[n].role = Role::Reference;
  }
  Uses uses = uses_of(g);
  place_values(m, uses, p);
  plan_pointwise_sums(m, memory, uses, p);

  for (size_t lead = 0; lead < g.nodes.size(); ++lead) {
    const ir::Op op = g.nodes[lead].op;
    if ((op != ir::Op::Conv && op != ir::Op::ConvTranspose) || p.nodes[lead].role != Role::Primitive) continue;
    int cur = g.nodes[lead].output;
    // Follow the chain of single readers: conv -> relu -> add -> ...
    while (!is_graph_output(g, cur) && uses.readers[cur].size() == 1) {
      const int r = uses.readers[cur][0];
      if (p.nodes[r].role != Role::Primitive) break;
      std::vector<PostOp> ops = fold(m, memory, uses, p, static_cast<int>(lead), r, cur);
      if (ops.empty()) break;
      p.nodes[lead].post_ops.insert(p.nodes[lead].post_ops.end(), ops.begin(), ops.end());
      p.nodes[r].role = Role::Fused;
      cur = g.nodes[r].output;
    }
    p.nodes[lead].output = cur;
    if (!NarrowConv::applies(g, static_cast<int>(lead), p.nodes[lead].post_ops)) continue;
    p.nodes[lead].role = Role::Narrow;
    // The kernel writes a graph output that nothing reads NCHW, straight to its offset: no
    // session buffer and no reorder. Not with a Sum post-op (it would read the output NHWC), nor
    // over the input: a folded activation's output may reuse the slot of the input, which dies
    // at the convolution.
    const std::vector<PostOp>& ops = p.nodes[lead].post_ops;
    if (p.homes[cur] != Home::Output || !uses.readers[cur].empty() ||
        std::any_of(ops.begin(), ops.end(), [](const PostOp& op) { return op.kind == PostOp::Kind::Sum; }))
      continue;
    p.homes[cur] = Home::ArenaNchw;
    if (overlap(m, memory, p, g.nodes[lead].inputs[0], cur)) p.homes[cur] = Home::Output;
  }
  // A Concat that only feeds a convolution costs a copy of every piece; the convolution reads the
  // pieces instead.
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (!reads_pieces(m, memory, uses, p, static_cast<int>(n))) continue;
    const int concat = uses.producer[g.nodes[n].inputs[0]];
    p.nodes[n].pieces = g.nodes[concat].inputs;
    p.nodes[concat].role = Role::Fused;
  }
  return p;
}

std::vector<std::pair<int, int>> value_steps(const ir::Graph& g, const ExecutionPlan& p) {
  const int end = static_cast<int>(g.nodes.size());
  std::vector<std::pair<int, int>> steps(g.values.size(), {end, -1});
  auto at = [&](int v, int step) {
    steps[v].first = std::min(steps[v].first, step);
    steps[v].second = std::max(steps[v].second, step);
  };
  for (int n = 0; n < end; ++n) {
    const ir::Node& node = g.nodes[n];
    for (int v : node.inputs) at(v, n);
    at(node.output, n);
    if (p.nodes[n].role == Role::Fused) continue;
    // What the step that runs n reads and writes for the nodes folded into it.
    at(p.nodes[n].output, n);
    for (int v : p.nodes[n].pieces) at(v, n);
    for (const PostOp& op : p.nodes[n].post_ops)
      if (op.value >= 0) at(op.value, n);
    for (int t : p.nodes[n].terms)
      for (int v : g.nodes[t].inputs) at(v, n);
  }
  for (int v : g.outputs) at(v, end);
  return steps;
}

std::vector<char> stored_values(const ir::Graph& g, const ExecutionPlan& p) {
  std::vector<char> stored(g.values.size(), 0);
  auto in_arena = [&](int v) { return p.homes[v] == Home::Arena || p.homes[v] == Home::ArenaNchw; };
  for (const NodePlan& np : p.nodes)
    if (np.role != Role::Fused && in_arena(np.output)) stored[np.output] = 1;
  for (int v : g.outputs)
    if (p.homes[v] == Home::Output) stored[v] = 1;
  return stored;
}

void unfold_last(const ir::Graph& g, ExecutionPlan& p, int lead) {
  std::vector<PostOp>& ops = p.nodes[lead].post_ops;
  const int last = ops.back().node;
  std::erase_if(ops, [last](const PostOp& op) { return op.node == last; });
  p.nodes[last].role = Role::Primitive;
  p.nodes[lead].output = ops.empty() ? g.nodes[lead].output : g.nodes[ops.back().node].output;
}

void unsplit(const ir::Graph& g, ExecutionPlan& p, int conv) {
  p.nodes[conv].pieces.clear();
  const int x = g.nodes[conv].inputs[0];
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (g.nodes[n].output == x) p.nodes[n].role = Role::Primitive;
}

}  // namespace tessera::onednn
