// A SessionPool carries the workers' sessions from one tiled run to the next (a batch of images): the
// same sessions are taken again, the outputs stay bit-identical, and sessions of other options are
// dropped rather than held beside new ones.
#include "tessera/tiling.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

Tensor run_with(std::shared_ptr<const Model> model, const Tensor& image, int64_t tile, int threads,
                std::shared_ptr<tiling::SessionPool> pool) {
  Result<Tensor> out = tiling::run_tiled(model, image.view(), {.tile = tile},
                                         {.threads = threads, .workers = threads, .backend = "reference", .sessions = pool});
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? std::move(*out) : Tensor();
}

TEST(SessionPool, ReusesTheWorkersSessionsAcrossRuns) {
  TempDir dir;
  std::shared_ptr<const Model> model = compile_small_onnx(dir, testdata("tiny.onnx"), 96, "tiny.tsr");
  ASSERT_TRUE(model);
  auto pool = std::make_shared<tiling::SessionPool>();
  Tensor a = random_input(*model, 100, 90, 1), b = random_input(*model, 70, 120, 2);
  Tensor first = run_with(model, a, 32, 2, pool);
  EXPECT_EQ(pool->kept(), 2u);  // two workers, given back
  Result<std::unique_ptr<Session>> taken = pool->take(model, {"reference", 1});
  ASSERT_TRUE(taken.ok());
  const Session* reused = taken->get();
  EXPECT_EQ(pool->kept(), 1u);
  pool->give_back(std::move(*taken), {"reference", 1});
  // Another image through the kept sessions equals a run without the pool, bit for bit.
  Tensor second = run_with(model, b, 32, 2, pool);
  EXPECT_EQ(bit_differences(second, run_with(model, b, 32, 2, nullptr)), 0);
  EXPECT_EQ(bit_differences(first, run_with(model, a, 32, 2, nullptr)), 0);
  EXPECT_EQ(pool->kept(), 2u);
  bool same = false;
  for (int i = 0; i < 2; ++i) {
    Result<std::unique_ptr<Session>> s = pool->take(model, {"reference", 1});
    ASSERT_TRUE(s.ok());
    same = same || s->get() == reused;
  }
  EXPECT_TRUE(same);
  // Other options: the kept sessions are dropped, not held beside the new one.
  pool->give_back(*Session::create(model, {"reference", 1}), {"reference", 1});
  ASSERT_TRUE(pool->take(model, {"reference", 2}).ok());
  EXPECT_EQ(pool->kept(), 0u);
}

}  // namespace
}  // namespace tessera::testing
