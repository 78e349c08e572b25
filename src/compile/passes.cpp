#include "compile/passes.h"

#include <vector>

namespace tessera {

namespace {

// The per-channel factors of constant `c` for a conv with `channels` outputs, or empty.
std::vector<float> per_channel(const ir::Value& c, int64_t channels) {
  const Shape& s = c.constant_shape;
  int64_t n = s.element_count();
  // Broadcast to [N, C, H, W] from the right: the channel axis is rank-3 from the end.
  for (int i = 0; i < s.rank(); ++i) {
    bool channel_axis = i == s.rank() - 3;
    if (s[i] != 1 && !(channel_axis && s[i] == channels)) return {};
  }
  std::vector<float> out(channels);
  for (int64_t o = 0; o < channels; ++o) out[o] = c.constant_data[n == 1 ? 0 : o];
  return out;
}

}  // namespace

void fold_channel_affine_into_conv(ir::Graph& graph) {
  std::vector<int> readers(graph.values.size(), 0);
  for (const ir::Node& n : graph.nodes)
    for (int in : n.inputs) ++readers[in];
  for (int out : graph.outputs) ++readers[out];

  std::vector<int> producer(graph.values.size(), -1);
  std::vector<bool> removed(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    ir::Node& node = graph.nodes[i];
    producer[node.output] = static_cast<int>(i);
    if (node.op != ir::Op::Mul && node.op != ir::Op::Add) continue;
    int a = node.inputs[0], c = node.inputs[1];
    if (producer[a] < 0 || readers[a] != 1 || graph.values[c].kind != ir::ValueKind::Constant) continue;
    ir::Node& conv = graph.nodes[producer[a]];
    if (conv.op != ir::Op::Conv) continue;
    const ir::Value& w = graph.values[conv.inputs[1]];
    int64_t channels = w.constant_shape[0];
    std::vector<float> factors = per_channel(graph.values[c], channels);
    if (factors.empty()) continue;

    int64_t per_out = w.constant_shape.element_count() / channels;
    std::vector<float> weights(w.constant_data, w.constant_data + w.constant_shape.element_count());
    std::vector<float> bias(channels, 0.0f);
    if (conv.inputs.size() > 2) {
      const float* b = graph.values[conv.inputs[2]].constant_data;
      bias.assign(b, b + channels);
    }
    for (int64_t o = 0; o < channels; ++o) {
      if (node.op == ir::Op::Mul) {
        for (int64_t k = 0; k < per_out; ++k) weights[o * per_out + k] *= factors[o];
        bias[o] *= factors[o];
      } else {
        bias[o] += factors[o];
      }
    }
    Shape weight_shape = w.constant_shape;
    std::string name = conv.name;
    conv.inputs.resize(2);
    conv.inputs[1] = graph.add_constant(name + "/weight", weight_shape, std::move(weights));
    conv.inputs.push_back(graph.add_constant(name + "/bias", Shape{channels}, std::move(bias)));
    conv.output = node.output;
    producer[node.output] = producer[a];
    removed[i] = true;
  }
  std::vector<ir::Node> kept;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(kept);
}

void remove_unused_values(ir::Graph& graph) {
  std::vector<bool> used(graph.values.size(), false);
  for (int v : graph.inputs) used[v] = true;
  for (int v : graph.outputs) used[v] = true;
  for (const ir::Node& n : graph.nodes) {
    used[n.output] = true;
    for (int in : n.inputs) used[in] = true;
  }
  std::vector<int> remap(graph.values.size(), -1);
  std::vector<ir::Value> kept;
  for (size_t v = 0; v < graph.values.size(); ++v) {
    if (!used[v]) continue;
    remap[v] = static_cast<int>(kept.size());
    kept.push_back(std::move(graph.values[v]));
  }
  graph.values = std::move(kept);
  for (int& v : graph.inputs) v = remap[v];
  for (int& v : graph.outputs) v = remap[v];
  for (ir::Node& n : graph.nodes) {
    n.output = remap[n.output];
    for (int& in : n.inputs) in = remap[in];
  }
}

}  // namespace tessera
