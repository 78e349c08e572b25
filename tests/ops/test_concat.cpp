// Concat on every axis: hand values and an index-by-index formula.
#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

TEST(RefConcat, HandValuesChannelAxis) {
  Buf a({1, 1, 1, 2}, {1, 2});
  Buf b({1, 2, 1, 2}, {3, 4, 5, 6});
  EXPECT_EQ(run(make_node(ir::Op::Concat, ir::ConcatAttrs{1}), {&a, &b}, {1, 3, 1, 2}).data,
            (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(RefConcat, HandValuesLastAxis) {
  Buf a({1, 1, 2, 1}, {1, 2});
  Buf b({1, 1, 2, 2}, {3, 4, 5, 6});
  EXPECT_EQ(run(make_node(ir::Op::Concat, ir::ConcatAttrs{3}), {&a, &b}, {1, 1, 2, 3}).data,
            (std::vector<float>{1, 3, 4, 2, 5, 6}));
}

TEST(RefConcat, EveryAxisThreeInputs) {
  for (int axis = 0; axis < 4; ++axis) {
    // Three inputs of 2x3x5x7 whose `axis` is 1, 2 and 3 long.
    std::vector<Buf> parts;
    for (int64_t len = 1; len <= 3; ++len) {
      Shape s{2, 3, 5, 7};
      s[axis] = len;
      parts.push_back(random_buf(s, static_cast<uint32_t>(30 + len)));
    }
    Shape out{2, 3, 5, 7};
    out[axis] = 6;
    Buf y = run(make_node(ir::Op::Concat, ir::ConcatAttrs{axis}), {&parts[0], &parts[1], &parts[2]},
                out);
    // Output coordinate c on `axis` reads part p at c - (1 + ... + p) (lengths 1, 2, 3).
    int64_t i = 0;
    for (int64_t n = 0; n < out[0]; ++n)
      for (int64_t c = 0; c < out[1]; ++c)
        for (int64_t h = 0; h < out[2]; ++h)
          for (int64_t w = 0; w < out[3]; ++w, ++i) {
            int64_t coord[4] = {n, c, h, w};
            const int p = coord[axis] < 1 ? 0 : coord[axis] < 3 ? 1 : 2;
            coord[axis] -= p == 0 ? 0 : p == 1 ? 1 : 3;
            const Shape& s = parts[p].shape;
            const int64_t offset = ((coord[0] * s[1] + coord[1]) * s[2] + coord[2]) * s[3] + coord[3];
            ASSERT_EQ(y.data[i], parts[p].data[offset]) << "axis " << axis << " element " << i;
          }
  }
}

TEST(RefConcat, WrongTotalIsInternal) {
  Buf a({1, 2, 2, 2}), b({1, 2, 2, 2}), y({1, 5, 2, 2});
  ConstTensorView in[] = {a.view(), b.view()};
  EXPECT_EQ(run_node(make_node(ir::Op::Concat, ir::ConcatAttrs{1}), in, y.mutable_view()).code(),
            Error::Internal);
}

}  // namespace
}  // namespace tessera::reference::testing
