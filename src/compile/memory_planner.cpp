#include "compile/memory_planner.h"

#include <algorithm>
#include <numeric>

#include "ir/shape_inference.h"

namespace tessera {

namespace {

int64_t aligned_bytes(const Shape& s) {
  return (s.element_count() * static_cast<int64_t>(sizeof(float)) + kArenaAlignment - 1) / kArenaAlignment *
         kArenaAlignment;
}

// Steps at which each value is alive: from the node that makes it to its last reader
// (graph outputs live to the end). Values not made by a node have first = -1.
struct Lifetime {
  int first = -1;
  int last = -1;
};

std::vector<Lifetime> lifetimes(const ir::Graph& graph) {
  std::vector<Lifetime> life(graph.values.size());
  int steps = static_cast<int>(graph.nodes.size());
  for (int step = 0; step < steps; ++step) {
    const ir::Node& node = graph.nodes[step];
    life[node.output] = {step, step};
    for (int in : node.inputs) life[in].last = std::max(life[in].last, step);
  }
  for (int out : graph.outputs) life[out].last = steps;
  return life;
}

// The pieces of a channel Concat that one node alone reads stay alive until that node, so that a
// backend may read the pieces in place of the joined tensor (oneDNN convolves them one by one and
// sums) without the node's output landing on a piece. Planning only: a plan made without this
// still verifies.
void keep_concat_pieces(const ir::Graph& graph, std::vector<Lifetime>& life) {
  std::vector<int> readers(graph.values.size(), 0), reader(graph.values.size(), -1);
  for (size_t step = 0; step < graph.nodes.size(); ++step)
    for (int in : graph.nodes[step].inputs) ++readers[in], reader[in] = static_cast<int>(step);
  for (const ir::Node& node : graph.nodes) {
    if (!ir::is_channel_concat(node) || readers[node.output] != 1) continue;
    for (int piece : node.inputs)
      if (graph.values[piece].kind == ir::ValueKind::Activation)
        life[piece].last = std::max(life[piece].last, reader[node.output]);
  }
}

// The inputs node `step` may write its output over: activations that die at this step with the
// output's shape; the first input of an element-wise op, either input of a commutative one.
std::vector<int> in_place_candidates(const ir::Graph& graph, std::span<const Shape> shapes,
                                     const std::vector<Lifetime>& life, size_t step) {
  const ir::Node& node = graph.nodes[step];
  const bool commutative = node.op == ir::Op::Add || node.op == ir::Op::Mul;
  std::vector<int> candidates;
  for (size_t i = 0; i < node.inputs.size() && (i == 0 || commutative); ++i) {
    int in = node.inputs[i];
    bool activation = graph.values[in].kind == ir::ValueKind::Activation;
    bool dies_here = life[in].last == static_cast<int>(step);
    if (activation && dies_here && ir::can_run_in_place(node, shapes[in], shapes[node.output])) candidates.push_back(in);
  }
  return candidates;
}

// The input each node (step) writes its output over, or -1: of the candidates, the one made
// earliest. For `conv + skip` that is the skip, so that a backend can accumulate the convolution
// into it instead of running the Add on its own.
std::vector<int> in_place_steps(const ir::Graph& graph, std::span<const Shape> shapes,
                                const std::vector<Lifetime>& life) {
  std::vector<int> in_place(graph.nodes.size(), -1);
  for (size_t step = 0; step < graph.nodes.size(); ++step)
    for (int in : in_place_candidates(graph, shapes, life, step))
      if (in_place[step] < 0 || life[in].first < life[in_place[step]].first) in_place[step] = in;
  return in_place;
}

// A block of arena shared by a value and the values written in place over it.
struct Block {
  int64_t size = 0;
  Lifetime life;
  int64_t offset = -1;
};

}  // namespace

Result<MemoryPlan> plan_memory(const ir::Graph& graph, std::span<const Shape> upper_shapes) {
  std::vector<Lifetime> life = lifetimes(graph);
  keep_concat_pieces(graph, life);
  std::vector<int> in_place = in_place_steps(graph, upper_shapes, life);

  std::vector<int> block_of(graph.values.size(), -1);
  std::vector<Block> blocks;
  for (size_t step = 0; step < graph.nodes.size(); ++step) {
    int out = graph.nodes[step].output;
    if (in_place[step] >= 0) {
      block_of[out] = block_of[in_place[step]];
    } else {
      block_of[out] = static_cast<int>(blocks.size());
      blocks.push_back({0, life[out], -1});
    }
    Block& b = blocks[block_of[out]];
    b.size = std::max(b.size, aligned_bytes(upper_shapes[out]));
    b.life.last = std::max(b.life.last, life[out].last);
  }

  std::vector<int> order(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return blocks[a].size > blocks[b].size; });

  MemoryPlan plan;
  std::vector<const Block*> placed;
  for (int index : order) {
    Block& block = blocks[index];
    std::vector<const Block*> overlapping;
    for (const Block* p : placed)
      if (p->life.first <= block.life.last && block.life.first <= p->life.last) overlapping.push_back(p);
    std::sort(overlapping.begin(), overlapping.end(), [](const Block* a, const Block* b) { return a->offset < b->offset; });
    // Best fit: the smallest gap between live blocks that holds this one; else after the last.
    int64_t best = -1, best_gap = INT64_MAX, cursor = 0;
    for (const Block* p : overlapping) {
      int64_t gap = p->offset - cursor;
      if (gap >= block.size && gap < best_gap) {
        best = cursor;
        best_gap = gap;
      }
      cursor = std::max(cursor, p->offset + p->size);
    }
    block.offset = best >= 0 ? best : cursor;
    plan.arena_bytes = std::max(plan.arena_bytes, block.offset + block.size);
    placed.push_back(&block);
  }

  plan.offsets.assign(graph.values.size(), -1);
  for (size_t v = 0; v < graph.values.size(); ++v)
    if (block_of[v] >= 0) plan.offsets[v] = blocks[block_of[v]].offset;
  for (int step = 0; step < static_cast<int>(graph.nodes.size()); ++step) {
    int64_t live = 0;
    for (const Block& b : blocks)
      if (b.life.first <= step && step <= b.life.last) live += b.size;
    plan.lower_bound_bytes = std::max(plan.lower_bound_bytes, live);
  }
  TESSERA_RETURN_IF_ERROR(verify_plan(graph, plan, upper_shapes));
  return plan;
}

Status verify_plan(const ir::Graph& graph, const MemoryPlan& plan, std::span<const Shape> upper_shapes) {
  TESSERA_CHECK(plan.offsets.size() == graph.values.size(), Error::InvalidModel, "the memory plan has {} entries for {} values",
                plan.offsets.size(), graph.values.size());
  std::vector<Lifetime> life = lifetimes(graph);
  // output -> the inputs it may overwrite (any candidate: files planned with another choice verify too)
  std::vector<std::vector<int>> written_over(graph.values.size());
  for (size_t step = 0; step < graph.nodes.size(); ++step)
    written_over[graph.nodes[step].output] = in_place_candidates(graph, upper_shapes, life, step);
  auto overwrites = [&](int out, int in) {
    return std::find(written_over[out].begin(), written_over[out].end(), in) != written_over[out].end();
  };

  std::vector<int> activations;
  for (const ir::Node& node : graph.nodes) {
    int v = node.output;
    int64_t offset = plan.offsets[v], size = aligned_bytes(upper_shapes[v]);
    TESSERA_CHECK(offset >= 0 && offset % kArenaAlignment == 0 && offset + size <= plan.arena_bytes, Error::InvalidModel,
                  "value '{}' ({} bytes at offset {}) does not fit the {}-byte arena", graph.values[v].name, size,
                  offset, plan.arena_bytes);
    activations.push_back(v);
  }
  for (size_t i = 0; i < activations.size(); ++i) {
    for (size_t j = i + 1; j < activations.size(); ++j) {
      int a = activations[i], b = activations[j];
      bool live_together = life[a].first <= life[b].last && life[b].first <= life[a].last;
      if (!live_together) continue;
      // A value written over its input shares the input's bytes by design, at the one step where both meet.
      if ((overwrites(b, a) && life[a].last == life[b].first) || (overwrites(a, b) && life[b].last == life[a].first))
        continue;
      int64_t a0 = plan.offsets[a], a1 = a0 + aligned_bytes(upper_shapes[a]);
      int64_t b0 = plan.offsets[b], b1 = b0 + aligned_bytes(upper_shapes[b]);
      TESSERA_CHECK(a1 <= b0 || b1 <= a0, Error::InvalidModel,
                    "memory plan overlap: '{}' [{}, {}) and '{}' [{}, {}) are alive at the same time",
                    graph.values[a].name, a0, a1, graph.values[b].name, b0, b1);
    }
  }
  return {};
}

}  // namespace tessera
