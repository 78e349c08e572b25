// Add, Sub, Mul, Div: numpy broadcasting vs an index-by-index formula, hand values, in-place use.
#include <functional>

#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

// Numpy broadcasting spelled out: split each output index into coordinates, then read each input
// at those coordinates (right-aligned, 0 on its size-1 axes).
std::vector<float> naive_broadcast(const Buf& a, const Buf& b, const Shape& out,
                                   const std::function<float(float, float)>& f) {
  auto read = [&](const Buf& t, const std::vector<int64_t>& coord) {
    int64_t offset = 0;
    for (int i = 0; i < t.shape.rank(); ++i) {
      const int64_t c = coord[out.rank() - t.shape.rank() + i];
      offset = offset * t.shape[i] + (t.shape[i] == 1 ? 0 : c);
    }
    return t.data[offset];
  };
  std::vector<float> y;
  for (int64_t i = 0; i < out.element_count(); ++i) {
    std::vector<int64_t> coord(out.rank());
    int64_t rest = i;
    for (int axis = out.rank() - 1; axis >= 0; --axis) {
      coord[axis] = rest % out[axis];
      rest /= out[axis];
    }
    y.push_back(f(read(a, coord), read(b, coord)));
  }
  return y;
}

struct OpFn {
  ir::Op op;
  std::function<float(float, float)> f;
};
const std::vector<OpFn> kOps{{ir::Op::Add, std::plus<float>()},
                             {ir::Op::Sub, std::minus<float>()},
                             {ir::Op::Mul, std::multiplies<float>()},
                             {ir::Op::Div, std::divides<float>()}};

void check(const Shape& a_shape, const Shape& b_shape, const Shape& out) {
  Buf a = random_buf(a_shape, 21), b = random_buf(b_shape, 22);
  for (const OpFn& o : kOps) {
    EXPECT_EQ(run(make_node(o.op), {&a, &b}, out).data, naive_broadcast(a, b, out, o.f))
        << ir::op_name(o.op) << " " << a_shape.to_string() << " " << b_shape.to_string();
  }
}

TEST(RefBinary, HandValues) {
  Buf a({1, 2, 1, 2}, {1, 2, 3, 4});
  Buf b({1, 2, 1, 1}, {10, 20});
  EXPECT_EQ(run(make_node(ir::Op::Sub), {&a, &b}, a.shape).data, (std::vector<float>{-9, -8, -17, -16}));
  expect_near(run(make_node(ir::Op::Div), {&b, &a}, a.shape).data, {10, 5, 20.0f / 3, 5});
}

TEST(RefBinary, SameShape) { check({2, 5, 7, 3}, {2, 5, 7, 3}, {2, 5, 7, 3}); }
TEST(RefBinary, PerChannel) { check({1, 3, 5, 13}, {1, 3, 1, 1}, {1, 3, 5, 13}); }
TEST(RefBinary, PerChannelOnTheLeft) { check({1, 3, 1, 1}, {1, 3, 5, 13}, {1, 3, 5, 13}); }
TEST(RefBinary, RightAlignedLowerRank) { check({3, 1, 1}, {2, 3, 5, 7}, {2, 3, 5, 7}); }
TEST(RefBinary, RowAndColumn) { check({1, 1, 5, 1}, {1, 3, 1, 7}, {1, 3, 5, 7}); }
TEST(RefBinary, ScalarRank0) { check({2, 5, 7, 3}, Shape{}, {2, 5, 7, 3}); }
TEST(RefBinary, ScalarRank1) { check({1}, {2, 5, 7, 3}, {2, 5, 7, 3}); }
TEST(RefBinary, Rank6) { check({2, 1, 3, 1, 2, 3}, {1, 2, 1, 4, 2, 1}, {2, 2, 3, 4, 2, 3}); }
TEST(RefBinary, EmptyOutput) { check({1, 0, 5, 1}, {1, 1, 1, 7}, {1, 0, 5, 7}); }

TEST(RefBinary, InPlace) {
  for (const OpFn& o : kOps) {
    Buf a = random_buf({2, 3, 5, 7}, 23);
    Buf b = random_buf({1, 3, 1, 7}, 24);
    const std::vector<float> expected = naive_broadcast(a, b, a.shape, o.f);
    ConstTensorView in[] = {a.view(), b.view()};
    ASSERT_TRUE(run_node(make_node(o.op), in, a.mutable_view()).ok());
    EXPECT_EQ(a.data, expected) << ir::op_name(o.op);
  }
}

TEST(RefBinary, NonBroadcastableIsInternal) {
  Buf a({1, 3, 4, 4}), b({1, 2, 1, 1}), y({1, 3, 4, 4});
  ConstTensorView in[] = {a.view(), b.view()};
  EXPECT_EQ(run_node(make_node(ir::Op::Add), in, y.mutable_view()).code(), Error::Internal);
}

}  // namespace
}  // namespace tessera::reference::testing
