#include "fma_probe.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

namespace tessera::cli {

namespace {

constexpr int kChains = 12;  // enough independent chains to hide the FMA latency on two ports
constexpr long kBlock = 1 << 16;

// Each chains_* function runs `blocks` × kBlock iterations of kChains FMAs of `lanes` floats, with the
// FMA intrinsics (never a multiply and an add the compiler may or may not contract); returns a value
// that depends on every chain, so that the compiler keeps them.
struct Probe {
  float (*run)(long blocks);
  int lanes;
  const char* isa;
};

#if defined(__x86_64__)

__attribute__((target("avx512f"))) float chains_avx512(long blocks) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(1.0f + c * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < blocks * kBlock; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  // Summed through memory: GCC 12 warns falsely inside _mm512_reduce_add_ps.
  alignas(64) float lanes[16];
  float sum = 0;
  for (int c = 0; c < kChains; ++c) {
    _mm512_store_ps(lanes, acc[c]);
    for (float l : lanes) sum += l;
  }
  return sum;
}

__attribute__((target("avx2,fma"))) float chains_avx2(long blocks) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(1.0f + c * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < blocks * kBlock; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  float out[8], sum = 0;
  for (int c = 0; c < kChains; ++c) {
    _mm256_storeu_ps(out, acc[c]);
    for (float v : out) sum += v;
  }
  return sum;
}

#elif defined(__aarch64__)

float chains_neon(long blocks) {
  float32x4_t acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = vdupq_n_f32(1.0f + c * 1e-3f);
  const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
  for (long i = 0; i < blocks * kBlock; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = vfmaq_f32(b, acc[c], a);  // b + acc * a, one FMLA
  float sum = 0;
  for (int c = 0; c < kChains; ++c) sum += vaddvq_f32(acc[c]);
  return sum;
}

#endif

#if !defined(__aarch64__)

float chains_scalar(long blocks) {
  float acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = 1.0f + c * 1e-3f;
  for (long i = 0; i < blocks * kBlock; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = std::fma(acc[c], 0.999999f, 1e-7f);
  float sum = 0;
  for (float v : acc) sum += v;
  return sum;
}

#endif

// The widest FMA this CPU runs.
Probe fastest_probe() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return {chains_avx512, 16, "avx512"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {chains_avx2, 8, "avx2"};
  return {chains_scalar, 1, "scalar"};
#elif defined(__aarch64__)
  return {chains_neon, 4, "neon"};  // Advanced SIMD (NEON) with FMLA is part of every AArch64 CPU
#else
  return {chains_scalar, 1, "scalar"};
#endif
}

}  // namespace

FmaPeak measure_fma_peak(int threads, double seconds) {
  const Probe probe = fastest_probe();
  FmaPeak peak;
  peak.isa = probe.isa;
  // Calibrate on one thread, then run every thread for about `seconds`.
  auto start = std::chrono::steady_clock::now();
  volatile float sink = probe.run(1);
  double one_block = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long blocks = std::max(1L, static_cast<long>(seconds / std::max(one_block, 1e-6)));
  std::vector<float> results(threads);
  start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { results[t] = probe.run(blocks); });
  for (std::thread& t : pool) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (float r : results) sink = sink + r;
  double flops = 2.0 * kChains * probe.lanes * static_cast<double>(kBlock) * blocks * threads;
  peak.gflops = flops / elapsed / 1e9;
  return peak;
}

}  // namespace tessera::cli
