#include "backends/xnnpack/fallback.h"

#include <vector>

#include "backends/reference/kernels.h"
#include "backends/xnnpack/layout.h"
#include "backends/xnnpack/lowering.h"

namespace tessera::xnnpack {
namespace {

// Values whose backend form (NHWC) differs from the NCHW the reference kernel reads and writes.
bool needs_copy(const ModelData& model, int v) { return !is_constant(model, v) && nhwc_differs(model.upper_shapes[v]); }

int64_t upper_floats(const ModelData& model, int v) { return model.upper_shapes[v].element_count(); }

class FallbackStep : public Step {
 public:
  FallbackStep(const ModelData& model, const ir::Node& node, float* scratch)
      : model_(model), node_(node), inputs_(node.inputs.size()), copies_(node.inputs.size(), nullptr) {
    // Each input that needs an NCHW copy gets its own part of the scratch, then the output.
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      if (!needs_copy(model, node.inputs[k])) continue;
      copies_[k] = scratch;
      scratch += upper_floats(model, node.inputs[k]);
    }
    if (needs_copy(model, node.output)) output_copy_ = scratch;
  }

  Status setup(const StepContext& ctx) override {
    for (size_t k = 0; k < node_.inputs.size(); ++k) {
      const int v = node_.inputs[k];
      const ir::Value& value = model_.graph.values[v];
      const float* data = value.kind == ir::ValueKind::Constant ? value.constant_data
                          : copies_[k]                          ? copies_[k]
                                                                : ctx.data[v];
      inputs_[k] = ConstTensorView(data, ctx.shapes[v]);
    }
    output_ = TensorView{output_copy_ ? output_copy_ : ctx.data[node_.output], ctx.shapes[node_.output]};
    return {};
  }

  Status run(const StepContext& ctx) override {
    for (size_t k = 0; k < node_.inputs.size(); ++k)
      if (copies_[k]) nhwc_to_nchw(ctx.data[node_.inputs[k]], copies_[k], inputs_[k].shape, ctx.pool);
    TESSERA_RETURN_IF_ERROR(reference::run_node(node_, inputs_, output_));
    if (output_copy_) nchw_to_nhwc(output_copy_, ctx.data[node_.output], output_.shape, ctx.pool);
    return {};
  }

  int64_t extra_bytes() const override { return 0; }  // the scratch is the session's

 private:
  const ModelData& model_;
  const ir::Node& node_;
  std::vector<ConstTensorView> inputs_;
  std::vector<float*> copies_;  // per input: its NCHW copy in the scratch, or nullptr when read in place
  float* output_copy_ = nullptr;
  TensorView output_;
};

}  // namespace

int64_t fallback_scratch_floats(const ModelData& model, const ir::Node& node) {
  int64_t floats = needs_copy(model, node.output) ? upper_floats(model, node.output) : 0;
  for (int v : node.inputs)
    if (needs_copy(model, v)) floats += upper_floats(model, v);
  return floats;
}

std::unique_ptr<Step> make_fallback_step(const ModelData& model, const ir::Node& node, float* scratch) {
  return std::make_unique<FallbackStep>(model, node, scratch);
}

}  // namespace tessera::xnnpack
