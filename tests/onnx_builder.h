// Pieces for tests that write ONNX models by hand with the protobuf classes.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>

namespace tessera::testing {

// Declares `v` as a float32 image [1, channels, "height", "width"] named `name`.
inline void set_image_value(onnx::ValueInfoProto* v, const char* name, int64_t channels) {
  v->set_name(name);
  onnx::TypeProto::Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_value(1);
  t->mutable_shape()->add_dim()->set_dim_value(channels);
  t->mutable_shape()->add_dim()->set_dim_param("height");
  t->mutable_shape()->add_dim()->set_dim_param("width");
}

}  // namespace tessera::testing
