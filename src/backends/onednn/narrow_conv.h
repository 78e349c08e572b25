// The oneDNN backend's own kernel for convolutions with few output channels (a network's last
// layer, a dense block's growth layer), which oneDNN 2.6 runs at a fraction of the FMA peak: its
// kernels vectorize over output channels in blocks of 16, so that 4 outputs leave 3/4 of the lanes
// idle. This one vectorizes over the input channels of each output pixel's window with AVX-512,
// and sums the lanes of 16 (pixel, channel) accumulators at once in one transposing reduction.
//
// Every output pixel is computed by the same operations in the same order over its zero-padded
// window, wherever it falls in the image or in the work split, so that tiles stitch bit for bit.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backends/onednn/avx512.h"
#include "backends/onednn/plan.h"

namespace tessera::onednn {

// The most output channels the kernel takes. With 5 to 8 it still beats oneDNN on wide inputs
// (64->8 3x3: 1.5x) but loses on narrow ones (8->8 3x3: 0.7x, 3->8: 0.45x).
inline constexpr int64_t kNarrowConvMaxOutputs = 4;

class NarrowConv {
 public:
  // Whether Conv `node` with the post-ops folded into it runs on NarrowConv on this CPU (the node
  // is otherwise one that oneDNN runs: constant weights and bias, rank-4 activations).
  static bool applies(const ir::Graph& graph, int node, std::span<const PostOp> post_ops);

  // Packs convolution `node`'s weights and bias, for a node that applies() accepts. `nchw_output`:
  // run() writes y NCHW (a graph output, which then needs no reorder; not with a Sum post-op).
  NarrowConv(const ir::Graph& graph, int node, std::span<const PostOp> post_ops, bool nchw_output = false);

  // x: NHWC data of the logical input shape [N, C, H, W]; y: NHWC (or NCHW) data of [N, OC, OH, OW],
  // which a Sum post-op reads before it writes. Threads over output rows (omp_get_max_threads()).
  void run(const float* x, const Shape& x_shape, float* y, const Shape& y_shape) const;

  // What it holds: packed weights, bias and post-ops.
  int64_t bytes() const;

 private:
  template <int OC>
  friend class NarrowKernel;

  int oc_;
  bool nchw_output_;
  int64_t ic_, kh_, kw_, stride_h_, stride_w_, dilation_h_, dilation_w_, pad_top_, pad_left_;
  // A window row is read as segments of contiguous floats: the whole row of kw_ taps when they
  // are adjacent (no dilation), else one tap each; a segment is vectors_ vectors of 16 lanes.
  int64_t segments_, segment_floats_, vectors_;
  std::vector<Lanes> weights_;  // [ky][segment][vector][oc]: lane l is the segment's float 16*vector + l
  Lanes bias_{};                // lane k: the bias of channel k % OC
  std::vector<Epilogue> epilogue_;
};

}  // namespace tessera::onednn
