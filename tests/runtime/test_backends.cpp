// "auto" takes the backend made for the CPU it runs on: oneDNN where it has AVX-512 (x86-64 only),
// else XNNPACK (every ARM board), else the reference kernels.
#include "runtime/backend.h"
#include "runtime_support.h"

namespace tessera::testing {
namespace {

TEST(Backends, AutoTakesTheFastestBuiltForThisCpu) {
  std::string expected = backend_built("xnnpack") ? "xnnpack" : "reference";
#if defined(__x86_64__)
  if (backend_built("onednn") && __builtin_cpu_supports("avx512f")) expected = "onednn";
#endif
  EXPECT_EQ(auto_backend(), expected);
#if defined(__aarch64__)
  EXPECT_FALSE(backend_built("onednn"));
#endif
}

}  // namespace
}  // namespace tessera::testing
