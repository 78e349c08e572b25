// What the oneDNN backend's own AVX-512 kernels (narrow_conv.h, pointwise_sum.h) share: vectors of
// 16 floats and masks of their lanes, and the post-ops they apply to 16 lanes of results, computed as
// the reference kernels compute them.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <span>

#include "backends/onednn/plan.h"

namespace tessera::onednn {

inline constexpr int kLanes = 16;

// Lanes [lo, hi) of a vector, clamped to its 16.
inline __mmask16 lane_range(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, kLanes);
  hi = std::clamp<int64_t>(hi, lo, kLanes);
  return static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
}

struct alignas(64) Lanes {
  float v[kLanes];
};

struct Epilogue {
  enum class Kind { Relu, LeakyRelu, Clip, Linear, Sum };
  Kind kind;
  float alpha = 0.0f;  // LeakyRelu: slope; Clip: min; Linear: scale
  float beta = 0.0f;   // Clip: max; Linear: offset

  // The step of post-op `op`; false when the kernels have none.
  static bool of(const PostOp& op, Epilogue* step) {
    if (op.kind == PostOp::Kind::Sum) {
      *step = {Kind::Sum};
      return true;
    }
    if (op.kind != PostOp::Kind::Eltwise) return false;
    switch (op.algorithm) {
      case dnnl::algorithm::eltwise_relu:
        *step = {op.alpha == 0.0f ? Kind::Relu : Kind::LeakyRelu, op.alpha};
        return true;
      case dnnl::algorithm::eltwise_clip: *step = {Kind::Clip, op.alpha, op.beta}; return true;
      case dnnl::algorithm::eltwise_linear: *step = {Kind::Linear, op.alpha, op.beta}; return true;
      default: return false;
    }
  }
};

// `steps` applied to v in order; a Sum adds the lanes `lanes` of y (the others read as zero).
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512 apply(std::span<const Epilogue> steps, __m512 v,
                                                                    const float* y, __mmask16 lanes) {
  const __m512 zero = _mm512_setzero_ps();
  for (const Epilogue& e : steps) {
    const __m512 alpha = _mm512_set1_ps(e.alpha), beta = _mm512_set1_ps(e.beta);
    switch (e.kind) {
      case Epilogue::Kind::Relu: v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero); break;
      case Epilogue::Kind::LeakyRelu: v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v, alpha); break;
      case Epilogue::Kind::Clip: {  // v < min ? min : (v > max ? max : v)
        const __mmask16 below = _mm512_cmp_ps_mask(v, alpha, _CMP_LT_OQ);
        const __mmask16 above = _mm512_mask_cmp_ps_mask(~below, v, beta, _CMP_GT_OQ);
        v = _mm512_mask_mov_ps(_mm512_mask_mov_ps(v, below, alpha), above, beta);
        break;
      }
      case Epilogue::Kind::Linear: v = _mm512_fmadd_ps(alpha, v, beta); break;
      case Epilogue::Kind::Sum: v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(lanes, y)); break;
    }
  }
  return v;
}

}  // namespace tessera::onednn
