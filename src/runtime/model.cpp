// Model::load: maps a .tsr file, reads and checks it (format/reader), then verifies its memory plan
// at the upper bound before any Session uses it.
#include <fmt/format.h>

#include <map>

#include "core/check.h"
#include "format/reader.h"
#include "ir/flops.h"
#include "ir/shape_inference.h"
#include "runtime/model_data.h"

namespace tessera {

namespace {

TensorInfo tensor_info(const ir::Graph& g, int value, const Shape& upper) {
  TensorInfo t;
  t.name = g.values[value].name;
  for (int axis = 0; axis < upper.rank(); ++axis) {
    const auto& dims = g.values[value].input_dims;
    bool dynamic = axis < static_cast<int>(dims.size()) && dims[axis].dynamic >= 0;
    t.axes.push_back(dynamic ? g.dims[dims[axis].dynamic].name : std::to_string(upper[axis]));
  }
  return t;
}

ModelInfo describe(const ModelFile& file, const ModelData& d, int64_t weights_bytes) {
  ModelInfo info;
  info.content_hash = file.content_hash;
  info.source = file.source;
  info.layout = file.layout;
  for (const ir::DynamicDim& dim : d.graph.dims) info.dims.push_back({dim.name, dim.min, dim.max, dim.multiple_of});
  for (int v : d.graph.inputs) info.inputs.push_back(tensor_info(d.graph, v, d.upper_shapes[v]));
  for (int v : d.graph.outputs) {
    TensorInfo t;
    t.name = d.graph.values[v].name;
    t.axes.push_back("computed from the inputs; at the upper bound " + d.upper_shapes[v].to_string());
    info.outputs.push_back(t);
  }
  std::map<std::string, int> counts;
  for (const ir::Node& n : d.graph.nodes) ++counts[ir::op_name(n.op)];
  for (const auto& [op, count] : counts) info.op_counts.push_back({op, count});
  info.arena_bytes = d.plan.arena_bytes;
  info.lower_bound_bytes = d.plan.lower_bound_bytes;
  info.weights_bytes = weights_bytes;
  info.file_bytes = static_cast<int64_t>(d.file->size());
  info.pixel_min = file.pixel_min;
  info.pixel_max = file.pixel_max;
  info.tiling = file.tiling;
  return info;
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
  auto data = std::make_unique<ModelData>();
  TESSERA_ASSIGN_OR_RETURN(data->file, MappedFile::open(path));
  int64_t weights_bytes = 0;
  TESSERA_ASSIGN_OR_RETURN(ModelFile file,
                           read_tsr({data->file->data(), data->file->size()}, path, &weights_bytes));
  auto prefix = [&](const Status& s) { return Status(s.code(), fmt::format("'{}' is invalid: {}", path, s.message())); };
  Result<std::vector<Shape>> shapes = ir::shapes_at(file.graph, file.graph.upper_dim_values());
  if (!shapes.ok()) return prefix(shapes.status());
  data->upper_shapes = std::move(shapes).value();
  Status s = verify_plan(file.graph, file.plan, data->upper_shapes);
  if (!s.ok()) return prefix(s);
  data->graph = std::move(file.graph);
  data->plan = std::move(file.plan);
  data->info = describe(file, *data, weights_bytes);
  return std::shared_ptr<const Model>(std::make_shared<Model>(std::move(data)));
}

Model::Model(std::unique_ptr<ModelData> data) : data_(std::move(data)) {}
Model::~Model() = default;
const ModelInfo& Model::info() const { return data_->info; }

Shape Model::input_shape(int64_t height, int64_t width) const {
  Shape shape = data_->upper_shapes[data_->graph.inputs[0]];
  shape[2] = height;
  shape[3] = width;
  return shape;
}

Result<int64_t> Model::conv_flops(int64_t height, int64_t width) const {
  const ir::Graph& g = data_->graph;
  std::vector<int64_t> dims = g.upper_dim_values();
  const std::vector<ir::InputDim>& axes = g.values[g.inputs[0]].input_dims;
  TESSERA_CHECK(axes.size() == 4 && axes[2].dynamic >= 0 && axes[3].dynamic >= 0, Error::InvalidArgument,
                "the model's first input has no dynamic height and width");
  dims[axes[2].dynamic] = height;
  dims[axes[3].dynamic] = width;
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> shapes, ir::shapes_at(g, dims));
  return ir::conv_flops(g, shapes);
}

}  // namespace tessera
