// Which backend runs: "auto" takes the one made for the CPU it runs on, oneDNN where it has AVX-512
// (x86-64 only), else XNNPACK (every ARM board), else the reference kernels; a missing one is refused.
// Precision bf16 runs on oneDNN only: "auto" takes it, and another backend or precision is refused.
#include <fmt/format.h>

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

// A backend this program lacks is refused with the fix: link it, or, for oneDNN off x86-64, none.
TEST(Backends, AMissingBackendNamesTheFix) {
  if (backend_built("onednn")) GTEST_SKIP() << "oneDNN is linked in";
  Result<std::unique_ptr<Session>> s = Session::create(load_test_model(test_model("tiny")), {"onednn", 1});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Error::InvalidArgument);
#if defined(__x86_64__)
  EXPECT_CONTAINS(s.status().message(), "link tessera::onednn");
#else
  EXPECT_CONTAINS(s.status().message(), "runs on x86-64 only");
#endif
}

TEST(Backends, AutoForBf16IsOnednn) {
  TESSERA_SKIP_WITHOUT_BACKEND("onednn");
  EXPECT_EQ(auto_backend("bf16"), "onednn");
  Result<std::unique_ptr<Session>> s = Session::create(load_test_model(test_model("tiny")), {"auto", 1, "bf16"});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)->backend(), "onednn");
}

TEST(Backends, Bf16OnAnotherBackendNamesTheFix) {
  for (const std::string backend : {"reference", "xnnpack"}) {
    if (!backend_built(backend)) continue;
    Result<std::unique_ptr<Session>> s = Session::create(load_test_model(test_model("tiny")), {backend, 1, "bf16"});
    ASSERT_FALSE(s.ok()) << backend;
    EXPECT_EQ(s.status().code(), Error::InvalidArgument);
    EXPECT_CONTAINS(s.status().message(),
                    fmt::format("precision bf16 runs on the onednn backend only, not on '{}'", backend));
    EXPECT_CONTAINS(s.status().message(), "--precision fp32");
  }
}

TEST(Backends, AnUnknownPrecisionIsRefused) {
  Result<std::unique_ptr<Session>> s = Session::create(load_test_model(test_model("tiny")), {"reference", 1, "fp16"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(s.status().message(), "unknown precision 'fp16': use fp32 or bf16");
}

}  // namespace
}  // namespace tessera::testing
