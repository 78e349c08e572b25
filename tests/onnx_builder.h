// Pieces for tests that write ONNX models by hand with the protobuf classes.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"

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

// Appends node `op` reading `inputs` and writing `output`, named after its output.
inline onnx::NodeProto* add_node(onnx::GraphProto* g, const char* op, const std::vector<std::string>& inputs,
                                 const std::string& output) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(output);
  for (const std::string& i : inputs) n->add_input(i);
  n->add_output(output);
  return n;
}

// Appends a Conv from `in_c` to `out_c` channels with a k x k kernel, `pads` (top, left, bottom,
// right) and `dilation`, its weights and bias (initializers output_w, output_b) uniform in
// [-0.3, 0.3) from `rng`.
inline void add_conv(onnx::GraphProto* g, std::mt19937& rng, const std::string& input, const std::string& output,
                     int in_c, int out_c, int k, const std::vector<int>& pads, int dilation = 1) {
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  onnx::NodeProto* n = add_node(g, "Conv", {input, output + "_w", output + "_b"}, output);
  for (const std::vector<int>& dims : {std::vector<int>{out_c, in_c, k, k}, std::vector<int>{out_c}}) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(output + (dims.size() == 4 ? "_w" : "_b"));
    t->set_data_type(onnx::TensorProto::FLOAT);
    int count = 1;
    for (int d : dims) t->add_dims(d), count *= d;
    for (int i = 0; i < count; ++i) t->add_float_data(u(rng));
  }
  for (auto [name, values] : {std::pair{"pads", pads}, std::pair{"dilations", std::vector<int>{dilation, dilation}}}) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int v : values) a->add_ints(v);
  }
}

// Writes `model` to `file` in `dir`; returns its path.
inline std::string save_onnx(const TempDir& dir, const onnx::ModelProto& model, const std::string& file) {
  std::string path = dir.file(file);
  write_file(path, model.SerializeAsString());
  return path;
}

}  // namespace tessera::testing
