// Pad: constant, reflect or edge padding of all four NCHW axes; negative pads crop.
#include <algorithm>
#include <array>
#include <cstdlib>

#include "backends/reference/ops.h"

namespace tessera::reference {
namespace {

// One axis: negative pads first crop the input to [crop_begin, crop_begin + kept) (as ONNX Runtime
// does), then positive pads extend that cropped range, `pad_begin` of them before it.
struct AxisMap {
  int64_t crop_begin = 0, kept = 0, pad_begin = 0;
};

// Mirrors i into [0, n) without repeating the edge (numpy "reflect"), periodically for big pads.
int64_t reflect(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  i = std::abs(i) % period;
  return i < n ? i : period - i;
}

// The input index that output index `o` reads along one axis, or -1 for the constant value.
int64_t source_index(ir::PadMode mode, const AxisMap& m, int64_t o) {
  int64_t i = o - m.pad_begin;  // index into the cropped range
  if (i < 0 || i >= m.kept) {
    switch (mode) {
      case ir::PadMode::Constant: return -1;
      case ir::PadMode::Edge: i = std::clamp(i, int64_t{0}, m.kept - 1); break;
      case ir::PadMode::Reflect: i = reflect(i, m.kept); break;
    }
  }
  return m.crop_begin + i;
}

}  // namespace

Status pad(const ir::PadAttrs& a, Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 1, "Pad takes 1 input (pads are attributes), got {}", in.size());
  const Shape& xs = in[0].shape;
  TESSERA_REF_EXPECT(xs.rank() == 4 && out.shape.rank() == 4, "Pad expects rank 4, got {} -> {}",
                     xs.to_string(), out.shape.to_string());
  std::array<AxisMap, 4> axes;
  for (int ax = 0; ax < 4; ++ax) {
    const int64_t begin = a.pads[ax], end = a.pads[ax + 4];
    AxisMap& m = axes[ax];
    m.crop_begin = std::max<int64_t>(0, -begin);
    m.kept = xs[ax] - m.crop_begin - std::max<int64_t>(0, -end);
    m.pad_begin = std::max<int64_t>(0, begin);
    // Reflect and edge need at least one kept pixel to copy from.
    TESSERA_REF_EXPECT(m.kept >= 0 && out.shape[ax] == xs[ax] + begin + end &&
                           (m.kept > 0 || a.mode == ir::PadMode::Constant || out.shape[ax] == 0),
                       "Pad of axis {} by [{}, {}] cannot map {} to {}", ax, begin, end,
                       xs.to_string(), out.shape.to_string());
  }

  float* y = out.data;
  for (int64_t n = 0; n < out.shape[0]; ++n) {
    const int64_t sn = source_index(a.mode, axes[0], n);
    for (int64_t c = 0; c < out.shape[1]; ++c) {
      const int64_t sc = source_index(a.mode, axes[1], c);
      for (int64_t h = 0; h < out.shape[2]; ++h) {
        const int64_t sh = source_index(a.mode, axes[2], h);
        const bool row_inside = sn >= 0 && sc >= 0 && sh >= 0;
        const float* x_row =
            row_inside ? in[0].data + ((sn * xs[1] + sc) * xs[2] + sh) * xs[3] : nullptr;
        for (int64_t w = 0; w < out.shape[3]; ++w) {
          const int64_t sw = source_index(a.mode, axes[3], w);
          *y++ = row_inside && sw >= 0 ? x_row[sw] : a.value;
        }
      }
    }
  }
  return Status::ok_status();
}

}  // namespace tessera::reference
