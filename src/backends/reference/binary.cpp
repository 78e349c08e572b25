// Add, Sub, Mul, Div with numpy multidirectional broadcasting (rank <= 6).
#include <fmt/format.h>
#include <functional>

#include "backends/reference/broadcast.h"

namespace tessera::reference {

Status binary(ir::Op op, Inputs in, TensorView out) {
  TESSERA_REF_EXPECT(in.size() == 2, "{} takes 2 inputs, got {}", ir::op_name(op), in.size());
  if (op == ir::Op::Add) return broadcast_apply("Add", in[0], in[1], out, std::plus<float>());
  if (op == ir::Op::Sub) return broadcast_apply("Sub", in[0], in[1], out, std::minus<float>());
  if (op == ir::Op::Mul) return broadcast_apply("Mul", in[0], in[1], out, std::multiplies<float>());
  if (op == ir::Op::Div) return broadcast_apply("Div", in[0], in[1], out, std::divides<float>());
  return Status(Error::Internal, fmt::format("binary() got non-binary op {}", ir::op_name(op)));
}

}  // namespace tessera::reference
