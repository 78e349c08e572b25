#include "planner/memory_planner.h"

#include <algorithm>
#include <numeric>

#include "core/check.h"
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

// A channel slice written before its node (by the operator its activation is fused into) is alive
// from that write.
std::vector<Lifetime> lifetimes(const ir::Graph& graph, const std::vector<ChannelSlice>& slices) {
  std::vector<Lifetime> life(graph.values.size());
  int steps = static_cast<int>(graph.nodes.size());
  for (int step = 0; step < steps; ++step) {
    const ir::Node& node = graph.nodes[step];
    life[node.output] = {step, step};
    for (int in : node.inputs) life[in].last = std::max(life[in].last, step);
  }
  for (int out : graph.outputs) life[out].last = steps;
  for (size_t v = 0; v < slices.size(); ++v)
    if (slices[v].into >= 0 && slices[v].written_at >= 0) life[v].first = std::min(life[v].first, slices[v].written_at);
  return life;
}

// Values that share bytes with others through channel slices (the slices and their holders): none
// of them is written over another value or has another written over it.
std::vector<bool> sharing_bytes(const std::vector<ChannelSlice>& slices, size_t values) {
  std::vector<bool> sharing(values, false);
  for (size_t v = 0; v < slices.size(); ++v)
    if (slices[v].into >= 0) sharing[v] = sharing[slices[v].into] = true;
  return sharing;
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
                                     const std::vector<Lifetime>& life, const std::vector<bool>& sharing,
                                     size_t step) {
  const ir::Node& node = graph.nodes[step];
  const bool commutative = node.op == ir::Op::Add || node.op == ir::Op::Mul;
  std::vector<int> candidates;
  if (sharing[node.output]) return candidates;
  for (size_t i = 0; i < node.inputs.size() && (i == 0 || commutative); ++i) {
    int in = node.inputs[i];
    bool activation = graph.values[in].kind == ir::ValueKind::Activation;
    bool dies_here = life[in].last == static_cast<int>(step);
    if (activation && dies_here && !sharing[in] && ir::can_run_in_place(node, shapes[in], shapes[node.output]))
      candidates.push_back(in);
  }
  return candidates;
}

// The input each node (step) writes its output over, or -1: of the candidates, the one made
// earliest. For `conv + skip` that is the skip, so that a backend can accumulate the convolution
// into it instead of running the Add on its own.
std::vector<int> in_place_steps(const ir::Graph& graph, std::span<const Shape> shapes,
                                const std::vector<Lifetime>& life, const std::vector<bool>& sharing) {
  std::vector<int> in_place(graph.nodes.size(), -1);
  for (size_t step = 0; step < graph.nodes.size(); ++step)
    for (int in : in_place_candidates(graph, shapes, life, sharing, step))
      if (in_place[step] < 0 || life[in].first < life[in_place[step]].first) in_place[step] = in;
  return in_place;
}

// A block of arena shared by a value and the values written in place over it.
struct Block {
  int64_t size = 0;
  Lifetime life;
  int64_t offset = -1;
};

// Whether the channel Concat `node` reads v at channel `channel` (the first such input).
bool concat_reads_at(const ir::Node& node, std::span<const Shape> upper_shapes, int v, int64_t channel) {
  if (!ir::is_channel_concat(node)) return false;
  int64_t at = 0;
  for (int piece : node.inputs) {
    if (piece == v) return at == channel;
    at += upper_shapes[piece][1];
  }
  return false;
}

// Each channel slice: inside a value of the same pixels, in a Concat that reads it there or holding
// pieces that already lie in place; no value holds itself.
Status verify_slices(const ir::Graph& graph, std::span<const ChannelSlice> slices,
                     std::span<const Shape> upper_shapes) {
  if (slices.empty()) return {};
  const size_t count = graph.values.size();
  TESSERA_CHECK(slices.size() == count, Error::InvalidModel, "the memory plan has {} channel slices for {} values",
                slices.size(), count);
  std::vector<int> producer(count, -1);
  for (size_t step = 0; step < graph.nodes.size(); ++step) producer[graph.nodes[step].output] = static_cast<int>(step);
  for (size_t v = 0; v < count; ++v) {
    const ChannelSlice& s = slices[v];
    if (s.into < 0) continue;
    const std::string& name = graph.values[v].name;
    TESSERA_CHECK(static_cast<size_t>(s.into) < count && producer[v] >= 0 && producer[s.into] >= 0,
                  Error::InvalidModel, "value '{}' is a channel slice of value {}, which no node makes", printable(name), s.into);
    size_t hops = 0;
    for (int u = static_cast<int>(v); slices[u].into >= 0 && hops <= count; u = slices[u].into) ++hops;
    TESSERA_CHECK(hops <= count, Error::InvalidModel, "the channel slices that hold value '{}' form a cycle", printable(name));
  }
  for (size_t v = 0; v < count; ++v) {
    const ChannelSlice& s = slices[v];
    if (s.into < 0) continue;
    const std::string& name = graph.values[v].name;
    const Shape& a = upper_shapes[v];
    const Shape& b = upper_shapes[s.into];
    TESSERA_CHECK(a.rank() == 4 && b.rank() == 4 && a[0] == b[0] && a[2] == b[2] && a[3] == b[3] && s.channel >= 0 &&
                      s.channel + a[1] <= b[1],
                  Error::InvalidModel, "value '{}' {} does not fit channels {}.. of '{}' {}", printable(name), a.to_string(),
                  s.channel, printable(graph.values[s.into].name), b.to_string());
    TESSERA_CHECK(s.written_at < 0 || s.written_at <= producer[v], Error::InvalidModel,
                  "value '{}' is written at step {}, after its own node (step {})", printable(name), s.written_at, producer[v]);
    const bool piece = concat_reads_at(graph.nodes[producer[s.into]], upper_shapes, static_cast<int>(v), s.channel);
    const ChannelSlice pieces = pieces_side_by_side(slices, graph.nodes[producer[v]], upper_shapes);
    const bool view = pieces.into >= 0 && pieces.into == storage_root(slices, static_cast<int>(v)) &&
                      pieces.channel == root_channel(slices, static_cast<int>(v));
    TESSERA_CHECK(piece || view, Error::InvalidModel,
                  "value '{}' is stored in '{}' at channel {}, but no channel Concat puts it there", printable(name),
                  printable(graph.values[s.into].name), s.channel);
  }
  return {};
}

// Two values alive at once in the same holder: disjoint channels, or one a channel Concat whose
// pieces (verified in place) include the other.
Status check_shared_channels(const ir::Graph& graph, const MemoryPlan& plan, std::span<const Shape> upper_shapes,
                             const std::vector<int>& producer, int a, int b) {
  const int64_t a0 = root_channel(plan.slices, a), a1 = a0 + upper_shapes[a][1];
  const int64_t b0 = root_channel(plan.slices, b), b1 = b0 + upper_shapes[b][1];
  if (a1 <= b0 || b1 <= a0) return {};
  auto concat = [&](int v) { return ir::is_channel_concat(graph.nodes[producer[v]]); };
  const bool a_holds_b = a0 <= b0 && b1 <= a1 && concat(a), b_holds_a = b0 <= a0 && a1 <= b1 && concat(b);
  TESSERA_CHECK(
      a_holds_b || b_holds_a, Error::InvalidModel,
      "memory plan overlap: '{}' (channels {}..{}) and '{}' (channels {}..{}) of '{}' are alive at the same time",
      printable(graph.values[a].name), a0, a1, printable(graph.values[b].name), b0, b1, printable(graph.values[storage_root(plan.slices, a)].name));
  return {};
}

}  // namespace

Result<MemoryPlan> plan_memory(const ir::Graph& graph, std::span<const Shape> upper_shapes,
                               std::vector<ChannelSlice> slices) {
  TESSERA_RETURN_IF_ERROR(verify_slices(graph, slices, upper_shapes));
  MemoryPlan plan;
  plan.slices = std::move(slices);
  std::vector<Lifetime> life = lifetimes(graph, plan.slices);
  keep_concat_pieces(graph, life);
  const std::vector<bool> sharing = sharing_bytes(plan.slices, graph.values.size());
  std::vector<int> in_place = in_place_steps(graph, upper_shapes, life, sharing);

  // A slice's holder may be made after the slice: the block is opened by whichever comes first.
  std::vector<int> block_of(graph.values.size(), -1);
  std::vector<Block> blocks;
  for (size_t step = 0; step < graph.nodes.size(); ++step) {
    const int out = graph.nodes[step].output, root = storage_root(plan.slices, out);
    if (in_place[step] >= 0) {
      block_of[out] = block_of[in_place[step]];
    } else if (block_of[root] >= 0) {
      block_of[out] = block_of[root];
    } else {
      block_of[out] = block_of[root] = static_cast<int>(blocks.size());
      blocks.push_back({0, life[out], -1});
    }
    Block& b = blocks[block_of[out]];
    b.size = std::max(b.size, aligned_bytes(upper_shapes[root]));
    b.life.first = std::min(b.life.first, life[out].first);
    b.life.last = std::max(b.life.last, life[out].last);
  }

  std::vector<int> order(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return blocks[a].size > blocks[b].size; });

  std::vector<const Block*> placed;
  for (int index : order) {
    Block& block = blocks[index];
    std::vector<const Block*> overlapping;
    for (const Block* p : placed)
      if (p->life.first <= block.life.last && block.life.first <= p->life.last) overlapping.push_back(p);
    std::sort(overlapping.begin(), overlapping.end(),
              [](const Block* a, const Block* b) { return a->offset < b->offset; });
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
    if (block_of[v] >= 0)
      plan.offsets[v] =
          blocks[block_of[v]].offset + root_channel(plan.slices, static_cast<int>(v)) * int64_t{sizeof(float)};
  for (int step = 0; step < static_cast<int>(graph.nodes.size()); ++step) {
    int64_t live = 0;
    for (const Block& b : blocks)
      if (b.life.first <= step && step <= b.life.last) live += b.size;
    plan.lower_bound_bytes = std::max(plan.lower_bound_bytes, live);
  }
  TESSERA_RETURN_IF_ERROR(verify_plan(graph, plan, upper_shapes));
  return plan;
}

void written_ranges(const MemoryPlan& plan, std::span<const Shape> shapes,
                    std::vector<std::pair<int64_t, int64_t>>& ranges, std::span<const char> stored) {
  ranges.clear();
  for (size_t v = 0; v < plan.offsets.size() && v < shapes.size(); ++v) {
    if (plan.offsets[v] < 0 || (!stored.empty() && !stored[v])) continue;
    const int root = storage_root(plan.slices, static_cast<int>(v));
    const int64_t bytes = shapes[root].element_count() * static_cast<int64_t>(sizeof(float));
    if (bytes > 0) ranges.emplace_back(plan.offsets[root], plan.offsets[root] + bytes);
  }
  std::sort(ranges.begin(), ranges.end());
  size_t merged = 0;
  for (const auto& r : ranges) {
    if (merged > 0 && r.first <= ranges[merged - 1].second)
      ranges[merged - 1].second = std::max(ranges[merged - 1].second, r.second);
    else
      ranges[merged++] = r;
  }
  ranges.resize(merged);
}

int storage_root(std::span<const ChannelSlice> slices, int v) {
  if (slices.empty()) return v;
  while (slices[v].into >= 0) v = slices[v].into;
  return v;
}

int64_t root_channel(std::span<const ChannelSlice> slices, int v) {
  int64_t channel = 0;
  if (slices.empty()) return channel;
  for (; slices[v].into >= 0; v = slices[v].into) channel += slices[v].channel;
  return channel;
}

ChannelSlice pieces_side_by_side(std::span<const ChannelSlice> slices, const ir::Node& node,
                                 std::span<const Shape> upper_shapes) {
  if (!ir::is_channel_concat(node)) return {};
  const int root = storage_root(slices, node.inputs[0]);
  const int64_t first = root_channel(slices, node.inputs[0]);
  int64_t at = first;
  for (int piece : node.inputs) {
    if (storage_root(slices, piece) != root || root_channel(slices, piece) != at) return {};
    at += upper_shapes[piece][1];
  }
  return {root, first, -1};
}

Status verify_plan(const ir::Graph& graph, const MemoryPlan& plan, std::span<const Shape> upper_shapes) {
  TESSERA_CHECK(plan.offsets.size() == graph.values.size(), Error::InvalidModel,
                "the memory plan has {} entries for {} values", plan.offsets.size(), graph.values.size());
  TESSERA_RETURN_IF_ERROR(verify_slices(graph, plan.slices, upper_shapes));
  std::vector<Lifetime> life = lifetimes(graph, plan.slices);
  const std::vector<bool> sharing = sharing_bytes(plan.slices, graph.values.size());
  // output -> the inputs it may overwrite (any candidate: files planned with another choice verify too)
  std::vector<std::vector<int>> written_over(graph.values.size());
  std::vector<int> producer(graph.values.size(), -1);
  for (size_t step = 0; step < graph.nodes.size(); ++step) {
    written_over[graph.nodes[step].output] = in_place_candidates(graph, upper_shapes, life, sharing, step);
    producer[graph.nodes[step].output] = static_cast<int>(step);
  }
  auto overwrites = [&](int out, int in) {
    return std::find(written_over[out].begin(), written_over[out].end(), in) != written_over[out].end();
  };

  std::vector<int> activations;
  for (const ir::Node& node : graph.nodes) {
    int v = node.output;
    activations.push_back(v);
    if (const int root = storage_root(plan.slices, v); root != v) {
      TESSERA_CHECK(plan.offsets[v] == plan.offsets[root] + root_channel(plan.slices, v) * int64_t{sizeof(float)},
                    Error::InvalidModel, "value '{}' has offset {}, not that of its channels in '{}'",
                    printable(graph.values[v].name), plan.offsets[v], printable(graph.values[root].name));
      continue;  // its holder's bytes are checked as the holder's
    }
    int64_t offset = plan.offsets[v], size = aligned_bytes(upper_shapes[v]);
    TESSERA_CHECK(offset >= 0 && offset % kArenaAlignment == 0 && offset + size <= plan.arena_bytes,
                  Error::InvalidModel, "value '{}' ({} bytes at offset {}) does not fit the {}-byte arena",
                  printable(graph.values[v].name), size, offset, plan.arena_bytes);
  }
  for (size_t i = 0; i < activations.size(); ++i) {
    for (size_t j = i + 1; j < activations.size(); ++j) {
      int a = activations[i], b = activations[j];
      bool live_together = life[a].first <= life[b].last && life[b].first <= life[a].last;
      if (!live_together) continue;
      // A value written over its input shares the input's bytes by design, at the one step where both meet.
      if ((overwrites(b, a) && life[a].last == life[b].first) || (overwrites(a, b) && life[b].last == life[a].first))
        continue;
      const int ra = storage_root(plan.slices, a), rb = storage_root(plan.slices, b);
      if (ra == rb) {
        TESSERA_RETURN_IF_ERROR(check_shared_channels(graph, plan, upper_shapes, producer, a, b));
        continue;
      }
      // A slice occupies (at most) its holder's bytes.
      int64_t a0 = plan.offsets[ra], a1 = a0 + aligned_bytes(upper_shapes[ra]);
      int64_t b0 = plan.offsets[rb], b1 = b0 + aligned_bytes(upper_shapes[rb]);
      TESSERA_CHECK(a1 <= b0 || b1 <= a0, Error::InvalidModel,
                    "memory plan overlap: '{}' [{}, {}) and '{}' [{}, {}) are alive at the same time",
                    printable(graph.values[a].name), a0, a1, printable(graph.values[b].name), b0, b1);
    }
  }
  return {};
}

}  // namespace tessera
