// ConvTranspose reference kernel vs the scatter definition: every input pixel adds x * w to outputs.
#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

struct Case {
  Shape x;
  int64_t out_c;
  ir::ConvAttrs attrs;
};

// Output size = (in-1)*stride - pad_begin - pad_end + dilation*(k-1) + output_padding + 1.
Shape out_shape_of(const Case& c) {
  const auto& a = c.attrs;
  auto size = [&](int axis) {
    return (c.x[2 + axis] - 1) * a.strides[axis] - a.pads[axis] - a.pads[axis + 2] +
           a.dilations[axis] * (a.kernel[axis] - 1) + a.output_padding[axis] + 1;
  };
  return {c.x[0], c.out_c, size(0), size(1)};
}

// Scatter: out starts at the bias; input pixel (iy, ix) adds x * w[ci, co, ky, kx] to output
// (iy*s + ky*d - pad_top, ix*s + kx*d - pad_left) when that lands in the output. Sums in double.
std::vector<float> scatter_conv_transpose(const Case& c, const Buf& x, const Buf& w, const Buf& b,
                                          const Shape& os) {
  const auto& a = c.attrs;
  const int64_t in_c = c.x[1], gin = in_c / a.group, gout = w.shape[1];
  std::vector<double> out(os.element_count());
  for (int64_t n = 0; n < os[0]; ++n)
    for (int64_t co = 0; co < os[1]; ++co)
      for (int64_t i = 0; i < os[2] * os[3]; ++i) out[(n * os[1] + co) * os[2] * os[3] + i] = b.data[co];
  for (int64_t n = 0; n < c.x[0]; ++n)
    for (int64_t ci = 0; ci < in_c; ++ci)
      for (int64_t iy = 0; iy < c.x[2]; ++iy)
        for (int64_t ix = 0; ix < c.x[3]; ++ix)
          for (int64_t cog = 0; cog < gout; ++cog)
            for (int64_t ky = 0; ky < a.kernel[0]; ++ky)
              for (int64_t kx = 0; kx < a.kernel[1]; ++kx) {
                const int64_t oy = iy * a.strides[0] + ky * a.dilations[0] - a.pads[0];
                const int64_t ox = ix * a.strides[1] + kx * a.dilations[1] - a.pads[1];
                if (oy < 0 || oy >= os[2] || ox < 0 || ox >= os[3]) continue;
                const int64_t co = ci / gin * gout + cog;
                out[((n * os[1] + co) * os[2] + oy) * os[3] + ox] +=
                    static_cast<double>(x.data[((n * in_c + ci) * c.x[2] + iy) * c.x[3] + ix]) *
                    w.data[((ci * gout + cog) * a.kernel[0] + ky) * a.kernel[1] + kx];
              }
  return std::vector<float>(out.begin(), out.end());
}

void check(const Case& c) {
  const auto& a = c.attrs;
  Buf x = random_buf(c.x, 4);
  Buf w = random_buf({c.x[1], c.out_c / a.group, a.kernel[0], a.kernel[1]}, 5);
  Buf b = random_buf({c.out_c}, 6);
  const Shape os = out_shape_of(c);
  Buf y = run(make_node(ir::Op::ConvTranspose, a), {&x, &w, &b}, os);
  expect_near(y.data, scatter_conv_transpose(c, x, w, b, os));
}

ir::ConvAttrs attrs(std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> d,
                    std::array<int64_t, 4> p, std::array<int64_t, 2> op, int64_t group) {
  ir::ConvAttrs a;
  a.kernel = k;
  a.strides = s;
  a.dilations = d;
  a.pads = p;
  a.output_padding = op;
  a.group = group;
  return a;
}

TEST(RefConvTranspose, HandValuesStride2) {
  // Stride 2 with a 2x2 kernel tiles each input pixel into its own 2x2 block of x * w.
  Buf x({1, 1, 2, 2}, {1, 2, 3, 4});
  Buf w({1, 1, 2, 2}, {1, 10, 100, 1000});
  Buf y = run(make_node(ir::Op::ConvTranspose, attrs({2, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}, 1)),
              {&x, &w}, {1, 1, 4, 4});
  EXPECT_EQ(y.data, (std::vector<float>{1, 10, 2, 20, 100, 1000, 200, 2000,  //
                                        3, 30, 4, 40, 300, 3000, 400, 4000}));
}

TEST(RefConvTranspose, OverlappingTaps) {
  // Stride 1, kernel 2 on a 1x3 row: taps overlap, y = [x0w0, x0w1 + x1w0, x1w1 + x2w0, x2w1].
  Buf x({1, 1, 1, 3}, {1, 2, 3});
  Buf w({1, 1, 1, 2}, {1, 2});
  Buf y = run(make_node(ir::Op::ConvTranspose, attrs({1, 2}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0, 0}, 1)),
              {&x, &w}, {1, 1, 1, 4});
  EXPECT_EQ(y.data, (std::vector<float>{1, 2 + 2, 4 + 3, 6}));
}

TEST(RefConvTranspose, Stride2PadOutputPadding) {
  check({{1, 3, 5, 13}, 2, attrs({3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1)});
}

TEST(RefConvTranspose, GroupsDilationAsymmetricPads) {
  check({{2, 4, 7, 3}, 6, attrs({2, 3}, {2, 3}, {2, 1}, {1, 0, 0, 2}, {1, 2}, 2)});
}

TEST(RefConvTranspose, Depthwise) {
  check({{1, 5, 4, 6}, 5, attrs({4, 4}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0, 0}, 5)});
}

}  // namespace
}  // namespace tessera::reference::testing
