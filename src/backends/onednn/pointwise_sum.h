// The oneDNN backend's own kernel for a sum of 1x1 convolutions of several inputs: what the
// compiler makes of a 1x1 convolution over a Concat (one convolution per piece, then Adds;
// split_conv_over_concat), as in ESRGAN's residual dense blocks. oneDNN runs each term as a
// convolution that adds into the output (a sum post-op), reading and writing the whole output once
// per term, and such layers are bound by memory; this kernel reads each input once and writes the
// output once. It vectorizes over output channels with AVX-512: a block of pixels keeps its
// accumulators in registers over every term's input channels.
//
// Every output pixel is computed by the same operations in the same order (the terms in order,
// each one's input channels in order, then the bias and the post-ops), wherever it falls in the
// image or in the work split, so that tiles stitch bit for bit. A sum whose terms run at different
// places in the graph (run_sum_terms_early) runs in parts: each part continues the running sum
// that the part before wrote (in float32, so without a bit changed), the last one adds the bias and
// the post-ops: the same bits as the sum in one part.
//
// In bf16 (a session's precision, on CPUs with AVX512_BF16) it multiplies as oneDNN's bf16
// convolutions do: each input channel and weight rounded to bf16 (to nearest even), the products of
// each pair of channels added to the fp32 accumulators by VDPBF16PS, in the same order everywhere.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backends/onednn/avx512.h"
#include "backends/onednn/plan.h"
#include "tessera/tensor.h"

namespace tessera::onednn {

// Which part of its sum a PointwiseSum is.
struct SumPart {
  bool last = true;                // adds the bias and the post-ops; else writes the running sum as it is
  std::span<const int> sum_terms;  // last: every term of the sum, whose biases it adds; empty: `terms`
};

class PointwiseSum {
 public:
  // Whether the sum of convolutions `terms` (1x1, stride 1, no padding, one group, constant
  // weights and bias, each over one rank-4 input, all with the same output channels), followed by
  // `post_ops`, runs on PointwiseSum on this CPU.
  static bool applies(const ir::Graph& graph, std::span<const int> terms, std::span<const PostOp> post_ops);

  // Whether this CPU multiplies in bf16 here (AVX512_BF16); elsewhere a bf16 session's sums stay fp32.
  static bool has_bf16();

  // Packs the terms' weights (rounded to bf16 with `bf16`, where has_bf16(); elsewhere the sum stays
  // fp32) and, for a last part, the summed biases, for terms that applies() accepts.
  PointwiseSum(const ir::Graph& graph, std::span<const int> terms, std::span<const PostOp> post_ops,
               const SumPart& part = {}, bool bf16 = false);

  // inputs: per term, NHWC data of its input [N, C, H, W]; running: NHWC data of the running sum
  // [N, OC, H, W] of the parts before, which may be y itself, or null: the sum starts at 0;
  // y: NHWC data of [N, OC, H, W].
  // Threads over blocks of pixels (omp_get_max_threads()).
  void run(std::span<const ConstTensorView> inputs, const float* running, float* y) const;

  // What it holds: packed weights, bias and post-ops.
  int64_t bytes() const;

 private:
  template <int V>
  friend class PointwiseKernel;

  int64_t oc_ = 0;
  int64_t vectors_ = 0;                    // output vectors of 16 lanes per pixel: OC rounded up
  std::vector<int64_t> channels_;          // per term: its input channels
  std::vector<int64_t> first_row_;         // per term: its first row of weights_
  // [term][row][output vector]; lanes past OC are 0. fp32: a row per input channel; bf16: a row per
  // pair of input channels (the last one of an odd count paired with 0), 16 lanes of 2 bf16 each.
  std::vector<Lanes> weights_;
  std::vector<Lanes> bias_;                // [output vector]: the terms' biases summed
  std::vector<Epilogue> epilogue_;
  bool last_part_ = true;
  bool bf16_ = false;
};

}  // namespace tessera::onednn
