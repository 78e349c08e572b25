// Concat along any NCHW axis, done in NHWC: seen as [outer, axis * inner] with the axis moved to its
// NHWC place, each output row is each input's row in turn. Along channels (the usual case: U-Net skips)
// a row is one pixel, so this is a strided copy of each input's channels into the output's.
#include "backends/xnnpack/concat.h"

#include <algorithm>
#include <cstring>
#include <variant>
#include <vector>

#include "backends/xnnpack/lowering.h"

namespace tessera::xnnpack {
namespace {

constexpr std::array<int, 4> kNhwcAxis = {0, 3, 1, 2};  // NCHW axis -> NHWC axis

class ConcatStep : public Step {
 public:
  explicit ConcatStep(const ir::Node& node)
      : node_(node),
        axis_(kNhwcAxis[std::get<ir::ConcatAttrs>(node.attrs).axis]),
        inputs_(node.inputs.size()),
        rows_(node.inputs.size()) {}

  Status setup(const StepContext& ctx) override {
    const std::array<size_t, 4> out = nhwc_dims(ctx.shapes[node_.output]);
    outer_ = 1;
    for (int i = 0; i < axis_; ++i) outer_ *= out[i];
    out_row_ = 0;
    for (size_t k = 0; k < inputs_.size(); ++k) {
      inputs_[k] = ctx.data[node_.inputs[k]];
      rows_[k] = row_length(ctx.shapes[node_.inputs[k]]);
      out_row_ += rows_[k];
    }
    output_ = ctx.data[node_.output];
    return {};
  }

  // Row by row, each input's part in turn: the output is written once, front to back.
  Status run(const StepContext& ctx) override {
    parallel_for(ctx.pool, outer_, 256, [this](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        float* y = output_ + r * out_row_;
        for (size_t k = 0; k < inputs_.size(); ++k) {
          std::memcpy(y, inputs_[k] + r * rows_[k], rows_[k] * sizeof(float));
          y += rows_[k];
        }
      }
    });
    return {};
  }

  int64_t extra_bytes() const override { return 0; }

 private:
  // The floats of a tensor in one row: its extent along the axis times everything after it.
  size_t row_length(const Shape& shape) const {
    const std::array<size_t, 4> d = nhwc_dims(shape);
    size_t n = 1;
    for (int i = axis_; i < 4; ++i) n *= d[i];
    return n;
  }

  const ir::Node& node_;
  int axis_;
  std::vector<const float*> inputs_;  // set up per shape
  std::vector<size_t> rows_;
  float* output_ = nullptr;
  size_t outer_ = 0, out_row_ = 0;
};

}  // namespace

bool concat_supported(const ModelData& model, const ir::Node& node) {
  if (model.upper_shapes[node.output].rank() != 4) return false;
  return std::all_of(node.inputs.begin(), node.inputs.end(), [&](int v) { return rank4_activation(model, v); });
}

std::unique_ptr<Step> make_concat_step(const ir::Node& node) { return std::make_unique<ConcatStep>(node); }

}  // namespace tessera::xnnpack
