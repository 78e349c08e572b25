// Helpers for the reference kernel tests: owned test tensors, running one node, seeded data.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "backends/reference/kernels.h"

namespace tessera::reference::testing {

// A test tensor: a shape and its row-major data.
struct Buf {
  Shape shape;
  std::vector<float> data;

  Buf() = default;
  Buf(const Shape& s, std::vector<float> d) : shape(s), data(std::move(d)) {
    EXPECT_EQ(static_cast<int64_t>(data.size()), shape.element_count()) << shape.to_string();
  }
  explicit Buf(const Shape& s) : Buf(s, std::vector<float>(s.element_count(), 0.0f)) {}
  ConstTensorView view() const { return {data.data(), shape}; }
  TensorView mutable_view() { return {data.data(), shape}; }
};

// Deterministic values in [-1, 1) (a small LCG), so failures reproduce.
inline Buf random_buf(const Shape& s, uint32_t seed) {
  Buf b(s);
  uint32_t state = seed * 2654435761u + 1;
  for (float& v : b.data) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) / static_cast<float>(1 << 23) - 1.0f;
  }
  return b;
}

// 0, 1, 2, ... in row-major order.
inline Buf iota_buf(const Shape& s) {
  Buf b(s);
  for (size_t i = 0; i < b.data.size(); ++i) b.data[i] = static_cast<float>(i);
  return b;
}

inline ir::Node make_node(ir::Op op, ir::Attrs attrs = {}) {
  ir::Node n;
  n.op = op;
  n.name = "test";
  n.attrs = attrs;
  return n;
}

// Runs `node` on `inputs` into a fresh output of `out_shape`; the test fails if the kernel fails.
inline Buf run(const ir::Node& node, const std::vector<const Buf*>& inputs, const Shape& out_shape) {
  std::vector<ConstTensorView> views;
  for (const Buf* b : inputs) views.push_back(b->view());
  Buf out(out_shape);
  Status s = run_node(node, views, out.mutable_view());
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

// Element-wise |actual - expected| <= tol * max(1, |expected|).
inline void expect_near(const std::vector<float>& actual, const std::vector<float>& expected,
                        float tol = 1e-5f) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    const float scale = std::max(1.0f, std::abs(expected[i]));
    EXPECT_NEAR(actual[i], expected[i], tol * scale) << "at element " << i;
  }
}

// Data of the logical shape s, NCHW to NHWC or back.
inline std::vector<float> relayout(const std::vector<float>& data, const Shape& s, bool to_nhwc) {
  std::vector<float> out(data.size());
  const int64_t hw = s[2] * s[3];
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t i = 0; i < hw; ++i) {
        const int64_t nchw = (n * s[1] + c) * hw + i, nhwc = (n * hw + i) * s[1] + c;
        out[to_nhwc ? nhwc : nchw] = data[to_nhwc ? nchw : nhwc];
      }
  return out;
}

}  // namespace tessera::reference::testing
