#include "import/onnx_import.h"

#include <algorithm>
#include <fstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "core/check.h"
#include "core/regular_file.h"
#include "import/onnx_context.h"

namespace tessera {

namespace {

using onnx_import::Context;

Result<onnx::ModelProto> read_model(const std::string& path) {
  // Never blocks on a FIFO; refuses directories and devices with one line.
  TESSERA_ASSIGN_OR_RETURN(RegularFile file, open_regular_file(path, "an ONNX model (.onnx)"));
  google::protobuf::io::FileInputStream raw(file.fd);
  raw.SetCloseOnDelete(true);
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  onnx::ModelProto model;
  bool parsed = model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
  TESSERA_CHECK(parsed, Error::InvalidModel, "'{}' is not a valid ONNX model (protobuf parse failed)", path);
  TESSERA_CHECK(model.has_graph(), Error::InvalidModel, "'{}' has no graph", path);
  return model;
}

int default_domain_opset(const onnx::ModelProto& model) {
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return static_cast<int>(o.version());
  return 13;
}

Status add_input(Context& ctx, const onnx::ValueInfoProto& info) {
  const std::string& name = info.name();
  TESSERA_CHECK(info.type().has_tensor_type(), Error::Unsupported, "input '{}' is not a tensor", name);
  const auto& tt = info.type().tensor_type();
  TESSERA_CHECK(tt.elem_type() == onnx::TensorProto::FLOAT, Error::Unsupported,
                "input '{}' has element type {}; tessera models take float32 inputs", name,
                onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(tt.elem_type())));
  TESSERA_CHECK(tt.has_shape() && tt.shape().dim_size() >= 1 && tt.shape().dim_size() <= kMaxRank,
                Error::Unsupported, "input '{}' has no shape or a rank above {}", name, kMaxRank);
  ir::Value v;
  v.name = name;
  v.kind = ir::ValueKind::Input;
  for (int axis = 0; axis < tt.shape().dim_size(); ++axis) {
    const auto& d = tt.shape().dim(axis);
    ir::InputDim dim;
    if (d.has_dim_value()) {
      TESSERA_CHECK(d.dim_value() >= 1, Error::InvalidModel, "input '{}' axis {} has size {}", name, axis,
                    d.dim_value());
      dim.fixed = d.dim_value();
    } else {
      TESSERA_CHECK(d.has_dim_param() && !d.dim_param().empty(), Error::Unsupported,
                    "input '{}' axis {} is dynamic but has no name; export it with dynamic_axes={{'{}': {{{}: "
                    "'height'}}}} so that it can be bound with --dim",
                    name, axis, name, axis);
      auto it = std::find_if(ctx.graph.dims.begin(), ctx.graph.dims.end(),
                             [&](const ir::DynamicDim& dd) { return dd.name == d.dim_param(); });
      if (it == ctx.graph.dims.end()) {
        ctx.graph.dims.push_back({d.dim_param(), 0, 0, 1});
        it = ctx.graph.dims.end() - 1;
      }
      dim.dynamic = static_cast<int>(it - ctx.graph.dims.begin());
    }
    v.input_dims.push_back(dim);
  }
  int index = ctx.graph.add_value(std::move(v));
  ctx.graph.inputs.push_back(index);
  ctx.values[name] = index;
  ctx.ranks[index] = tt.shape().dim_size();
  return {};
}

}  // namespace

Result<ir::Graph> import_onnx(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(onnx::ModelProto model, read_model(path));
  const onnx::GraphProto& g = model.graph();
  std::string base_dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));

  Context ctx;
  ctx.opset = default_domain_opset(model);
  TESSERA_CHECK(ctx.opset >= 7 && ctx.opset <= 18, Error::Unsupported,
                "'{}' uses ONNX opset {}; tessera reads opsets 7 to 18 (re-export with opset_version=13)", path,
                ctx.opset);
  for (const auto& init : g.initializer()) {
    TESSERA_ASSIGN_OR_RETURN(ctx.constants[init.name()], onnx_import::decode_tensor(init, base_dir));
  }
  for (const auto& input : g.input()) {
    if (ctx.constants.count(input.name()) == 0) TESSERA_RETURN_IF_ERROR(add_input(ctx, input));
  }
  TESSERA_CHECK(!ctx.graph.inputs.empty(), Error::InvalidModel, "'{}' has no inputs", path);
  for (const auto& node : g.node()) {
    TESSERA_CHECK(node.domain().empty() || node.domain() == "ai.onnx", Error::Unsupported,
                  "node '{}' is op '{}' of domain '{}'; tessera supports the default ONNX domain only",
                  Context::node_name(node), node.op_type(), node.domain());
    TESSERA_RETURN_IF_ERROR(onnx_import::convert_node(ctx, node));
  }
  for (const auto& output : g.output()) {
    auto it = ctx.values.find(output.name());
    TESSERA_CHECK(it != ctx.values.end(), Error::Unsupported,
                  "output '{}' is not computed from the inputs (a constant output is not supported)", output.name());
    TESSERA_CHECK(ctx.graph.values[it->second].kind == ir::ValueKind::Activation, Error::Unsupported,
                  "output '{}' is an input or a constant; tessera needs at least one op between them", output.name());
    ctx.graph.outputs.push_back(it->second);
    // Outputs keep the source model's names even when an Identity was folded away.
    ctx.graph.values[it->second].name = output.name();
  }
  TESSERA_CHECK(!ctx.graph.outputs.empty(), Error::InvalidModel, "'{}' has no outputs", path);
  return std::move(ctx.graph);
}

}  // namespace tessera
