// The reference backend: runs every node with the scalar kernels, in the model's layout (NCHW),
// reading activations where the memory plan put them.
#include "backends/reference/reference_backend.h"

#include "backends/reference/kernels.h"

namespace tessera::reference {

namespace {

class ReferenceSession : public BackendSession {
 public:
  ReferenceSession(const ModelData& model, const MemoryPlan& memory, const uint8_t* arena) : model_(model) {
    const ir::Graph& g = model.graph;
    data_.resize(g.values.size(), nullptr);
    for (size_t v = 0; v < g.values.size(); ++v) {
      if (g.values[v].kind == ir::ValueKind::Constant) data_[v] = g.values[v].constant_data;
      else if (memory.offsets[v] >= 0) data_[v] = reinterpret_cast<const float*>(arena + memory.offsets[v]);
    }
    size_t widest = 1;
    for (const ir::Node& n : g.nodes) widest = std::max(widest, n.inputs.size());
    node_inputs_.resize(widest);
  }

  Status reshape(std::span<const Shape> shapes) override {
    shapes_ = shapes;
    return {};
  }

  Status run(std::span<const ConstTensorView> inputs) override {
    const ir::Graph& g = model_.graph;
    for (size_t i = 0; i < inputs.size(); ++i) data_[g.inputs[i]] = inputs[i].data;
    for (const ir::Node& n : g.nodes) {
      size_t count = n.inputs.size();
      for (size_t k = 0; k < count; ++k) node_inputs_[k] = ConstTensorView(data_[n.inputs[k]], shapes_[n.inputs[k]]);
      TensorView out{const_cast<float*>(data_[n.output]), shapes_[n.output]};
      TESSERA_RETURN_IF_ERROR(run_node(n, std::span<const ConstTensorView>(node_inputs_.data(), count), out));
    }
    return {};
  }

  int64_t extra_bytes() const override { return 0; }
  std::vector<std::string> fallbacks() const override { return {}; }

 private:
  const ModelData& model_;
  std::span<const Shape> shapes_;
  std::vector<const float*> data_;           // per value: where its elements are
  std::vector<ConstTensorView> node_inputs_;  // scratch, sized for the widest node
};

}  // namespace

Result<std::unique_ptr<BackendSession>> create_backend_session(const ModelData& model, const MemoryPlan& memory,
                                                               const SessionOptions&, uint8_t* arena) {
  return std::unique_ptr<BackendSession>(new ReferenceSession(model, memory, arena));
}

}  // namespace tessera::reference
