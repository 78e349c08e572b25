// Element-wise activation kernels: hand values, and in-place use (output aliasing the input).
#include <cmath>
#include <limits>

#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

const std::vector<float> kX{-3.0f, -1.5f, -0.25f, 0.0f, 0.5f, 2.0f, 7.0f};

Buf run_unary(ir::Op op, ir::Attrs attrs, const std::vector<float>& x) {
  Buf in({1, 1, 1, static_cast<int64_t>(x.size())}, x);
  return run(make_node(op, attrs), {&in}, in.shape);
}

TEST(RefUnary, Relu) {
  EXPECT_EQ(run_unary(ir::Op::Relu, {}, kX).data, (std::vector<float>{0, 0, 0, 0, 0.5f, 2, 7}));
}

TEST(RefUnary, LeakyRelu) {
  EXPECT_EQ(run_unary(ir::Op::LeakyRelu, ir::LeakyReluAttrs{0.5f}, kX).data,
            (std::vector<float>{-1.5f, -0.75f, -0.125f, 0, 0.5f, 2, 7}));
}

TEST(RefUnary, Clip) {
  EXPECT_EQ(run_unary(ir::Op::Clip, ir::ClipAttrs{-1.0f, 6.0f}, kX).data,
            (std::vector<float>{-1, -1, -0.25f, 0, 0.5f, 2, 6}));
}

TEST(RefUnary, HardSigmoid) {
  // max(0, min(1, 0.2x + 0.5)).
  expect_near(run_unary(ir::Op::HardSigmoid, ir::HardSigmoidAttrs{0.2f, 0.5f}, kX).data,
              {0, 0.2f, 0.45f, 0.5f, 0.6f, 0.9f, 1});
}

TEST(RefUnary, SigmoidAndTanh) {
  std::vector<float> sig, th;
  for (float v : kX) {
    sig.push_back(static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v)))));
    th.push_back(static_cast<float>(std::tanh(static_cast<double>(v))));
  }
  expect_near(run_unary(ir::Op::Sigmoid, {}, kX).data, sig, 1e-6f);
  expect_near(run_unary(ir::Op::Tanh, {}, kX).data, th, 1e-6f);
}

TEST(RefUnary, SigmoidSaturatesWithoutNaN) {
  EXPECT_EQ(run_unary(ir::Op::Sigmoid, {}, {-1000.0f, 1000.0f}).data, (std::vector<float>{0, 1}));
}

TEST(RefUnary, NaNPassesThroughReluAndClip) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(run_unary(ir::Op::Relu, {}, {nan}).data[0]));
  EXPECT_TRUE(std::isnan(run_unary(ir::Op::Clip, ir::ClipAttrs{0, 6}, {nan}).data[0]));
}

TEST(RefUnary, InPlace) {
  // Every unary op, run with output == input, matches the out-of-place result.
  const Shape shape{2, 3, 5, 7};
  const std::vector<std::pair<ir::Op, ir::Attrs>> ops{
      {ir::Op::Relu, {}},           {ir::Op::LeakyRelu, ir::LeakyReluAttrs{0.1f}},
      {ir::Op::Clip, ir::ClipAttrs{-0.5f, 0.5f}}, {ir::Op::Sigmoid, {}},
      {ir::Op::Tanh, {}},           {ir::Op::HardSigmoid, ir::HardSigmoidAttrs{}}};
  for (const auto& [op, attrs] : ops) {
    Buf x = random_buf(shape, 7);
    Buf expected = run(make_node(op, attrs), {&x}, shape);
    ConstTensorView in[] = {x.view()};
    ASSERT_TRUE(run_node(make_node(op, attrs), in, x.mutable_view()).ok());
    EXPECT_EQ(x.data, expected.data) << ir::op_name(op);
  }
}

TEST(RefUnary, ShapeMismatchIsInternal) {
  Buf x({1, 1, 2, 2}), y({1, 1, 2, 3});
  ConstTensorView in[] = {x.view()};
  EXPECT_EQ(run_node(make_node(ir::Op::Relu), in, y.mutable_view()).code(), Error::Internal);
}

}  // namespace
}  // namespace tessera::reference::testing
