#include "fma_probe.h"

#include <immintrin.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

namespace tessera::cli {

namespace {

constexpr int kChains = 12;  // enough independent chains to hide the FMA latency on two ports
constexpr long kBlock = 1 << 16;

// Each function runs `blocks` × kBlock iterations of kChains FMAs of `lanes` floats; returns a value
// that depends on every chain, so that the compiler keeps them.
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

float chains_scalar(long blocks) {
  float acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = 1.0f + c * 1e-3f;
  for (long i = 0; i < blocks * kBlock; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = std::fma(acc[c], 0.999999f, 1e-7f);
  float sum = 0;
  for (float v : acc) sum += v;
  return sum;
}

}  // namespace

FmaPeak measure_fma_peak(int threads, double seconds) {
  FmaPeak peak;
  float (*run)(long) = chains_scalar;
  int lanes = 1;
  peak.isa = "scalar";
  if (__builtin_cpu_supports("avx512f")) {
    run = chains_avx512, lanes = 16, peak.isa = "avx512";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    run = chains_avx2, lanes = 8, peak.isa = "avx2";
  }
  // Calibrate on one thread, then run every thread for about `seconds`.
  auto start = std::chrono::steady_clock::now();
  volatile float sink = run(1);
  double one_block = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long blocks = std::max(1L, static_cast<long>(seconds / std::max(one_block, 1e-6)));
  std::vector<float> results(threads);
  start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { results[t] = run(blocks); });
  for (std::thread& t : pool) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (float r : results) sink = sink + r;
  double flops = 2.0 * kChains * lanes * static_cast<double>(kBlock) * blocks * threads;
  peak.gflops = flops / elapsed / 1e9;
  return peak;
}

}  // namespace tessera::cli
