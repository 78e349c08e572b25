// The XNNPACK backend's memory plan: the model's, except that the pieces of a channel Concat are
// written straight into the Concat's channels (XNNPACK operators take a pixel stride for their input
// and output), so that the Concat copies nothing. A Concat whose pieces then already lie side by side
// in a larger Concat (a dense block's x+x1 inside x+x1+x2+x3+x4) becomes a view of them too.
#include "backends/xnnpack/xnnpack_backend.h"

#include <algorithm>
#include <variant>

#include "backends/xnnpack/lowering.h"

namespace tessera::xnnpack {
namespace {

// XNNPACK operators that read their first input and write their output with any pixel stride (as
// the backend's own Resize step does).
bool takes_pixel_stride(ir::Op op) {
  switch (op) {
    case ir::Op::Conv:
    case ir::Op::ConvTranspose:
    case ir::Op::MaxPool:
    case ir::Op::AveragePool:
    case ir::Op::GlobalAveragePool:
    case ir::Op::Relu:
    case ir::Op::Clip:
    case ir::Op::LeakyRelu:
    case ir::Op::PRelu:
    case ir::Op::Sigmoid:
    case ir::Op::DepthToSpace:
    case ir::Op::Resize:
      return true;
    case ir::Op::Tanh:
    case ir::Op::HardSigmoid:
    case ir::Op::Add:
    case ir::Op::Sub:
    case ir::Op::Mul:
    case ir::Op::Div:
    case ir::Op::Concat:
    case ir::Op::Pad:
    case ir::Op::ReduceMean:
      break;
  }
  return false;
}

class SliceChooser {
 public:
  explicit SliceChooser(const ModelData& model)
      : model_(model), g_(model.graph), slices_(g_.values.size()), uses_(uses_of(g_)) {
    for (const ir::Node& n : g_.nodes) kinds_.push_back(base_kind(model, n));
  }

  std::vector<ChannelSlice> choose() {
    // Latest Concat first: a piece of several Concats (a dense block's) goes to the widest.
    for (size_t i = g_.nodes.size(); i-- > 0;)
      if (holds_slices(static_cast<int>(i))) place_pieces(g_.nodes[i]);
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      if (holds_slices(static_cast<int>(i))) make_view(g_.nodes[i]);
    return slices_;
  }

 private:
  bool is_output(int v) const { return std::find(g_.outputs.begin(), g_.outputs.end(), v) != g_.outputs.end(); }
  bool sliced(int v) const { return slices_[v].into >= 0; }

  // A channel Concat run by the backend's copy step, whose output is stored on its own.
  bool holds_slices(int node) const {
    const ir::Node& n = g_.nodes[node];
    return kinds_[node] == Kind::Concat && ir::is_channel_concat(n) && !is_output(n.output) && !sliced(n.output);
  }

  // A step that reads its first input and writes its output with any pixel stride.
  bool step_takes_stride(int node) const {
    return (kinds_[node] == Kind::Xnnpack && takes_pixel_stride(g_.nodes[node].op)) || kinds_[node] == Kind::Resize;
  }

  // Every reader takes v with a pixel stride: a step reading it as its first input only, or a
  // channel Concat's copy step.
  bool readers_take_stride(int v) const {
    for (int r : uses_.readers[v]) {
      const ir::Node& n = g_.nodes[r];
      const bool op = step_takes_stride(r) && std::count(n.inputs.begin(), n.inputs.end(), v) == 1 && n.inputs[0] == v;
      if (!op && !(kinds_[r] == Kind::Concat && ir::is_channel_concat(n))) return false;
    }
    return true;
  }

  // An activation that a step writes with a pixel stride (its node, and the operator its Relu or
  // Clip may be fused into), read only with one, and not a graph output.
  bool can_be_slice(int v) const {
    const int p = uses_.producer[v];
    if (p < 0 || is_output(v) || model_.upper_shapes[v].rank() != 4 || !step_takes_stride(p)) return false;
    const int target = fusion_target(model_, kinds_, uses_, p);
    if (target >= 0 && !takes_pixel_stride(g_.nodes[target].op)) return false;
    return readers_take_stride(v);
  }

  void place_pieces(const ir::Node& concat) {
    int64_t channel = 0;
    for (size_t k = 0; k < concat.inputs.size(); ++k) {
      const int piece = concat.inputs[k];
      const bool first =
          std::find(concat.inputs.begin(), concat.inputs.begin() + k, piece) == concat.inputs.begin() + k;
      if (first && !sliced(piece) && can_be_slice(piece))
        slices_[piece] = {concat.output, channel, fusion_target(model_, kinds_, uses_, uses_.producer[piece])};
      channel += model_.upper_shapes[piece][1];
    }
  }

  // A Concat whose pieces lie side by side, in order, in another value that holds them becomes a
  // view of them.
  void make_view(const ir::Node& concat) {
    const ChannelSlice pieces = pieces_side_by_side(slices_, concat, model_.upper_shapes);
    if (pieces.into < 0 || pieces.into == concat.inputs[0] || pieces.into == concat.output ||
        !readers_take_stride(concat.output))
      return;
    slices_[concat.output] = pieces;
  }

  const ModelData& model_;
  const ir::Graph& g_;
  std::vector<ChannelSlice> slices_;
  Uses uses_;
  std::vector<Kind> kinds_;
};

}  // namespace

Result<MemoryPlan> memory_plan(const ModelData& model) {
  std::vector<ChannelSlice> slices = SliceChooser(model).choose();
  if (std::none_of(slices.begin(), slices.end(), [](const ChannelSlice& s) { return s.into >= 0; })) return model.plan;
  return plan_memory(model.graph, model.upper_shapes, std::move(slices));
}

}  // namespace tessera::xnnpack
