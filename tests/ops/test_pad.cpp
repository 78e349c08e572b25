// Pad: constant, reflect and edge on a 1D-like row with known values, crops, and all four axes.
#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

// Pads the last axis of a 1x1x1xW row by [begin, end].
std::vector<float> pad_row(const std::vector<float>& row, ir::PadMode mode, int64_t begin, int64_t end,
                           float value = 0.0f) {
  Buf x({1, 1, 1, static_cast<int64_t>(row.size())}, row);
  ir::PadAttrs a{mode, {0, 0, 0, begin, 0, 0, 0, end}, value};
  return run(make_node(ir::Op::Pad, a), {&x}, {1, 1, 1, x.shape[3] + begin + end}).data;
}

TEST(RefPad, Constant) {
  EXPECT_EQ(pad_row({1, 2, 3, 4}, ir::PadMode::Constant, 2, 1, 9),
            (std::vector<float>{9, 9, 1, 2, 3, 4, 9}));
}

TEST(RefPad, Reflect) {
  EXPECT_EQ(pad_row({1, 2, 3, 4}, ir::PadMode::Reflect, 2, 3),
            (std::vector<float>{3, 2, 1, 2, 3, 4, 3, 2, 1}));
}

TEST(RefPad, ReflectWiderThanInputRepeats) {
  // numpy: np.pad([1, 2, 3], (4, 0), "reflect") == [1, 2, 3, 2, 1, 2, 3].
  EXPECT_EQ(pad_row({1, 2, 3}, ir::PadMode::Reflect, 4, 0),
            (std::vector<float>{1, 2, 3, 2, 1, 2, 3}));
}

TEST(RefPad, Edge) {
  EXPECT_EQ(pad_row({1, 2, 3, 4}, ir::PadMode::Edge, 2, 1), (std::vector<float>{1, 1, 1, 2, 3, 4, 4}));
}

TEST(RefPad, NegativePadsCrop) {
  EXPECT_EQ(pad_row({1, 2, 3, 4}, ir::PadMode::Constant, -1, -2), (std::vector<float>{2}));
  EXPECT_EQ(pad_row({1, 2, 3, 4}, ir::PadMode::Constant, -1, 2), (std::vector<float>{2, 3, 4, 0, 0}));
  EXPECT_EQ(pad_row({1, 2, 3, 4}, ir::PadMode::Edge, 2, -3), (std::vector<float>{1, 1, 1}));
}

TEST(RefPad, ReflectAfterCrop) {
  // The crop happens first: [1 2 3 4] cropped by 2 at the start is [3 4], reflected to [3 4 3 4 3].
  EXPECT_EQ(pad_row({1, 2, 3, 4}, ir::PadMode::Reflect, -2, 3),
            (std::vector<float>{3, 4, 3, 4, 3}));
}

TEST(RefPad, AllFourAxes) {
  // x [1, 2, 2, 1] = [[a], [b]], [[c], [d]] padded: N by [1, 0], C by [0, -1], H by [0, 1], W by [1, 1].
  Buf x({1, 2, 2, 1}, {1, 2, 3, 4});
  ir::PadAttrs a{ir::PadMode::Constant, {1, 0, 0, 1, 0, -1, 1, 1}, -1};
  Buf y = run(make_node(ir::Op::Pad, a), {&x}, {2, 1, 3, 3});
  EXPECT_EQ(y.data, (std::vector<float>{-1, -1, -1, -1, -1, -1, -1, -1, -1,  // padded batch
                                        -1, 1, -1, -1, 2, -1, -1, -1, -1}));  // channel 0 only
  ir::PadAttrs e{ir::PadMode::Edge, {1, 0, 0, 1, 0, -1, 1, 1}, 0};
  EXPECT_EQ(run(make_node(ir::Op::Pad, e), {&x}, {2, 1, 3, 3}).data,
            (std::vector<float>{1, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2}));
}

TEST(RefPad, ReflectOddShapeBothSpatialAxes) {
  // Reflect on H and W of a 1x2x3x5 tensor by index formula: src = |i| mirrored at the far edge.
  Buf x = random_buf({1, 2, 3, 5}, 71);
  ir::PadAttrs a{ir::PadMode::Reflect, {0, 0, 2, 1, 0, 0, 1, 3}, 0};
  Buf y = run(make_node(ir::Op::Pad, a), {&x}, {1, 2, 6, 9});
  auto mirror = [](int64_t i, int64_t n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; };
  int64_t k = 0;
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t h = 0; h < 6; ++h)
      for (int64_t w = 0; w < 9; ++w, ++k)
        EXPECT_EQ(y.data[k], x.data[(c * 3 + mirror(h - 2, 3)) * 5 + mirror(w - 1, 5)]) << k;
}

}  // namespace
}  // namespace tessera::reference::testing
