// Conv reference kernel vs a naive conv over an explicitly zero-padded copy of the input.
#include <cmath>

#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

struct ConvCase {
  Shape x;
  int64_t out_c;
  ir::ConvAttrs attrs;
  bool bias;
};

// Copies x into a zero tensor grown by the pads, then slides the kernel over it with no bounds
// checks. `fused` accumulates in the documented order with fmaf (must match bit for bit); otherwise
// the sum is in double (to check the value, not the order).
std::vector<float> naive_conv(const ConvCase& c, const Buf& x, const Buf& w, const Buf* bias,
                              const Shape& out_shape, bool fused) {
  const auto& a = c.attrs;
  const int64_t n_batch = x.shape[0], in_c = x.shape[1], h = x.shape[2], wd = x.shape[3];
  const int64_t ph = h + a.pads[0] + a.pads[2], pw = wd + a.pads[1] + a.pads[3];
  std::vector<float> padded(n_batch * in_c * ph * pw, 0.0f);
  for (int64_t p = 0; p < n_batch * in_c; ++p)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < wd; ++xx)
        padded[(p * ph + y + a.pads[0]) * pw + xx + a.pads[1]] = x.data[(p * h + y) * wd + xx];

  const int64_t gin = w.shape[1], kh = w.shape[2], kw = w.shape[3], gout = c.out_c / a.group;
  std::vector<float> out;
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t co = 0; co < c.out_c; ++co)
      for (int64_t oy = 0; oy < out_shape[2]; ++oy)
        for (int64_t ox = 0; ox < out_shape[3]; ++ox) {
          float accf = bias ? bias->data[co] : 0.0f;
          double accd = accf;
          for (int64_t ci = 0; ci < gin; ++ci)
            for (int64_t ky = 0; ky < kh; ++ky)
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t py = oy * a.strides[0] + ky * a.dilations[0];
                const int64_t px = ox * a.strides[1] + kx * a.dilations[1];
                const float xv = padded[((n * in_c + co / gout * gin + ci) * ph + py) * pw + px];
                const float wv = w.data[((co * gin + ci) * kh + ky) * kw + kx];
                // A padded tap adds fmaf(0, w, acc) == acc, so skipping it or not is the same.
                accf = std::fmaf(xv, wv, accf);
                accd += static_cast<double>(xv) * wv;
              }
          out.push_back(fused ? accf : static_cast<float>(accd));
        }
  return out;
}

void check(const ConvCase& c) {
  const auto& a = c.attrs;
  Buf x = random_buf(c.x, 1);
  Buf w = random_buf({c.out_c, c.x[1] / a.group, a.kernel[0], a.kernel[1]}, 2);
  Buf b = random_buf({c.out_c}, 3);
  const Shape out_shape{
      c.x[0], c.out_c,
      (c.x[2] + a.pads[0] + a.pads[2] - a.dilations[0] * (a.kernel[0] - 1) - 1) / a.strides[0] + 1,
      (c.x[3] + a.pads[1] + a.pads[3] - a.dilations[1] * (a.kernel[1] - 1) - 1) / a.strides[1] + 1};
  std::vector<const Buf*> inputs{&x, &w};
  if (c.bias) inputs.push_back(&b);
  Buf y = run(make_node(ir::Op::Conv, a), inputs, out_shape);
  const Buf* bias = c.bias ? &b : nullptr;
  EXPECT_EQ(y.data, naive_conv(c, x, w, bias, out_shape, /*fused=*/true));
  expect_near(y.data, naive_conv(c, x, w, bias, out_shape, /*fused=*/false));
}

ir::ConvAttrs conv_attrs(std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> d,
                         std::array<int64_t, 4> p, int64_t group) {
  ir::ConvAttrs a;
  a.kernel = k;
  a.strides = s;
  a.dilations = d;
  a.pads = p;
  a.group = group;
  return a;
}

TEST(RefConv, HandValues) {
  // 3x3 input 1..9 with a 2x2 all-ones kernel and bias 0.5: each output is a 2x2 block sum.
  Buf x({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Buf w({1, 1, 2, 2}, {1, 1, 1, 1});
  Buf b({1}, {0.5f});
  Buf y = run(make_node(ir::Op::Conv, conv_attrs({2, 2}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1)),
              {&x, &w, &b}, {1, 1, 2, 2});
  EXPECT_EQ(y.data, (std::vector<float>{12.5f, 16.5f, 24.5f, 28.5f}));
}

TEST(RefConv, PaddedSameConv) {
  check({{1, 3, 5, 13}, 4, conv_attrs({3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 1), true});
}

TEST(RefConv, NoBiasPointwise) {
  check({{2, 5, 7, 3}, 6, conv_attrs({1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1), false});
}

TEST(RefConv, GroupsStrideDilationAsymmetricPads) {
  check({{2, 4, 7, 9}, 6, conv_attrs({2, 3}, {2, 1}, {1, 2}, {1, 0, 2, 3}, 2), true});
}

TEST(RefConv, Depthwise) {
  check({{1, 5, 9, 11}, 5, conv_attrs({3, 3}, {2, 2}, {2, 2}, {2, 2, 2, 2}, 5), true});
}

TEST(RefConv, DepthwiseMultiplierTwo) {
  check({{1, 3, 5, 13}, 6, conv_attrs({3, 5}, {1, 3}, {1, 1}, {0, 2, 1, 0}, 3), true});
}

TEST(RefConv, WrongWeightShapeIsInternal) {
  Buf x = random_buf({1, 4, 5, 5}, 1);
  Buf w = random_buf({2, 3, 3, 3}, 2);  // Cin/group should be 4
  Buf y({1, 2, 3, 3});
  std::vector<ConstTensorView> in{x.view(), w.view()};
  Status s = run_node(make_node(ir::Op::Conv, conv_attrs({3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1)),
                      in, y.mutable_view());
  EXPECT_EQ(s.code(), Error::Internal);
}

}  // namespace
}  // namespace tessera::reference::testing
