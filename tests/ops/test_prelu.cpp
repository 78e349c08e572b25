// PRelu: slope broadcast shapes [1], [C,1,1], [1,C,1,1], and in-place use.
#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

// y = x < 0 ? slope[c] * x : x, written per NCHW index.
std::vector<float> naive_prelu(const Buf& x, const std::vector<float>& slope_per_channel) {
  std::vector<float> y;
  const int64_t plane = x.shape[2] * x.shape[3];
  for (size_t i = 0; i < x.data.size(); ++i) {
    const float s = slope_per_channel[(i / plane) % x.shape[1]];
    y.push_back(x.data[i] < 0 ? s * x.data[i] : x.data[i]);
  }
  return y;
}

TEST(RefPRelu, HandValues) {
  Buf x({1, 2, 1, 2}, {-2, 3, -4, 5});
  Buf slope({2, 1, 1}, {0.5f, 0.25f});
  EXPECT_EQ(run(make_node(ir::Op::PRelu), {&x, &slope}, x.shape).data,
            (std::vector<float>{-1, 3, -1, 5}));
}

TEST(RefPRelu, SlopeShapes) {
  Buf x = random_buf({2, 3, 5, 7}, 11);
  const std::vector<float> per_c{0.1f, -0.2f, 0.3f};
  Buf s1({1}, {0.1f});
  Buf sc({3, 1, 1}, per_c);
  Buf s1c({1, 3, 1, 1}, per_c);
  EXPECT_EQ(run(make_node(ir::Op::PRelu), {&x, &s1}, x.shape).data, naive_prelu(x, {0.1f, 0.1f, 0.1f}));
  EXPECT_EQ(run(make_node(ir::Op::PRelu), {&x, &sc}, x.shape).data, naive_prelu(x, per_c));
  EXPECT_EQ(run(make_node(ir::Op::PRelu), {&x, &s1c}, x.shape).data, naive_prelu(x, per_c));
}

TEST(RefPRelu, InPlace) {
  Buf x = random_buf({1, 3, 5, 13}, 12);
  const std::vector<float> per_c{0.5f, 2.0f, -1.0f};
  const std::vector<float> expected = naive_prelu(x, per_c);
  Buf slope({1, 3, 1, 1}, per_c);
  ConstTensorView in[] = {x.view(), slope.view()};
  ASSERT_TRUE(run_node(make_node(ir::Op::PRelu), in, x.mutable_view()).ok());
  EXPECT_EQ(x.data, expected);
}

}  // namespace
}  // namespace tessera::reference::testing
