// Every exported test model and single-op model, compiled once, run on every backend at every case
// size from ONE Session (in increasing order, then shuffled), against PyTorch's outputs.
#include <algorithm>
#include <random>

#include "test_support.h"

namespace tessera::testing {
namespace {

class ModelVsPyTorch : public ::testing::TestWithParam<BackendCase> {};

TEST_P(ModelVsPyTorch, MatchesAtEverySizeFromOneSession) {
  const TestModel& m = GetParam().model;
  const std::string& backend = GetParam().backend;
  std::shared_ptr<const Model> model = compile_and_load(m);
  ASSERT_TRUE(model);
  std::vector<std::pair<Tensor, Tensor>> cases;  // input, PyTorch's output; smallest first
  for (const ModelCase& c : m.cases) {
    Result<Tensor> input = read_npy(testdata(c.input));
    Result<Tensor> expected = read_npy(testdata(c.expected));
    ASSERT_TRUE(input.ok() && expected.ok()) << c.input;
    cases.emplace_back(std::move(input).value(), std::move(expected).value());
  }
  std::stable_sort(cases.begin(), cases.end(),
                   [](const auto& a, const auto& b) { return a.first.element_count() < b.first.element_count(); });
  // The reference kernels are single-threaded; the others also run with 2 threads inside.
  for (int threads : backend == "reference" ? std::vector<int>{1} : std::vector<int>{1, 2}) {
    Result<std::unique_ptr<Session>> session = Session::create(model, SessionOptions{backend, threads});
    ASSERT_TRUE(session.ok()) << session.status().message();
    std::vector<size_t> order(2 * cases.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i % cases.size();
    std::shuffle(order.begin() + cases.size(), order.end(), std::mt19937(threads));
    for (size_t i : order) {
      ConstTensorView view = cases[i].first.view();
      Result<std::span<const TensorView>> out = (*session)->run({&view, 1});
      ASSERT_TRUE(out.ok()) << m.name << ": " << out.status().message();
      // |tessera - PyTorch| <= 1e-4 relative to the output's scale.
      Difference d = compare((*out)[0], cases[i].second.view());
      EXPECT_LE(d.max_abs, 1e-4 * std::max(d.scale, 1e-2))
          << m.name << " " << view.shape.to_string() << " on " << backend << ", " << threads << " threads (scale "
          << d.scale << ")";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ModelVsPyTorch,
                         ::testing::ValuesIn(backend_cases([](const TestModel&) { return true; })),
                         backend_case_name);

}  // namespace
}  // namespace tessera::testing
