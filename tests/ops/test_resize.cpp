// Resize: nearest and bilinear against hand-computed values for each coordinate and nearest mode.
#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

using ir::CoordinateMode;
using ir::NearestMode;
using ir::ResizeMode;

std::vector<float> resize(const Buf& x, const Shape& out, ResizeMode mode, CoordinateMode coord,
                          NearestMode nearest, float scale_h, float scale_w) {
  return run(make_node(ir::Op::Resize, ir::ResizeAttrs{mode, coord, nearest, {scale_h, scale_w}}),
             {&x}, out)
      .data;
}

// Resizes a 1x1x1xW row to 1x1x1x`out_w` along W only.
std::vector<float> resize_row(const std::vector<float>& row, int64_t out_w, ResizeMode mode,
                              CoordinateMode coord, NearestMode nearest, float scale) {
  Buf x({1, 1, 1, static_cast<int64_t>(row.size())}, row);
  return resize(x, {1, 1, 1, out_w}, mode, coord, nearest, 1.0f, scale);
}

TEST(RefResize, NearestTimesTwo) {
  Buf x({1, 1, 2, 2}, {1, 2, 3, 4});
  const std::vector<float> expected{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  // PyTorch's nearest (asymmetric + floor) and ONNX's default (half_pixel + round_prefer_floor).
  EXPECT_EQ(resize(x, {1, 1, 4, 4}, ResizeMode::Nearest, CoordinateMode::Asymmetric,
                   NearestMode::Floor, 2, 2),
            expected);
  EXPECT_EQ(resize(x, {1, 1, 4, 4}, ResizeMode::Nearest, CoordinateMode::HalfPixel,
                   NearestMode::RoundPreferFloor, 2, 2),
            expected);
}

TEST(RefResize, NearestModesOnTies) {
  // Asymmetric x2 on 3 pixels: source coordinates 0, 0.5, 1, 1.5, 2, 2.5.
  const std::vector<float> row{10, 20, 30};
  auto r = [&](NearestMode m) {
    return resize_row(row, 6, ResizeMode::Nearest, CoordinateMode::Asymmetric, m, 2);
  };
  EXPECT_EQ(r(NearestMode::RoundPreferFloor), (std::vector<float>{10, 10, 20, 20, 30, 30}));
  EXPECT_EQ(r(NearestMode::RoundPreferCeil), (std::vector<float>{10, 20, 20, 30, 30, 30}));
  EXPECT_EQ(r(NearestMode::Floor), (std::vector<float>{10, 10, 20, 20, 30, 30}));
  EXPECT_EQ(r(NearestMode::Ceil), (std::vector<float>{10, 20, 20, 30, 30, 30}));
}

TEST(RefResize, NearestModesOffTies) {
  // Asymmetric x1.5 on 4 pixels: source coordinates 0, 0.67, 1.33, 2, 2.67, 3.33.
  const std::vector<float> row{10, 20, 30, 40};
  auto r = [&](NearestMode m) {
    return resize_row(row, 6, ResizeMode::Nearest, CoordinateMode::Asymmetric, m, 1.5f);
  };
  EXPECT_EQ(r(NearestMode::RoundPreferFloor), (std::vector<float>{10, 20, 20, 30, 40, 40}));
  EXPECT_EQ(r(NearestMode::RoundPreferCeil), (std::vector<float>{10, 20, 20, 30, 40, 40}));
  EXPECT_EQ(r(NearestMode::Floor), (std::vector<float>{10, 10, 20, 30, 30, 40}));
  EXPECT_EQ(r(NearestMode::Ceil), (std::vector<float>{10, 20, 30, 30, 40, 40}));
}

TEST(RefResize, NearestTfHalfPixel) {
  // (x + 0.5) / 2 = 0.25, 0.75, 1.25, 1.75 -> 0, 1, 1, 2 (clamped to 1).
  EXPECT_EQ(resize_row({10, 20}, 4, ResizeMode::Nearest, CoordinateMode::TfHalfPixelForNearest,
                       NearestMode::RoundPreferCeil, 2),
            (std::vector<float>{10, 20, 20, 20}));
}

TEST(RefResize, LinearAlignCorners2x2To3x3) {
  Buf x({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(resize(x, {1, 1, 3, 3}, ResizeMode::Linear, CoordinateMode::AlignCorners,
                   NearestMode::RoundPreferFloor, 1.5f, 1.5f),
            (std::vector<float>{1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}));
}

TEST(RefResize, LinearHalfPixelTimesTwo) {
  // PyTorch bilinear, align_corners=False, on [[1, 2], [3, 4]]; edges clamp.
  Buf x({1, 1, 2, 2}, {1, 2, 3, 4});
  const std::vector<float> expected{1,    1.25f, 1.75f, 2,    1.5f, 1.75f, 2.25f, 2.5f,
                                    2.5f, 2.75f, 3.25f, 3.5f, 3,    3.25f, 3.75f, 4};
  for (CoordinateMode m : {CoordinateMode::HalfPixel, CoordinateMode::PytorchHalfPixel}) {
    EXPECT_EQ(resize(x, {1, 1, 4, 4}, ResizeMode::Linear, m, NearestMode::RoundPreferFloor, 2, 2),
              expected);
  }
}

TEST(RefResize, LinearNonIntegerScale) {
  // x5/3: (x + 0.5) * 0.6 - 0.5 = -0.2, 0.4, 1, 1.6, 2.2, clamped into [0, 2].
  expect_near(resize_row({0, 10, 20}, 5, ResizeMode::Linear, CoordinateMode::HalfPixel,
                         NearestMode::RoundPreferFloor, 5.0f / 3.0f),
              {0, 4, 10, 16, 20});
}

TEST(RefResize, LinearAsymmetric) {
  // x / 2 = 0, 0.5, 1, 1.5 -> the last one clamps to 1.
  EXPECT_EQ(resize_row({0, 10}, 4, ResizeMode::Linear, CoordinateMode::Asymmetric,
                       NearestMode::RoundPreferFloor, 2),
            (std::vector<float>{0, 5, 10, 10}));
}

TEST(RefResize, PytorchHalfPixelSingleOutput) {
  // One output pixel: pytorch_half_pixel samples coordinate 0, half_pixel the centre.
  const std::vector<float> row{1, 2, 3};
  EXPECT_EQ(resize_row(row, 1, ResizeMode::Linear, CoordinateMode::PytorchHalfPixel,
                       NearestMode::RoundPreferFloor, 1.0f / 3.0f),
            (std::vector<float>{1}));
  expect_near(resize_row(row, 1, ResizeMode::Linear, CoordinateMode::HalfPixel,
                         NearestMode::RoundPreferFloor, 1.0f / 3.0f),
              {2});
}

TEST(RefResize, ScaleOneIsIdentityOnOddShape) {
  Buf x = random_buf({2, 5, 7, 3}, 51);
  for (ResizeMode mode : {ResizeMode::Nearest, ResizeMode::Linear}) {
    EXPECT_EQ(resize(x, x.shape, mode, CoordinateMode::HalfPixel, NearestMode::RoundPreferFloor, 1, 1),
              x.data);
  }
}

TEST(RefResize, ChannelsAreIndependent) {
  // Two channels, each resized like the single-channel case.
  Buf x({1, 2, 1, 2}, {0, 10, 100, 200});
  EXPECT_EQ(resize(x, {1, 2, 1, 4}, ResizeMode::Linear, CoordinateMode::Asymmetric,
                   NearestMode::RoundPreferFloor, 1, 2),
            (std::vector<float>{0, 5, 10, 10, 100, 150, 200, 200}));
}

}  // namespace
}  // namespace tessera::reference::testing
