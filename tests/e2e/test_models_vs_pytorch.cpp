// Every exported test model and single-op model, compiled once, run at every case size from ONE
// Session (in increasing and in random order), against PyTorch's outputs, on the reference backend
// (the optimized backends have the same checks in test_<backend>_backend.cpp).
#include <algorithm>
#include <random>

#include "test_support.h"

namespace tessera::testing {
namespace {

class ModelVsPyTorch : public ::testing::TestWithParam<TestModel> {};

// |tessera - PyTorch| <= 1e-4 relative to the output's scale.
void expect_close(const TestModel& m, const ModelCase& c, Session& session) {
  Result<Tensor> input = read_npy(testdata(c.input));
  Result<Tensor> expected = read_npy(testdata(c.expected));
  ASSERT_TRUE(input.ok() && expected.ok());
  ConstTensorView view = input->view();
  Result<std::span<const TensorView>> out = session.run({&view, 1});
  ASSERT_TRUE(out.ok()) << m.name << " " << c.input << ": " << out.status().message();
  Difference d = compare((*out)[0], expected->view());
  EXPECT_LE(d.max_abs, 1e-4 * std::max(d.scale, 1e-2)) << m.name << " " << c.input << " (scale " << d.scale << ")";
}

TEST_P(ModelVsPyTorch, MatchesAtEverySizeFromOneSession) {
  const TestModel& m = GetParam();
  std::shared_ptr<const Model> model = compile_and_load(m);
  ASSERT_TRUE(model);
  Result<std::unique_ptr<Session>> session = Session::create(model, SessionOptions{"reference", 1});
  ASSERT_TRUE(session.ok());

  std::vector<ModelCase> cases = m.cases;
  auto pixels = [](const ModelCase& c) {
    Result<Tensor> t = read_npy(testdata(c.input));
    return t.ok() ? t->element_count() : 0;
  };
  std::stable_sort(cases.begin(), cases.end(), [&](const ModelCase& a, const ModelCase& b) { return pixels(a) < pixels(b); });
  for (const ModelCase& c : cases) expect_close(m, c, **session);
  std::shuffle(cases.begin(), cases.end(), std::mt19937(42));
  for (const ModelCase& c : cases) expect_close(m, c, **session);
}

TEST_P(ModelVsPyTorch, ArenaWithinTenPercentOfLowerBound) {
  std::shared_ptr<const Model> model = compile_and_load(GetParam());
  ASSERT_TRUE(model);
  const ModelInfo& info = model->info();
  EXPECT_LE(info.arena_bytes, info.lower_bound_bytes * 11 / 10)
      << "arena " << info.arena_bytes << " vs lower bound " << info.lower_bound_bytes;
}

INSTANTIATE_TEST_SUITE_P(Models, ModelVsPyTorch, ::testing::ValuesIn(test_models()),
                         [](const ::testing::TestParamInfo<TestModel>& p) { return p.param.name; });

}  // namespace
}  // namespace tessera::testing
