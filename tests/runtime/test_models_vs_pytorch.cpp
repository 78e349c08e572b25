// Every exported test model and single-op model, compiled once on the build machine, run on every
// backend at every case size from ONE Session (in increasing order, then shuffled), against
// PyTorch's outputs; the reference backend, the ground truth, gives the bits it gave on the build
// machine, whatever the CPU (the same .tsr, the same arithmetic: docs/architecture.md).
#include <algorithm>
#include <random>

#include "runtime_support.h"

namespace tessera::testing {
namespace {

class ModelVsPyTorch : public ::testing::TestWithParam<BackendCase> {};

// The largest |tessera - PyTorch fp32| relative to the output's scale (docs/precision.md): fp32 sums
// in another order; bf16 rounds each convolution's inputs and weights to 8 significant bits.
double relative_tolerance(const std::string& precision) { return precision == "bf16" ? 1e-2 : 1e-4; }

TEST_P(ModelVsPyTorch, MatchesAtEverySizeFromOneSession) {
  const TestModel& m = GetParam().model;
  const std::string& backend = GetParam().backend;
  const std::string& precision = GetParam().precision;
  std::shared_ptr<const Model> model = load_test_model(m);
  ASSERT_TRUE(model);
  struct Case {
    Tensor input, expected, recorded;  // PyTorch's output; the reference backend's on the build machine
  };
  std::vector<Case> cases;  // smallest first
  for (const ModelCase& c : m.cases) {
    Result<Tensor> input = read_npy(testdata(c.input));
    Result<Tensor> expected = read_npy(testdata(c.expected));
    Result<Tensor> recorded = read_npy(recorded_reference(c));
    ASSERT_TRUE(input.ok() && expected.ok() && recorded.ok()) << c.input << ": " << recorded.status().message();
    cases.push_back({std::move(input).value(), std::move(expected).value(), std::move(recorded).value()});
  }
  std::stable_sort(cases.begin(), cases.end(),
                   [](const Case& a, const Case& b) { return a.input.element_count() < b.input.element_count(); });
  // The reference kernels are single-threaded; the others also run with 2 threads inside.
  for (int threads : backend == "reference" ? std::vector<int>{1} : std::vector<int>{1, 2}) {
    Result<std::unique_ptr<Session>> session = Session::create(model, SessionOptions{backend, threads, precision});
    ASSERT_TRUE(session.ok()) << session.status().message();
    std::vector<size_t> order(2 * cases.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i % cases.size();
    std::shuffle(order.begin() + cases.size(), order.end(), std::mt19937(threads));
    for (size_t i : order) {
      ConstTensorView view = cases[i].input.view();
      Result<std::span<const TensorView>> out = (*session)->run({&view, 1});
      ASSERT_TRUE(out.ok()) << m.name << ": " << out.status().message();
      // |tessera - PyTorch| within the precision's bound relative to the output's scale.
      Difference d = compare((*out)[0], cases[i].expected.view());
      EXPECT_LE(d.max_abs, relative_tolerance(precision) * std::max(d.scale, 1e-2))
          << m.name << " " << view.shape.to_string() << " on " << backend << " " << precision << ", " << threads
          << " threads (scale " << d.scale << ")";
      // On the build machine this catches a reference kernel whose bits change from run to run; on
      // another CPU, one whose arithmetic differs from the build machine's.
      if (backend == "reference") {
        EXPECT_EQ(bit_differences(copy_of((*out)[0]), cases[i].recorded), 0)
            << m.name << " " << view.shape.to_string() << ": elements whose bits differ from the reference output "
            << "recorded on " << compiled_on();
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ModelVsPyTorch,
                         ::testing::ValuesIn(backend_cases([](const TestModel&) { return true; })),
                         backend_case_name);

}  // namespace
}  // namespace tessera::testing
