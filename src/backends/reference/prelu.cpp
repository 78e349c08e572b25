// PRelu: y = x < 0 ? slope * x : x, with slope broadcast numpy-style to x ([1], [C,1,1], [1,C,1,1]).
#include "backends/reference/broadcast.h"

namespace tessera::reference {

Status prelu(Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 2, "PRelu takes 2 inputs (x, slope), got {}", in.size());
  TESSERA_REF_EXPECT(in[0].shape == out.shape, "PRelu x {} and output {} differ",
                     in[0].shape.to_string(), out.shape.to_string());
  return broadcast_apply("PRelu", in[0], in[1], out,
                         [](float x, float slope) { return x < 0.0f ? slope * x : x; });
}

}  // namespace tessera::reference
