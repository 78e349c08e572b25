#include "backends/onednn/pointwise_sum.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace tessera::onednn {
namespace {

// The most output vectors a block keeps in registers: 4 x 6 pixels = 24 accumulators, plus the
// weights and a broadcast input, within AVX-512's 32 registers.
constexpr int64_t kMaxVectors = 4;

// f rounded to bf16, to nearest even, as oneDNN rounds weights (a NaN stays a NaN).
uint16_t to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  return static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

}  // namespace

// The kernel for output vectors [first, first + V) of every pixel. A block of kPixels adjacent
// pixels accumulates its kPixels * V vectors in registers, one FMA per input channel and vector
// (in bf16 one VDPBF16PS per pair of input channels and vector), in the order term, input
// channel; the pixels left over at the end run one at a time, through the same operations. Each
// block prefetches the inputs of the block kPrefetchBlocks on: with the hardware prefetchers alone
// the FMAs wait on memory (1.2-1.25x slower on 2 and 10 inputs of 64 channels at 256x256, where 1
// and 2 blocks ahead were best).
template <int V>
class PointwiseKernel {
 public:
  PointwiseKernel(const PointwiseSum& sum, std::span<const ConstTensorView> inputs, const float* running, float* y,
                  int64_t first)
      : s(sum), inputs_(inputs), running_(running), y_(y), first_(first) {
    const int64_t last_lanes = s.oc_ - (s.vectors_ - 1) * kLanes;
    last_ = static_cast<__mmask16>((1u << last_lanes) - 1);
  }

  void run(int64_t pixels) const {
    const int64_t blocks = pixels / kPixels;
    if (s.bf16_) {
#pragma omp parallel for schedule(static)
      for (int64_t b = 0; b < blocks; ++b) block_bf16<kPixels>(b * kPixels, b + kPrefetchBlocks < blocks);
      for (int64_t p = blocks * kPixels; p < pixels; ++p) block_bf16<1>(p, false);
      return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) block<kPixels>(b * kPixels, b + kPrefetchBlocks < blocks);
    for (int64_t p = blocks * kPixels; p < pixels; ++p) block<1>(p, false);
  }

 private:
  static constexpr int kPixels = 24 / V;
  static constexpr int kPrefetchBlocks = 2;

  // Starts the accumulators of P pixels: the running sum, or 0.
  template <int P>
  [[gnu::target("avx512f"), gnu::always_inline]] void start(int64_t pixel, bool prefetch, __m512 (&acc)[P][V]) const {
    if (prefetch && running_)
      for (int p = 0; p < P; ++p)
        for (int v = 0; v < V; ++v)
          _mm_prefetch(reinterpret_cast<const char*>(running_ + (pixel + kPrefetchBlocks * P + p) * s.oc_ +
                                                     (first_ + v) * kLanes),
                       _MM_HINT_T0);
#pragma GCC unroll 24
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) {
        const int64_t vector = first_ + v;
        acc[p][v] = running_ ? _mm512_maskz_loadu_ps(lanes(vector), running_ + (pixel + p) * s.oc_ + vector * kLanes)
                             : _mm512_setzero_ps();
      }
  }

  template <int P>
  [[gnu::target("avx512f"), gnu::always_inline]] void prefetch_inputs(const float* x, int64_t channels) const {
    for (int64_t f = 0; f < P * channels; f += kLanes)
      _mm_prefetch(reinterpret_cast<const char*>(x + kPrefetchBlocks * P * channels + f), _MM_HINT_T0);
  }

  // Writes the accumulators of P pixels, with the bias and the post-ops in the last part.
  template <int P>
  [[gnu::target("avx512f"), gnu::always_inline]] void finish(int64_t pixel, __m512 (&acc)[P][V]) const {
#pragma GCC unroll 24
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) {
        const int64_t vector = first_ + v;
        float* y = y_ + (pixel + p) * s.oc_ + vector * kLanes;
        const __m512 out =
            s.last_part_
                ? apply(s.epilogue_, _mm512_add_ps(acc[p][v], _mm512_load_ps(s.bias_[vector].v)), y, lanes(vector))
                : acc[p][v];
        _mm512_mask_storeu_ps(y, lanes(vector), out);
      }
  }

  template <int P>
  [[gnu::target("avx512f")]] void block(int64_t pixel, bool prefetch) const {
    __m512 acc[P][V];
    start<P>(pixel, prefetch, acc);
    for (size_t t = 0; t < s.channels_.size(); ++t) {
      const int64_t channels = s.channels_[t];
      const float* x = inputs_[t].data + pixel * channels;
      const Lanes* w = s.weights_.data() + s.first_row_[t] * s.vectors_ + first_;
      if (prefetch) prefetch_inputs<P>(x, channels);
      for (int64_t c = 0; c < channels; ++c, w += s.vectors_) {
        __m512 wv[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) wv[v] = _mm512_load_ps(w[v].v);
#pragma GCC unroll 24
        for (int p = 0; p < P; ++p) {
          __m512 xv = _mm512_set1_ps(x[p * channels + c]);
          asm("" : "+v"(xv));  // one broadcast per pixel: GCC would fold it into each of the V FMAs
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[p][v] = _mm512_fmadd_ps(xv, wv[v], acc[p][v]);
        }
      }
    }
    finish<P>(pixel, acc);
  }

  // As block, multiplying in bf16: each pixel's input channels are rounded 32 at a time (two
  // vectors; those past the last channel read as 0), then each pair's products are added to the
  // accumulators by one VDPBF16PS per output vector.
  template <int P>
  [[gnu::target("avx512f,avx512bf16")]] void block_bf16(int64_t pixel, bool prefetch) const {
    __m512 acc[P][V];
    start<P>(pixel, prefetch, acc);
    alignas(64) uint32_t pairs[P][kLanes];  // [pixel][pair]: two input channels in bf16
    for (size_t t = 0; t < s.channels_.size(); ++t) {
      const int64_t channels = s.channels_[t];
      const float* x = inputs_[t].data + pixel * channels;
      const Lanes* w = s.weights_.data() + s.first_row_[t] * s.vectors_ + first_;
      if (prefetch) prefetch_inputs<P>(x, channels);
      for (int64_t c = 0; c < channels; c += 2 * kLanes) {
        const int64_t n = std::min<int64_t>(2 * kLanes, channels - c);
        const __mmask16 low = lane_range(0, n), high = lane_range(0, n - kLanes);
#pragma GCC unroll 24
        for (int p = 0; p < P; ++p) {
          const float* xp = x + p * channels + c;
          const __m512bh rounded =
              _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, xp + kLanes), _mm512_maskz_loadu_ps(low, xp));
          _mm512_store_si512(pairs[p], reinterpret_cast<const __m512i&>(rounded));
        }
        for (int64_t k = 0; k < (n + 1) / 2; ++k, w += s.vectors_) {
          __m512bh wv[V];
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) wv[v] = reinterpret_cast<const __m512bh&>(w[v]);
#pragma GCC unroll 24
          for (int p = 0; p < P; ++p) {
            __m512i xv = _mm512_set1_epi32(static_cast<int>(pairs[p][k]));
            asm("" : "+v"(xv));  // one broadcast per pixel, as in block
#pragma GCC unroll 4
            for (int v = 0; v < V; ++v) acc[p][v] = _mm512_dpbf16_ps(acc[p][v], reinterpret_cast<__m512bh&>(xv), wv[v]);
          }
        }
      }
    }
    finish<P>(pixel, acc);
  }

  __mmask16 lanes(int64_t vector) const { return vector + 1 < s.vectors_ ? __mmask16{0xFFFF} : last_; }

  const PointwiseSum& s;
  const std::span<const ConstTensorView> inputs_;
  const float* const running_;
  float* const y_;
  const int64_t first_;
  __mmask16 last_;  // the lanes of the last output vector that hold channels
};

bool PointwiseSum::applies(const ir::Graph& g, std::span<const int> terms, std::span<const PostOp> post_ops) {
  if (terms.empty()) return false;
  const int64_t oc = g.values[g.nodes[terms[0]].inputs[1]].constant_shape[0];
  for (int n : terms) {
    const ir::Node& node = g.nodes[n];
    if (!ir::is_plain_conv(g, node) || !ir::is_pointwise_conv(node) || g.values[node.inputs[1]].constant_shape[0] != oc)
      return false;
  }
  Epilogue step;
  for (const PostOp& op : post_ops)
    if (op.kind == PostOp::Kind::Sum || !Epilogue::of(op, &step)) return false;
  return __builtin_cpu_supports("avx512f");
}

bool PointwiseSum::has_bf16() { return __builtin_cpu_supports("avx512bf16"); }

PointwiseSum::PointwiseSum(const ir::Graph& g, std::span<const int> terms, std::span<const PostOp> post_ops,
                           const SumPart& part, bool bf16)
    : last_part_(part.last), bf16_(bf16 && has_bf16()) {
  oc_ = g.values[g.nodes[terms[0]].inputs[1]].constant_shape[0];
  vectors_ = (oc_ + kLanes - 1) / kLanes;
  bias_.assign(vectors_, Lanes{});
  int64_t rows = 0;
  for (int n : terms) {
    first_row_.push_back(rows);
    channels_.push_back(g.values[g.nodes[n].inputs[1]].constant_shape[1]);
    rows += bf16_ ? (channels_.back() + 1) / 2 : channels_.back();
  }
  weights_.assign(rows * vectors_, Lanes{});
  for (size_t t = 0; t < terms.size(); ++t) {
    const ir::Node& node = g.nodes[terms[t]];
    const float* w = g.values[node.inputs[1]].constant_data;  // [OC, C, 1, 1]
    for (int64_t c = 0; c < channels_[t]; ++c)
      for (int64_t o = 0; o < oc_; ++o) {
        const float weight = w[o * channels_[t] + c];
        if (!bf16_) {
          weights_[(first_row_[t] + c) * vectors_ + o / kLanes].v[o % kLanes] = weight;
          continue;
        }
        // Lane o of the row of channels 2k and 2k + 1: 2k's weight in its low half, 2k + 1's in its high.
        const uint16_t rounded = to_bf16(weight);
        char* lanes = reinterpret_cast<char*>(weights_[(first_row_[t] + c / 2) * vectors_ + o / kLanes].v);
        std::memcpy(lanes + sizeof(float) * (o % kLanes) + sizeof(uint16_t) * (c % 2), &rounded, sizeof(rounded));
      }
  }
  if (!last_part_) return;
  for (int n : part.sum_terms.empty() ? terms : part.sum_terms) {
    const ir::Node& node = g.nodes[n];
    if (node.inputs.size() == 3)
      for (int64_t o = 0; o < oc_; ++o) bias_[o / kLanes].v[o % kLanes] += g.values[node.inputs[2]].constant_data[o];
  }
  for (const PostOp& op : post_ops) Epilogue::of(op, &epilogue_.emplace_back());
}

void PointwiseSum::run(std::span<const ConstTensorView> inputs, const float* running, float* y) const {
  const Shape& s = inputs[0].shape;
  const int64_t pixels = s[0] * s[2] * s[3];
  for (int64_t first = 0; first < vectors_; first += kMaxVectors) {
    switch (std::min(kMaxVectors, vectors_ - first)) {
      case 1: PointwiseKernel<1>(*this, inputs, running, y, first).run(pixels); break;
      case 2: PointwiseKernel<2>(*this, inputs, running, y, first).run(pixels); break;
      case 3: PointwiseKernel<3>(*this, inputs, running, y, first).run(pixels); break;
      case 4: PointwiseKernel<4>(*this, inputs, running, y, first).run(pixels); break;
    }
  }
}

int64_t PointwiseSum::bytes() const {
  return static_cast<int64_t>((weights_.size() + bias_.size()) * sizeof(Lanes) + epilogue_.size() * sizeof(Epilogue) +
                              (channels_.size() + first_row_.size()) * sizeof(int64_t));
}

}  // namespace tessera::onednn
