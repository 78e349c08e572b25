// Concat along any NCHW axis, done in NHWC: seen as [outer, axis * inner] with the axis moved to its
// NHWC place, each output row is each input's row in turn. Along channels (the usual case: U-Net skips)
// a row is one pixel, so this is a strided copy of each input's channels into the output's, and
// pieces that the memory plan stores in the output's channels are not copied at all.
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
  ConcatStep(const ModelData& model, const MemoryPlan& memory, const ir::Node& node)
      : node_(node),
        axis_(kNhwcAxis[std::get<ir::ConcatAttrs>(node.attrs).axis]),
        parts_(node.inputs.size()) {
    // Along channels a row is a pixel, and values stored as channel slices have their holder's stride.
    if (axis_ == 3) {
      out_stride_ = static_cast<size_t>(pixel_stride(model, memory, node.output));
      for (size_t k = 0; k < parts_.size(); ++k)
        parts_[k].stride = static_cast<size_t>(pixel_stride(model, memory, node.inputs[k]));
    }
  }

  Status setup(const StepContext& ctx) override {
    const std::array<size_t, 4> out = nhwc_dims(ctx.shapes[node_.output]);
    outer_ = 1;
    for (int i = 0; i < axis_; ++i) outer_ *= out[i];
    output_ = ctx.data[node_.output];
    size_t at = 0;
    for (size_t k = 0; k < parts_.size(); ++k) {
      Part& p = parts_[k];
      p.data = ctx.data[node_.inputs[k]];
      p.length = row_length(ctx.shapes[node_.inputs[k]]);
      p.at = at;
      at += p.length;
    }
    row_stride_ = axis_ == 3 ? out_stride_ : at;
    copies_ = 0;
    for (Part& p : parts_) {
      if (axis_ != 3) p.stride = p.length;
      // A piece that its producer wrote into this output's channels is in place already.
      p.copy = !(p.data == output_ + p.at && p.stride == row_stride_);
      copies_ += p.copy;
    }
    return {};
  }

  // Row by row, each piece not in place in turn.
  Status run(const StepContext& ctx) override {
    if (copies_ == 0) return {};
    parallel_for(ctx.pool, outer_, 256, [this](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        float* y = output_ + r * row_stride_;
        for (const Part& p : parts_)
          if (p.copy) std::memcpy(y + p.at, p.data + r * p.stride, p.length * sizeof(float));
      }
    });
    return {};
  }

  int64_t extra_bytes() const override { return 0; }

 private:
  // One input's part of each output row.
  struct Part {
    const float* data = nullptr;
    size_t stride = 0;  // floats from one of its rows to the next
    size_t length = 0;  // floats of it in a row
    size_t at = 0;      // where they go in the output row
    bool copy = true;
  };

  // The floats of a tensor in one row: its extent along the axis times everything after it.
  size_t row_length(const Shape& shape) const {
    const std::array<size_t, 4> d = nhwc_dims(shape);
    size_t n = 1;
    for (int i = axis_; i < 4; ++i) n *= d[i];
    return n;
  }

  const ir::Node& node_;
  int axis_;
  std::vector<Part> parts_;
  size_t out_stride_ = 0;  // along channels: floats from one output pixel to the next
  float* output_ = nullptr;
  size_t outer_ = 0, row_stride_ = 0, copies_ = 0;
};

}  // namespace

bool concat_supported(const ModelData& model, const ir::Node& node) {
  if (model.upper_shapes[node.output].rank() != 4) return false;
  return std::all_of(node.inputs.begin(), node.inputs.end(), [&](int v) { return rank4_activation(model, v); });
}

std::unique_ptr<Step> make_concat_step(const ModelData& model, const MemoryPlan& memory, const ir::Node& node) {
  return std::make_unique<ConcatStep>(model, memory, node);
}

}  // namespace tessera::xnnpack
