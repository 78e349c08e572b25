#include "backends/onednn/narrow_conv.h"

#include <immintrin.h>

#include <algorithm>
#include <stdexcept>

namespace tessera::onednn {
namespace {

struct Image {
  const float* x;  // NHWC
  float* y;        // NHWC
  int64_t batch, h, w, oh, ow;
};

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((b - 1 - a) / b); }

// Lane k of the result is the sum of the lanes of sums[k], added in the same tree for every k
// whatever the other vectors hold: (l + l+8) + (l+4 + l+12) for l < 4, then (0 + 1) + (2 + 3).
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512 reduce(const __m512 (&sums)[kLanes]) {
  // The network leaves the sum of a[4j + k] in lane 4k + j: fed transposed, lane k gets sums[k].
  // The loops are unrolled completely so that the accumulators stay in registers. A zero-masked
  // shuffle of every lane compiles to the plain one, without GCC 12's false -Wmaybe-uninitialized
  // about the plain intrinsic.
  __m512 a[kLanes], s[8], t[4], u[2];
#pragma GCC unroll 16
  for (int k = 0; k < kLanes; ++k) a[k % 4 * 4 + k / 4] = sums[k];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)  // 256-bit halves: [a[2i] lanes l + l+8, a[2i+1] lanes l + l+8]
    s[i] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, a[2 * i], a[2 * i + 1], 0x44),
                         _mm512_maskz_shuffle_f32x4(0xFFFF, a[2 * i], a[2 * i + 1], 0xEE));
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)  // 128-bit lane q: a[4i + q], 4 partial sums
    t[i] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, s[2 * i], s[2 * i + 1], 0x88),
                         _mm512_maskz_shuffle_f32x4(0xFFFF, s[2 * i], s[2 * i + 1], 0xDD));
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i)  // within each 128-bit lane: pairs of partial sums
    u[i] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * i], t[2 * i + 1], 0x88),
                         _mm512_shuffle_ps(t[2 * i], t[2 * i + 1], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], 0x88), _mm512_shuffle_ps(u[0], u[1], 0xDD));
}

}  // namespace

// The kernel for OC output channels. A block of kPixels adjacent output pixels of one row gives
// kPixels * OC accumulators of 16 lanes (at most 16: one reduction). Each lane accumulates its
// share of the window with one FMA per window vector, in the order ky, segment, vector.
template <int OC>
class NarrowKernel {
 public:
  NarrowKernel(const NarrowConv& conv, const Image& image)
      : c(conv),
        im(image),
        step_(c.stride_w_ * c.ic_),
        row_step_(c.dilation_h_ * im.w * c.ic_),
        jump_(c.dilation_w_ * c.ic_),
        full_(c.segment_floats_ / kLanes),
        tail_(lane_range(0, c.segment_floats_ % kLanes)),
        ky_lanes_(c.segments_ * c.vectors_ * OC),
        reach_((c.kw_ - 1) * c.dilation_w_),
        plane_(im.oh * im.ow) {}

  void run() const {
    const int64_t rows = im.batch * im.oh;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) row(r / im.oh, r % im.oh);
  }

 private:
  static constexpr int kPixels = kLanes / OC;
  // Channel o's lanes in a block's sums (o, o + OC, ...): one lane per pixel.
  static constexpr __mmask16 channel_lanes(int o) {
    __mmask16 m = 0;
    for (int p = 0; p < kPixels; ++p) m |= static_cast<__mmask16>(1u << (p * OC + o));
    return m;
  }
  // How far ahead (at least) a block prefetches the input rows; the best of 0 to 2048 on 64->4,
  // 32->3 and 12->3 3x3 layers.
  static constexpr int64_t kPrefetchFloats = 256;

  // The input rows of an output row's windows: those of ky in [begin, end) lie inside the input,
  // the first at x (at column 0).
  struct Rows {
    const float* x;
    int64_t begin, end;
  };

  // Pixels whose window lies inside the input's columns run in blocks; the others (and rows too
  // short for a block) one at a time, with the columns outside masked to zero: the same sums.
  [[gnu::target("avx512f")]] void row(int64_t n, int64_t oy) const {
    const int64_t top = oy * c.stride_h_ - c.pad_top_;  // the input row of ky = 0
    Rows rows{im.x, std::clamp<int64_t>(floor_div(c.dilation_h_ - 1 - top, c.dilation_h_), 0, c.kh_), 0};
    rows.end = std::clamp<int64_t>(floor_div(im.h - 1 - top, c.dilation_h_) + 1, rows.begin, c.kh_);
    if (rows.begin < rows.end) rows.x += (n * im.h + top + rows.begin * c.dilation_h_) * im.w * c.ic_;
    float* y = c.nchw_output_ ? im.y + n * OC * plane_ + oy * im.ow : im.y + (n * im.oh + oy) * im.ow * OC;
    const int64_t begin = std::min(im.ow, floor_div(c.pad_left_ + c.stride_w_ - 1, c.stride_w_));
    const int64_t end = std::clamp(floor_div(im.w - 1 - reach_ + c.pad_left_, c.stride_w_) + 1, begin, im.ow);
    int64_t ox = 0;
    for (; ox < begin; ++ox) pixel(rows, ox, y);
    if (end - begin >= kPixels) {
      const int64_t ahead = (kPrefetchFloats / (kPixels * step_) + 1) * kPixels;  // pixels, whole blocks
      for (; ox + kPixels <= end; ox += kPixels)
        block(rows, ox, y, 0, ox + ahead + kPixels <= end ? ahead : 0);
      // The rest: the block that ends at `end`, storing only the pixels not stored yet (a Sum
      // post-op must not add twice).
      if (ox < end) block(rows, end - kPixels, y, static_cast<int>(ox - (end - kPixels)), 0);
      ox = end;
    }
    for (; ox < im.ow; ++ox) pixel(rows, ox, y);
  }

  // Adds one window vector of each pixel of a block (x: the first pixel's). Only a segment's tail
  // vector is loaded masked (masked loads are slower): the floats after it may lie past the
  // input's end, or be infinite or NaN, which its zero weights would not cancel.
  template <bool kTail>
  [[gnu::target("avx512f"), gnu::always_inline]] void accumulate(__m512 (&acc)[kLanes], const float* x,
                                                                 const Lanes* w) const {
    __m512 wv[OC];
#pragma GCC unroll 8
    for (int o = 0; o < OC; ++o) wv[o] = _mm512_load_ps(w[o].v);
#pragma GCC unroll 16
    for (int p = 0; p < kPixels; ++p) {
      __m512 xv = kTail ? _mm512_maskz_loadu_ps(tail_, x + p * step_) : _mm512_loadu_ps(x + p * step_);
      asm("" : "+v"(xv));  // one load per pixel: GCC would fold it into each of the OC FMAs
#pragma GCC unroll 8
      for (int o = 0; o < OC; ++o) acc[p * OC + o] = _mm512_fmadd_ps(xv, wv[o], acc[p * OC + o]);
    }
  }

  // Output pixels ox .. ox + kPixels - 1, whose windows lie inside the input's columns; stores
  // those from `first` on. Prefetches (part of) the input of the block `ahead` pixels on, unless
  // 0: with the hardware prefetchers alone the FMAs wait on memory (up to 1.4x slower).
  [[gnu::target("avx512f")]] void block(const Rows& rows, int64_t ox, float* y, int first, int64_t ahead) const {
    const float* x0 = rows.x + (ox * c.stride_w_ - c.pad_left_) * c.ic_;
    if (ahead > 0)
      for (int64_t ky = rows.begin; ky < rows.end; ++ky)
        for (int64_t f = 0; f < (kPixels - 1) * step_ + c.ic_; f += kLanes)
          _mm_prefetch(reinterpret_cast<const char*>(x0 + (ky - rows.begin) * row_step_ + ahead * step_ + f),
                       _MM_HINT_T0);
    __m512 acc[kLanes] = {};
    for (int64_t ky = rows.begin; ky < rows.end; ++ky) {
      const Lanes* w = c.weights_.data() + ky * ky_lanes_;
      const float* x = x0 + (ky - rows.begin) * row_step_;
      for (int64_t s = 0; s < c.segments_; ++s, x += jump_) {
        for (int64_t v = 0; v < full_; ++v, w += OC) accumulate<false>(acc, x + v * kLanes, w);
        if (full_ < c.vectors_) accumulate<true>(acc, x + full_ * kLanes, w), w += OC;
      }
    }
    finish(reduce(acc), y, ox, first, kPixels);
  }

  // One output pixel anywhere: lanes of window columns outside the input are zero.
  [[gnu::target("avx512f")]] void pixel(const Rows& rows, int64_t ox, float* y) const {
    __m512 acc[kLanes] = {};
    const int64_t columns = c.segment_floats_ / c.ic_;  // window columns per segment
    for (int64_t ky = rows.begin; ky < rows.end; ++ky) {
      const Lanes* w = c.weights_.data() + ky * ky_lanes_;
      const float* row = rows.x + (ky - rows.begin) * row_step_;
      for (int64_t s = 0; s < c.segments_; ++s) {
        const int64_t col = ox * c.stride_w_ - c.pad_left_ + s * c.dilation_w_;  // the segment's first column
        // The segment's floats that lie inside the row.
        const int64_t lo = std::clamp<int64_t>(-col, 0, columns) * c.ic_;
        const int64_t hi = std::clamp<int64_t>(im.w - col, 0, columns) * c.ic_;
        for (int64_t v = 0; v < c.vectors_; ++v, w += OC) {
          const int64_t base = v * kLanes;
          const __mmask16 m = lane_range(lo - base, hi - base);
          // Expanding from the first lane inside the row never forms an address outside it.
          const __m512 xv = m == 0 ? _mm512_setzero_ps()
                                   : _mm512_maskz_expandloadu_ps(m, row + col * c.ic_ + std::max(lo, base));
#pragma GCC unroll 8
          for (int o = 0; o < OC; ++o) acc[o] = _mm512_fmadd_ps(xv, _mm512_load_ps(w[o].v), acc[o]);
        }
      }
    }
    finish(reduce(acc), y, ox, 0, 1);
  }

  // Adds the bias to the sums of `pixels` pixels from column ox on, applies the post-ops and stores
  // the pixels from `first` on in output row y: NHWC, the block's lanes as they are; NCHW, each
  // channel's lanes packed into its plane.
  [[gnu::target("avx512f")]] void finish(__m512 sums, float* y, int64_t ox, int first, int pixels) const {
    const __m512 v = _mm512_add_ps(sums, _mm512_load_ps(c.bias_.v));
    if (!c.nchw_output_) {
      const __mmask16 store = lane_range(first * OC, pixels * OC);
      _mm512_mask_storeu_ps(y + ox * OC, store, apply(c.epilogue_, v, y + ox * OC, store));
      return;
    }
    const __m512 out = apply(c.epilogue_, v, nullptr, 0);  // no Sum post-op with NCHW output (constructor)
    const __mmask16 store = lane_range(first, pixels);
#pragma GCC unroll 4
    for (int o = 0; o < OC; ++o)
      _mm512_mask_storeu_ps(y + o * plane_ + ox, store, _mm512_maskz_compress_ps(channel_lanes(o), out));
  }

  const NarrowConv& c;
  const Image& im;
  const int64_t step_;      // floats between adjacent output pixels' windows
  const int64_t row_step_;  // floats between the input rows of adjacent ky
  const int64_t jump_;      // floats between a window row's segments
  const int64_t full_;      // whole vectors in a segment
  const __mmask16 tail_;    // the lanes of a segment's last vector when it is not whole
  const int64_t ky_lanes_;  // weight vectors per ky
  const int64_t reach_;     // input columns that a window spans, less one
  const int64_t plane_;     // floats in an output channel's plane (NCHW output)
};

bool NarrowConv::applies(const ir::Graph& g, int n, std::span<const PostOp> post_ops) {
  const ir::Node& node = g.nodes[n];
  if (node.op != ir::Op::Conv || std::get<ir::ConvAttrs>(node.attrs).group != 1) return false;
  if (g.values[node.inputs[1]].constant_shape[0] > kNarrowConvMaxOutputs) return false;
  Epilogue step;
  for (const PostOp& op : post_ops)
    if (!Epilogue::of(op, &step)) return false;
  return __builtin_cpu_supports("avx512f");
}

NarrowConv::NarrowConv(const ir::Graph& g, int n, std::span<const PostOp> post_ops, bool nchw_output)
    : nchw_output_(nchw_output) {
  const ir::Node& node = g.nodes[n];
  const ir::ConvAttrs& a = std::get<ir::ConvAttrs>(node.attrs);
  const ir::Value& w = g.values[node.inputs[1]];  // [OC, IC, KH, KW]
  oc_ = static_cast<int>(w.constant_shape[0]);
  ic_ = w.constant_shape[1];
  kh_ = w.constant_shape[2];
  kw_ = w.constant_shape[3];
  stride_h_ = a.strides[0];
  stride_w_ = a.strides[1];
  dilation_h_ = a.dilations[0];
  dilation_w_ = a.dilations[1];
  pad_top_ = a.pads[0];
  pad_left_ = a.pads[1];
  segments_ = dilation_w_ == 1 ? 1 : kw_;
  segment_floats_ = (dilation_w_ == 1 ? kw_ : 1) * ic_;
  vectors_ = (segment_floats_ + kLanes - 1) / kLanes;
  weights_.assign(kh_ * segments_ * vectors_ * oc_, Lanes{});
  Lanes* packed = weights_.data();
  for (int64_t ky = 0; ky < kh_; ++ky)
    for (int64_t s = 0; s < segments_; ++s)
      for (int64_t v = 0; v < vectors_; ++v)
        for (int64_t o = 0; o < oc_; ++o, ++packed)
          for (int64_t l = 0; l < kLanes && v * kLanes + l < segment_floats_; ++l) {
            const int64_t f = v * kLanes + l, ci = f % ic_, kx = segments_ == 1 ? f / ic_ : s;
            packed->v[l] = w.constant_data[((o * ic_ + ci) * kh_ + ky) * kw_ + kx];
          }
  if (node.inputs.size() == 3)
    for (int k = 0; k < kLanes / oc_ * oc_; ++k) bias_.v[k] = g.values[node.inputs[2]].constant_data[k % oc_];
  for (const PostOp& op : post_ops) Epilogue::of(op, &epilogue_.emplace_back());
  if (nchw_output_ && std::any_of(epilogue_.begin(), epilogue_.end(),
                                  [](const Epilogue& e) { return e.kind == Epilogue::Kind::Sum; }))
    throw std::invalid_argument("a narrow convolution with a Sum post-op cannot write NCHW output");
}

void NarrowConv::run(const float* x, const Shape& xs, float* y, const Shape& ys) const {
  const Image image{x, y, xs[0], xs[2], xs[3], ys[2], ys[3]};
  switch (oc_) {
    case 1: NarrowKernel<1>(*this, image).run(); break;
    case 2: NarrowKernel<2>(*this, image).run(); break;
    case 3: NarrowKernel<3>(*this, image).run(); break;
    case 4: NarrowKernel<4>(*this, image).run(); break;
  }
}

int64_t NarrowConv::bytes() const {
  return static_cast<int64_t>((weights_.size() + 1) * sizeof(Lanes) + epilogue_.size() * sizeof(Epilogue));
}

}  // namespace tessera::onednn
