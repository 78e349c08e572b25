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

// Starts `model` (IR 8, opset 13) with a graph `name` from image "x" of `in_channels` channels to
// image "y" of `out_channels`; returns the graph, for the caller's nodes and initializers.
inline onnx::GraphProto* start_image_model(onnx::ModelProto& model, const char* name, int64_t in_channels,
                                           int64_t out_channels) {
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(name);
  set_image_value(g->add_input(), "x", in_channels);
  set_image_value(g->add_output(), "y", out_channels);
  return g;
}

}  // namespace tessera::testing
