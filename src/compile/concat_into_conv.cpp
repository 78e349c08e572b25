// Rewrites that keep channel concatenations and residual skips out of memory. Dense and residual
// blocks (ESRGAN, U-Nets) concatenate activations only to convolve them; a convolution is linear in
// its input channels, so it can read the pieces one by one and sum, and a skip added to a
// convolution of the same pixels is one more weight of it.
#include <algorithm>
#include <fmt/format.h>
#include <functional>
#include <vector>

#include "compile/passes.h"
#include "ir/shape_inference.h"

namespace tessera {

namespace {

struct UseCounts {
  std::vector<int> producer;  // per value: the node writing it, or -1
  std::vector<int> readers;   // per value: how many nodes read it, a graph output counting as one
};

UseCounts count_uses(const ir::Graph& g) {
  UseCounts u{std::vector<int>(g.values.size(), -1), std::vector<int>(g.values.size(), 0)};
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    u.producer[g.nodes[n].output] = static_cast<int>(n);
    for (int v : g.nodes[n].inputs) ++u.readers[v];
  }
  for (int v : g.outputs) ++u.readers[v];
  return u;
}

using ir::is_channel_concat;
using ir::is_plain_conv;
using ir::is_pointwise_conv;

// Shapes at the upper bound, or empty when inference fails (the compiler reports that later).
std::vector<Shape> upper_shapes(const ir::Graph& g) {
  Result<std::vector<Shape>> shapes = ir::shapes_at(g, g.upper_dim_values());
  return shapes.ok() ? std::move(shapes).value() : std::vector<Shape>{};
}

// The tap (kh, kw) of a stride-1 convolution that reads each output pixel's own input pixel, when
// the output has the input's size; false otherwise.
bool centre_tap(const ir::ConvAttrs& a, int64_t tap[2]) {
  for (int k = 0; k < 2; ++k) {
    const int64_t d = a.dilations[k], reach = d * (a.kernel[k] - 1);
    if (a.strides[k] != 1 || a.pads[k] + a.pads[k + 2] != reach || a.pads[k] % d != 0) return false;
    tap[k] = a.pads[k] / d;
  }
  return true;
}

int activation(ir::Graph& g, const std::string& name) {
  ir::Value v;
  v.name = name;
  return g.add_value(std::move(v));
}

// Drops nodes whose output nobody reads, until none is left.
void remove_dead_nodes(ir::Graph& g) {
  for (bool removed = true; removed;) {
    const UseCounts uses = count_uses(g);
    const size_t before = g.nodes.size();
    std::erase_if(g.nodes, [&](const ir::Node& n) { return uses.readers[n.output] == 0; });
    removed = g.nodes.size() != before;
  }
}

}  // namespace

void flatten_channel_concats(ir::Graph& g) {
  std::vector<int> producer(g.values.size(), -1);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    ir::Node& node = g.nodes[n];
    if (is_channel_concat(node)) {
      std::vector<int> flat;
      for (int v : node.inputs) {
        const int p = producer[v];
        if (p >= 0 && is_channel_concat(g.nodes[p])) {
          flat.insert(flat.end(), g.nodes[p].inputs.begin(), g.nodes[p].inputs.end());
        } else {
          flat.push_back(v);
        }
      }
      node.inputs = std::move(flat);
    }
    producer[node.output] = static_cast<int>(n);
  }
  remove_dead_nodes(g);
}

void fold_skip_into_conv(ir::Graph& g) {
  const std::vector<Shape> shapes = upper_shapes(g);
  if (shapes.empty()) return;
  UseCounts uses = count_uses(g);
  std::vector<bool> removed(g.nodes.size(), false);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const ir::Node& add = g.nodes[n];
    if (add.op != ir::Op::Add || !(shapes[add.inputs[0]] == shapes[add.inputs[1]])) continue;
    for (int side = 0; side < 2; ++side) {
      const int y = add.inputs[side], skip = add.inputs[1 - side];
      const int p = uses.producer[y];
      if (p < 0 || removed[p] || uses.readers[y] != 1 || !is_plain_conv(g, g.nodes[p])) continue;
      ir::Node& conv = g.nodes[p];
      int64_t tap[2];
      if (!centre_tap(std::get<ir::ConvAttrs>(conv.attrs), tap)) continue;
      // The skip's first channel within the conv's input: the input itself, or one piece of a concat.
      const int x = conv.inputs[0];
      int64_t first = x == skip ? 0 : -1;
      if (first < 0 && uses.producer[x] >= 0 && is_channel_concat(g.nodes[uses.producer[x]])) {
        int64_t c = 0;
        for (int piece : g.nodes[uses.producer[x]].inputs) {
          if (piece == skip) {
            first = c;
            break;
          }
          c += shapes[piece][1];
        }
      }
      if (first < 0) continue;
      const ir::Value& w = g.values[conv.inputs[1]];
      const Shape ws = w.constant_shape;  // [out, in, kh, kw]
      std::vector<float> weights(w.constant_data, w.constant_data + ws.element_count());
      for (int64_t o = 0; o < ws[0]; ++o) weights[((o * ws[1] + first + o) * ws[2] + tap[0]) * ws[3] + tap[1]] += 1.0f;
      conv.inputs[1] = g.add_constant(conv.name + "/weight+skip", ws, std::move(weights));
      conv.output = add.output;
      uses.producer[add.output] = p;
      removed[n] = true;
      break;
    }
  }
  std::vector<ir::Node> kept;
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (!removed[n]) kept.push_back(std::move(g.nodes[n]));
  g.nodes = std::move(kept);
}

void split_conv_over_concat(ir::Graph& g) {
  const std::vector<Shape> shapes = upper_shapes(g);
  if (shapes.empty()) return;
  const UseCounts uses = count_uses(g);
  std::vector<ir::Node> out;
  for (const ir::Node& conv : g.nodes) {
    const int x = conv.inputs[0];
    const int p = uses.producer[x];
    const bool split = is_plain_conv(g, conv) && is_pointwise_conv(conv) && p >= 0 &&
                       is_channel_concat(g.nodes[p]) && uses.readers[x] == 1 &&
                       std::none_of(g.nodes[p].inputs.begin(), g.nodes[p].inputs.end(),
                                    [&](int v) { return g.values[v].kind == ir::ValueKind::Constant; });
    if (!split) {
      out.push_back(conv);
      continue;
    }
    const std::vector<int> pieces = g.nodes[p].inputs;
    const Shape ws = g.values[conv.inputs[1]].constant_shape;  // [out, in, kh, kw]
    const float* weights = g.values[conv.inputs[1]].constant_data;  // owned by the graph: stays put
    const int64_t taps = ws[2] * ws[3];
    int64_t first = 0;
    int sum = -1;  // the running sum
    for (size_t i = 0; i < pieces.size(); ++i) {
      const int64_t c = shapes[pieces[i]][1];
      std::vector<float> slice;
      slice.reserve(static_cast<size_t>(ws[0] * c * taps));
      for (int64_t o = 0; o < ws[0]; ++o) {
        const float* row = weights + (o * ws[1] + first) * taps;
        slice.insert(slice.end(), row, row + c * taps);
      }
      first += c;
      const bool last = i + 1 == pieces.size();
      ir::Node partial;
      partial.op = ir::Op::Conv;
      partial.name = fmt::format("{}/part{}", conv.name, i);
      partial.attrs = conv.attrs;
      partial.inputs = {pieces[i], g.add_constant(partial.name + "/weight", Shape{ws[0], c, ws[2], ws[3]}, std::move(slice))};
      if (i == 0 && conv.inputs.size() == 3) partial.inputs.push_back(conv.inputs[2]);  // the bias, once
      partial.output = last && i == 0 ? conv.output : activation(g, partial.name);
      out.push_back(partial);
      if (i == 0) {
        sum = partial.output;
        continue;
      }
      // The running sum second: the planner writes an Add over the input made first.
      ir::Node add;
      add.op = ir::Op::Add;
      add.name = fmt::format("{}/sum{}", conv.name, i);
      add.inputs = {partial.output, sum};
      add.output = last ? conv.output : activation(g, add.name);
      sum = add.output;
      out.push_back(add);
    }
  }
  g.nodes = std::move(out);
  remove_dead_nodes(g);
}

void run_sum_terms_early(ir::Graph& g, const std::function<bool(const ir::Graph&)>& keep) {
  const UseCounts uses = count_uses(g);
  auto single_pointwise = [&](int v) {
    const int p = uses.producer[v];
    return p >= 0 && uses.readers[v] == 1 && is_plain_conv(g, g.nodes[p]) && is_pointwise_conv(g.nodes[p]);
  };
  // Per Add of a running sum: the Add before it in the sum, or the first term's convolution.
  std::vector<int> before(g.nodes.size(), -1);
  std::vector<bool> continued(g.nodes.size(), false);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const ir::Node& add = g.nodes[n];
    if (add.op != ir::Op::Add || !single_pointwise(add.inputs[0]) || uses.readers[add.inputs[1]] != 1) continue;
    const int p = uses.producer[add.inputs[1]];
    if (p < 0) continue;
    if (before[p] >= 0) {
      continued[p] = true;
    } else if (!single_pointwise(add.inputs[1])) {
      continue;
    }
    before[n] = p;
  }
  // Each sum as its terms in order, a term as the outputs of its nodes: the first term's
  // convolution, then each convolution and its Add (values, which keep while nodes move).
  std::vector<std::vector<std::vector<int>>> sums;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (before[n] < 0 || continued[n]) continue;
    std::vector<std::vector<int>> terms;
    int q = static_cast<int>(n);
    for (; before[q] >= 0; q = before[q]) terms.push_back({g.nodes[q].inputs[0], g.nodes[q].output});
    terms.push_back({g.nodes[q].output});
    std::reverse(terms.begin(), terms.end());
    sums.push_back(std::move(terms));
  }
  std::vector<int> sum_of(g.values.size(), -1);  // per value of a sum's term: which sum
  for (size_t k = 0; k < sums.size(); ++k)
    for (const std::vector<int>& term : sums[k])
      for (int v : term) sum_of[v] = static_cast<int>(k);
  for (const std::vector<std::vector<int>>& terms : sums) {
    std::vector<ir::Node> as_was = g.nodes;
    bool moved = false;
    int previous = -1;  // the node of the term before
    for (const std::vector<int>& term : terms) {
      // The term goes after the term before and the nodes that make or otherwise read its input x
      // (in the order as it is now), and not between two nodes that a backend runs as one: two of a
      // sum, or a node and the next one when that is the only reader of its output (a convolution
      // and its activation; not when the output is also the graph's).
      std::vector<int> producer(g.values.size(), -1);
      for (size_t n = 0; n < g.nodes.size(); ++n) producer[g.nodes[n].output] = static_cast<int>(n);
      const int first = producer[term.front()], x = g.nodes[first].inputs[0];
      int after = std::max(previous, producer[x]);
      for (size_t n = 0; n < g.nodes.size(); ++n)
        if (static_cast<int>(n) != first && std::count(g.nodes[n].inputs.begin(), g.nodes[n].inputs.end(), x))
          after = std::max(after, static_cast<int>(n));
      auto run_together = [&](int n) {
        const int v = g.nodes[n].output, w = g.nodes[n + 1].output;
        if (sum_of[v] >= 0 && sum_of[v] == sum_of[w]) return true;
        const std::vector<int>& next = g.nodes[n + 1].inputs;
        return uses.readers[v] == 1 && std::find(next.begin(), next.end(), v) != next.end();
      };
      while (after >= 0 && after + 1 < first && run_together(after)) ++after;
      if (after + 1 < first) {
        // The term's nodes are consecutive (nothing comes between two of a sum): they move together.
        std::rotate(g.nodes.begin() + after + 1, g.nodes.begin() + first, g.nodes.begin() + first + term.size());
        moved = true;
        previous = after + static_cast<int>(term.size());
      } else {
        previous = first + static_cast<int>(term.size()) - 1;
      }
    }
    if (moved && !keep(g)) g.nodes = std::move(as_was);
  }
}

}  // namespace tessera
