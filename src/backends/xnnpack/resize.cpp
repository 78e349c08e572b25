// Each output row and column gets its source indices and weights once per shape (setup); run() is then
// a gather of whole pixels (all channels at once, contiguous in NHWC; the input or output may be a
// channel slice of a wider tensor, with its pixel stride). The taps are those of the reference kernel
// (backends/resize_taps.h), so the results are identical to it.
#include "backends/xnnpack/resize.h"

#include <algorithm>
#include <variant>
#include <vector>

#include "backends/resize_taps.h"
#include "backends/xnnpack/lowering.h"

namespace tessera::xnnpack {
namespace {

using Tap = ResizeTap;

bool same(const Tap& a, const Tap& b) { return a.i0 == b.i0 && a.i1 == b.i1 && a.w0 == b.w0 && a.w1 == b.w1; }

class ResizeStep : public Step {
 public:
  ResizeStep(const ModelData& model, const MemoryPlan& memory, const ir::Node& node)
      : node_(node),
        attrs_(std::get<ir::ResizeAttrs>(node.attrs)),
        in_stride_(pixel_stride(model, memory, node.inputs[0])),
        out_stride_(pixel_stride(model, memory, node.output)),
        rows_(model.upper_shapes[node.output][2]),
        cols_(model.upper_shapes[node.output][3]) {}

  Status setup(const StepContext& ctx) override {
    const Shape& xs = ctx.shapes[node_.inputs[0]];
    const Shape& ys = ctx.shapes[node_.output];
    fill(0, ys[2], xs[2], rows_.data());
    fill(1, ys[3], xs[3], cols_.data());
    return {};
  }

  Status run(const StepContext& ctx) override {
    const Shape& xs = ctx.shapes[node_.inputs[0]];
    const Shape& ys = ctx.shapes[node_.output];
    const int64_t channels = xs[1], in_h = xs[2], in_w = xs[3], out_h = ys[2], out_w = ys[3];
    const int64_t is = in_stride_, os = out_stride_;
    const float* x = ctx.data[node_.inputs[0]];
    float* y = ctx.data[node_.output];
    const bool nearest = attrs_.mode == ir::ResizeMode::Nearest;
    parallel_for(ctx.pool, static_cast<size_t>(ys[0] * out_h), 8, [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        const int64_t n = static_cast<int64_t>(r) / out_h, oy = static_cast<int64_t>(r) % out_h;
        const Tap& h = rows_[oy];
        float* out = y + static_cast<int64_t>(r) * out_w * os;
        // An upscale repeats each row's taps: copy the row this thread just made.
        if (r > begin && oy > 0 && same(rows_[oy - 1], h)) {
          const float* above = out - out_w * os;
          if (os == channels)
            std::copy_n(above, out_w * channels, out);
          else
            for (int64_t ox = 0; ox < out_w; ++ox) std::copy_n(above + ox * os, channels, out + ox * os);
          continue;
        }
        const float* row0 = x + (n * in_h + h.i0) * in_w * is;
        const float* row1 = x + (n * in_h + h.i1) * in_w * is;
        for (int64_t ox = 0; ox < out_w; ++ox, out += os) {
          const Tap& w = cols_[ox];
          if (nearest) {
            std::copy_n(row0 + w.i0 * is, channels, out);
            continue;
          }
          const float *v00 = row0 + w.i0 * is, *v01 = row0 + w.i1 * is;
          const float *v10 = row1 + w.i0 * is, *v11 = row1 + w.i1 * is;
          for (int64_t c = 0; c < channels; ++c)
            out[c] = h.w0 * (w.w0 * v00[c] + w.w1 * v01[c]) + h.w1 * (w.w0 * v10[c] + w.w1 * v11[c]);
        }
      }
    });
    return {};
  }

  int64_t extra_bytes() const override { return static_cast<int64_t>((rows_.size() + cols_.size()) * sizeof(Tap)); }

 private:
  void fill(int axis, int64_t out_len, int64_t in_len, Tap* taps) const {
    for (int64_t o = 0; o < out_len; ++o) taps[o] = resize_tap(attrs_, axis, o, in_len, out_len);
  }

  const ir::Node& node_;
  const ir::ResizeAttrs& attrs_;
  const int64_t in_stride_, out_stride_;  // floats from one pixel to the next
  std::vector<Tap> rows_, cols_;  // per output row and column, sized for the upper bound
};

}  // namespace

std::unique_ptr<Step> make_resize_step(const ModelData& model, const MemoryPlan& memory, const ir::Node& node) {
  return std::make_unique<ResizeStep>(model, memory, node);
}

}  // namespace tessera::xnnpack
