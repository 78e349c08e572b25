// A short probe of this CPU's float32 FMA peak, the yardstick for "% of peak" in tessera bench.
#pragma once

#include <string>

namespace tessera::cli {

struct FmaPeak {
  double gflops = 0;  // all `threads` together
  std::string isa;    // "avx512", "avx2" (x86-64), "neon" (AArch64), "scalar"
};

// Runs 12 independent FMA chains per thread for about `seconds`.
FmaPeak measure_fma_peak(int threads, double seconds = 0.2);

}  // namespace tessera::cli
