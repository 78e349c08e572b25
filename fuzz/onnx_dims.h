// The dynamic dims of an ONNX model's inputs (their dim_param names), each bound to the small
// range the fuzz targets compile at: 32..48 in steps of 8.
#pragma once

#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "tessera/model.h"

namespace tessera::fuzz {

struct SmallRange {
  int64_t min, max, multiple_of;
};
inline constexpr SmallRange kSmallRange{32, 48, 8};

inline std::vector<DimInfo> small_onnx_dims(const void* data, size_t size) {
  std::vector<DimInfo> dims;
  onnx::ModelProto proto;
  if (size > (64u << 20) || !proto.ParseFromArray(data, static_cast<int>(size))) return dims;
  for (const auto& input : proto.graph().input()) {
    if (!input.type().has_tensor_type()) continue;
    for (const auto& d : input.type().tensor_type().shape().dim()) {
      if (d.dim_param().empty()) continue;
      bool seen = false;
      for (const DimInfo& x : dims) seen = seen || x.name == d.dim_param();
      if (!seen && dims.size() < 8) dims.push_back({d.dim_param(), kSmallRange.min, kSmallRange.max, kSmallRange.multiple_of});
    }
  }
  return dims;
}

}  // namespace tessera::fuzz
