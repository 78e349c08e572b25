// ReduceMean over flagged axes of a rank-4 tensor, keepdims or not.
#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

ir::Node reduce(std::array<bool, 4> axes, bool keepdims) {
  return make_node(ir::Op::ReduceMean, ir::ReduceAttrs{axes, keepdims});
}

TEST(RefReduceMean, HandValues) {
  // x [1, 2, 1, 3] = [[1, 2, 3], [4, 5, 6]].
  Buf x({1, 2, 1, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run(reduce({false, true, false, false}, true), {&x}, {1, 1, 1, 3}).data,
            (std::vector<float>{2.5f, 3.5f, 4.5f}));
  EXPECT_EQ(run(reduce({false, false, false, true}, false), {&x}, {1, 2, 1}).data,
            (std::vector<float>{2, 5}));
  EXPECT_EQ(run(reduce({true, true, true, true}, false), {&x}, Shape{}).data,
            (std::vector<float>{3.5f}));
}

TEST(RefReduceMean, SpatialMatchesGlobalAveragePool) {
  Buf x = random_buf({2, 5, 7, 3}, 91);
  EXPECT_EQ(run(reduce({false, false, true, true}, true), {&x}, {2, 5, 1, 1}).data,
            run(make_node(ir::Op::GlobalAveragePool), {&x}, {2, 5, 1, 1}).data);
}

TEST(RefReduceMean, EveryAxisSubsetOnOddShape) {
  Buf x = random_buf({2, 3, 5, 7}, 92);
  const int64_t dims[4] = {2, 3, 5, 7};
  for (int mask = 0; mask < 16; ++mask) {
    std::array<bool, 4> axes{};
    Shape kept_shape, dropped_shape;
    for (int ax = 0; ax < 4; ++ax) {
      axes[ax] = (mask >> ax) & 1;
      kept_shape.push_back(axes[ax] ? 1 : dims[ax]);
      if (!axes[ax]) dropped_shape.push_back(dims[ax]);
    }
    // Mean in double: each input element adds to the output at its coordinates with reduced axes
    // set to 0.
    std::vector<double> sums(kept_shape.element_count());
    const int64_t count = x.shape.element_count() / kept_shape.element_count();
    int64_t i = 0;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t h = 0; h < 5; ++h)
          for (int64_t w = 0; w < 7; ++w, ++i) {
            const int64_t k = ((axes[0] ? 0 : n) * kept_shape[1] + (axes[1] ? 0 : c)) * kept_shape[2] *
                                  kept_shape[3] +
                              (axes[2] ? 0 : h) * kept_shape[3] + (axes[3] ? 0 : w);
            sums[k] += x.data[i];
          }
    std::vector<float> expected;
    for (double s : sums) expected.push_back(static_cast<float>(s / count));
    SCOPED_TRACE(::testing::Message() << "axes mask " << mask);
    expect_near(run(reduce(axes, true), {&x}, kept_shape).data, expected);
    expect_near(run(reduce(axes, false), {&x}, dropped_shape).data, expected);
  }
}

}  // namespace
}  // namespace tessera::reference::testing
