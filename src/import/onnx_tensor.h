// Decoding of ONNX TensorProto constants (initializers and Constant nodes) into float or int64 data.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "tessera/status.h"
#include "tessera/tensor.h"

namespace tessera::onnx_import {

struct ConstantTensor {
  Shape shape;
  bool is_float = true;
  std::vector<float> floats;   // is_float
  std::vector<int64_t> ints;   // integer tensors (pads, axes, shapes)
};

// `base_dir` resolves external data files (models over 2 GB keep weights beside the .onnx).
Result<ConstantTensor> decode_tensor(const onnx::TensorProto& t, const std::string& base_dir);

}  // namespace tessera::onnx_import
