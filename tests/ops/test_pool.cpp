// MaxPool and AveragePool: ceil_mode and count_include_pad corner values, and a naive formula
// over an explicitly padded copy on odd shapes.
#include <cmath>
#include <limits>

#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

ir::PoolAttrs pool_attrs(std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> d,
                         std::array<int64_t, 4> p, bool ceil_mode, bool include_pad) {
  ir::PoolAttrs a;
  a.kernel = k;
  a.strides = s;
  a.dilations = d;
  a.pads = p;
  a.ceil_mode = ceil_mode;
  a.count_include_pad = include_pad;
  return a;
}

TEST(RefPool, MaxHandValues) {
  Buf x = iota_buf({1, 1, 4, 4});
  EXPECT_EQ(run(make_node(ir::Op::MaxPool, pool_attrs({2, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}, false, false)),
                {&x}, {1, 1, 2, 2})
                .data,
            (std::vector<float>{5, 7, 13, 15}));
}

TEST(RefPool, MaxCeilModePartialWindows) {
  // 5x5 with 2x2/2 and ceil_mode: the last row and column of windows hold one input row/column.
  Buf x = iota_buf({1, 1, 5, 5});
  EXPECT_EQ(run(make_node(ir::Op::MaxPool, pool_attrs({2, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}, true, false)),
                {&x}, {1, 1, 3, 3})
                .data,
            (std::vector<float>{6, 8, 9, 16, 18, 19, 21, 23, 24}));
}

TEST(RefPool, MaxPaddingNeverWins) {
  Buf x({1, 1, 1, 3}, {-5, -4, -6});
  EXPECT_EQ(run(make_node(ir::Op::MaxPool, pool_attrs({1, 3}, {1, 1}, {1, 1}, {0, 1, 0, 1}, false, false)),
                {&x}, {1, 1, 1, 3})
                .data,
            (std::vector<float>{-4, -4, -4}));
}

TEST(RefPool, MaxDilation) {
  // Taps {0, 2, 4}, {1, 3, 5}, {2, 4, 6} of [3, 1, 4, 1, 5, 9, 2].
  Buf x({1, 1, 1, 7}, {3, 1, 4, 1, 5, 9, 2});
  EXPECT_EQ(run(make_node(ir::Op::MaxPool, pool_attrs({1, 3}, {1, 1}, {1, 2}, {0, 0, 0, 0}, false, false)),
                {&x}, {1, 1, 1, 3})
                .data,
            (std::vector<float>{5, 9, 5}));
}

TEST(RefPool, MaxPropagatesNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Buf x({1, 1, 1, 3}, {1, nan, 2});
  Buf y = run(make_node(ir::Op::MaxPool, pool_attrs({1, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, false, false)),
              {&x}, {1, 1, 1, 1});
  EXPECT_TRUE(std::isnan(y.data[0]));
}

TEST(RefPool, AverageCeilModeCountIncludePad) {
  // Width 6, kernel 3, stride 2, pads 1/1, ceil_mode: 4 windows starting at -1, 1, 3, 5. The last
  // one covers 5, 6 (right pad) and 7 (past the padded input), holding only x[5] = 6.
  Buf x({1, 1, 1, 6}, {1, 2, 3, 4, 5, 6});
  const Shape out{1, 1, 1, 4};
  auto avg = [&](bool include_pad) {
    return run(make_node(ir::Op::AveragePool,
                         pool_attrs({1, 3}, {1, 2}, {1, 1}, {0, 1, 0, 1}, true, include_pad)),
               {&x}, out)
        .data;
  };
  // Included: (0+1+2)/3, 9/3, 15/3, 6/2 (the tap past the pad is not counted, as in PyTorch).
  EXPECT_EQ(avg(true), (std::vector<float>{1, 3, 5, 3}));
  // Excluded: 3/2, 9/3, 15/3, 6/1.
  EXPECT_EQ(avg(false), (std::vector<float>{1.5f, 3, 5, 6}));
}

// Naive pooling over an explicit copy of x grown by the pads plus enough room for ceil_mode
// windows; each cell is marked as a real pixel, padding, or beyond the padded input.
enum class Cell { Real, Pad, Beyond };
std::vector<float> naive_pool(bool is_max, const Buf& x, const ir::PoolAttrs& a, const Shape& out) {
  const int64_t h = x.shape[2], w = x.shape[3];
  const int64_t gh = (out[2] - 1) * a.strides[0] + (a.kernel[0] - 1) * a.dilations[0] + 1 + h + a.pads[0];
  const int64_t gw = (out[3] - 1) * a.strides[1] + (a.kernel[1] - 1) * a.dilations[1] + 1 + w + a.pads[1];
  std::vector<float> out_data;
  for (int64_t p = 0; p < x.shape[0] * x.shape[1]; ++p) {
    std::vector<float> grid(gh * gw, 0.0f);
    std::vector<Cell> cell(gh * gw, Cell::Beyond);
    for (int64_t y = 0; y < gh; ++y)
      for (int64_t xx = 0; xx < gw; ++xx) {
        const int64_t iy = y - a.pads[0], ix = xx - a.pads[1];
        if (iy < h + a.pads[2] && ix < w + a.pads[3]) cell[y * gw + xx] = Cell::Pad;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
          cell[y * gw + xx] = Cell::Real;
          grid[y * gw + xx] = x.data[(p * h + iy) * w + ix];
        }
      }
    for (int64_t oy = 0; oy < out[2]; ++oy)
      for (int64_t ox = 0; ox < out[3]; ++ox) {
        double sum = 0, best = -INFINITY;
        int64_t real = 0, padded = 0;
        for (int64_t ky = 0; ky < a.kernel[0]; ++ky)
          for (int64_t kx = 0; kx < a.kernel[1]; ++kx) {
            const int64_t g = (oy * a.strides[0] + ky * a.dilations[0]) * gw + ox * a.strides[1] +
                              kx * a.dilations[1];
            if (cell[g] == Cell::Real) sum += grid[g], best = std::max<double>(best, grid[g]), ++real;
            if (cell[g] != Cell::Beyond) ++padded;
          }
        out_data.push_back(static_cast<float>(
            is_max ? best : sum / static_cast<double>(a.count_include_pad ? padded : real)));
      }
  }
  return out_data;
}

// Output size as ONNX/PyTorch compute it, with the rule that a ceil_mode window must start inside
// the input or the left padding.
int64_t pooled(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, bool ceil_mode) {
  const int64_t span = in + pb + pe - d * (k - 1) - 1;
  int64_t n = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (n - 1) * s >= in + pb) --n;
  return n;
}

void check_odd_shape(const ir::PoolAttrs& a) {
  Buf x = random_buf({2, 3, 7, 11}, 61);
  const Shape out{2, 3,
                  pooled(7, a.kernel[0], a.strides[0], a.dilations[0], a.pads[0], a.pads[2], a.ceil_mode),
                  pooled(11, a.kernel[1], a.strides[1], a.dilations[1], a.pads[1], a.pads[3], a.ceil_mode)};
  EXPECT_EQ(run(make_node(ir::Op::MaxPool, a), {&x}, out).data, naive_pool(true, x, a, out));
  expect_near(run(make_node(ir::Op::AveragePool, a), {&x}, out).data, naive_pool(false, x, a, out));
}

TEST(RefPool, OddShapes) {
  for (bool ceil_mode : {false, true}) {
    for (bool include_pad : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "ceil_mode " << ceil_mode << " include_pad " << include_pad);
      check_odd_shape(pool_attrs({3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, ceil_mode, include_pad));
      check_odd_shape(pool_attrs({2, 3}, {2, 3}, {1, 1}, {0, 1, 1, 0}, ceil_mode, include_pad));
      check_odd_shape(pool_attrs({3, 2}, {1, 2}, {2, 2}, {2, 0, 1, 1}, ceil_mode, include_pad));
    }
  }
}

}  // namespace
}  // namespace tessera::reference::testing
