// Element-wise activations: Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid.
#include <cmath>

#include "backends/reference/ops.h"

namespace tessera::reference {
namespace {

// y[i] = f(x[i]). Reads x[i] before writing y[i], so y may alias x (in-place).
template <typename F>
Status map(const char* op, Inputs in, TensorView out, F f) {
  TESSERA_REF_EXPECT(in.size() == 1, "{} takes 1 input, got {}", op, in.size());
  TESSERA_REF_EXPECT(in[0].shape == out.shape, "{} input {} and output {} differ", op,
                     in[0].shape.to_string(), out.shape.to_string());
  const float* x = in[0].data;
  const int64_t count = out.shape.element_count();
  for (int64_t i = 0; i < count; ++i) out.data[i] = f(x[i]);
  return Status::ok_status();
}

// Comparisons written so that NaN passes through (as numpy and PyTorch do).
float clamp(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace

Status relu(Inputs in, TensorView out) {
  return map("Relu", in, out, [](float v) { return v < 0.0f ? 0.0f : v; });
}

Status leaky_relu(const ir::LeakyReluAttrs& a, Inputs in, TensorView out) {
  return map("LeakyRelu", in, out, [alpha = a.alpha](float v) { return v < 0.0f ? alpha * v : v; });
}

Status clip(const ir::ClipAttrs& a, Inputs in, TensorView out) {
  return map("Clip", in, out, [&a](float v) { return clamp(v, a.min, a.max); });
}

// Sigmoid and Tanh are computed in double and rounded once to float, so that every CPU gives the
// same bits: libm's float functions differ between x86-64 and aarch64 in the last bit (glibc's
// tanhf in 2 of 12288 elements of the op_tanh test model), while their double results, at most an
// ulp of double apart, round to the same float unless the value lies within 2^-29 of a float ulp
// of a rounding boundary (docs/architecture.md, "The same bits on every CPU").

// 1 / (1 + e^-x): below about -104 the result rounds to 0 in float (e^-x overflows only in double's
// range, below about -709, where the result is exactly 0).
Status sigmoid(Inputs in, TensorView out) {
  return map("Sigmoid", in, out,
             [](float v) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v)))); });
}

Status tanh(Inputs in, TensorView out) {
  return map("Tanh", in, out, [](float v) { return static_cast<float>(std::tanh(static_cast<double>(v))); });
}

// max(0, min(1, alpha*x + beta)); the multiply-add is fused so the result does not depend on
// whether the compiler contracts it.
Status hard_sigmoid(const ir::HardSigmoidAttrs& a, Inputs in, TensorView out) {
  return map("HardSigmoid", in, out,
             [&a](float v) { return clamp(std::fmaf(a.alpha, v, a.beta), 0.0f, 1.0f); });
}

}  // namespace tessera::reference
