// GlobalAveragePool: hand values and a double-precision mean on an odd shape.
#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

TEST(RefGlobalAveragePool, HandValues) {
  Buf x({1, 2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40});
  EXPECT_EQ(run(make_node(ir::Op::GlobalAveragePool), {&x}, {1, 2, 1, 1}).data,
            (std::vector<float>{2.5f, 25}));
}

TEST(RefGlobalAveragePool, OddShape) {
  Buf x = random_buf({2, 5, 7, 3}, 81);
  std::vector<float> expected;
  for (int64_t p = 0; p < 10; ++p) {
    double sum = 0;
    for (int64_t i = 0; i < 21; ++i) sum += x.data[p * 21 + i];
    expected.push_back(static_cast<float>(sum / 21));
  }
  expect_near(run(make_node(ir::Op::GlobalAveragePool), {&x}, {2, 5, 1, 1}).data, expected);
}

}  // namespace
}  // namespace tessera::reference::testing
