#include "ir/flops.h"

namespace tessera::ir {

int64_t conv_flops(const Graph& graph, std::span<const Shape> shapes) {
  int64_t flops = 0;
  for (const Node& n : graph.nodes) {
    if (n.op != Op::Conv && n.op != Op::ConvTranspose) continue;
    const Shape& w = shapes[n.inputs[1]];
    // Conv: every output pixel takes Cin/group × kh × kw multiply-adds. ConvTranspose: every input pixel
    // scatters Cout/group × kh × kw of them, with weight [Cin, Cout/group, kh, kw].
    const Shape& pixels = n.op == Op::Conv ? shapes[n.output] : shapes[n.inputs[0]];
    flops += 2 * w.element_count() * pixels[0] * pixels[2] * pixels[3];
  }
  return flops;
}

}  // namespace tessera::ir
