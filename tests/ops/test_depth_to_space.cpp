// DepthToSpace DCR vs CRD: known values, and the ONNX reshape-transpose-reshape definition.
#include <array>

#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

ir::Node d2s(int64_t block, ir::DepthToSpaceMode mode) {
  return make_node(ir::Op::DepthToSpace, ir::DepthToSpaceAttrs{block, mode});
}

TEST(RefDepthToSpace, KnownValues) {
  // 8 channels of one pixel, block 2 -> 2 channels of 2x2.
  Buf x = iota_buf({1, 8, 1, 1});
  EXPECT_EQ(run(d2s(2, ir::DepthToSpaceMode::DCR), {&x}, {1, 2, 2, 2}).data,
            (std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7}));
  EXPECT_EQ(run(d2s(2, ir::DepthToSpaceMode::CRD), {&x}, {1, 2, 2, 2}).data,
            (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
}

// The ONNX spec: view x as 6-D `dims`, permute its axes by `perm`, read out row-major.
std::vector<float> transpose6(const Buf& x, std::array<int64_t, 6> dims, std::array<int, 6> perm) {
  std::array<int64_t, 6> strides{};
  int64_t s = 1;
  for (int i = 5; i >= 0; --i) strides[i] = s, s *= dims[i];
  std::vector<float> y;
  std::array<int64_t, 6> o{};  // index in the permuted tensor
  for (o[0] = 0; o[0] < dims[perm[0]]; ++o[0])
    for (o[1] = 0; o[1] < dims[perm[1]]; ++o[1])
      for (o[2] = 0; o[2] < dims[perm[2]]; ++o[2])
        for (o[3] = 0; o[3] < dims[perm[3]]; ++o[3])
          for (o[4] = 0; o[4] < dims[perm[4]]; ++o[4])
            for (o[5] = 0; o[5] < dims[perm[5]]; ++o[5]) {
              int64_t offset = 0;
              for (int i = 0; i < 6; ++i) offset += o[i] * strides[perm[i]];
              y.push_back(x.data[offset]);
            }
  return y;
}

TEST(RefDepthToSpace, MatchesOnnxDefinition) {
  const int64_t n = 2, c = 3, b = 3, h = 2, w = 5;
  Buf x = random_buf({n, c * b * b, h, w}, 41);
  const Shape out{n, c, h * b, w * b};
  // DCR: reshape to [N, b, b, C, H, W], transpose (0, 3, 4, 1, 5, 2).
  EXPECT_EQ(run(d2s(b, ir::DepthToSpaceMode::DCR), {&x}, out).data,
            transpose6(x, {n, b, b, c, h, w}, {0, 3, 4, 1, 5, 2}));
  // CRD: reshape to [N, C, b, b, H, W], transpose (0, 1, 4, 2, 5, 3).
  EXPECT_EQ(run(d2s(b, ir::DepthToSpaceMode::CRD), {&x}, out).data,
            transpose6(x, {n, c, b, b, h, w}, {0, 1, 4, 2, 5, 3}));
}

}  // namespace
}  // namespace tessera::reference::testing
