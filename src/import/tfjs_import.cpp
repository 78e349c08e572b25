#include "import/tfjs_import.h"

#include <fstream>
#include <iterator>

#include "core/check.h"
#include "core/regular_file.h"
#include "import/tfjs_context.h"

namespace tessera {

namespace {

using nlohmann::json;
using tfjs_import::Context;
using tfjs_import::Layer;

Result<json> read_json(const std::string& path) {
  // Never blocks on a FIFO; refuses directories, devices and absurd sizes with one line.
  TESSERA_ASSIGN_OR_RETURN(std::string text, read_regular_file(path, "a TF.js model.json", int64_t{256} << 20));
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  TESSERA_CHECK(!root.is_discarded(), Error::InvalidModel, "'{}' is not valid JSON; download the model again", path);
  TESSERA_CHECK(root.is_object(), Error::InvalidModel, "'{}' is not a TF.js model.json (not a JSON object)", path);
  return root;
}

// The Keras functional-model config inside modelTopology.
Result<const json*> model_config(const json& root, const std::string& path) {
  if (root.contains("format") && root["format"] != "layers-model") {
    const json& f = root["format"];
    return Status(Error::Unsupported, fmt::format("'{}' is a TF.js '{}'; tessera reads layers-models (converted from "
                                                  "Keras with --output_format tfjs_layers_model)",
                                                  path, f.is_string() ? f.get<std::string>() : f.dump()));
  }
  TESSERA_CHECK(root.contains("modelTopology") && root["modelTopology"].is_object(), Error::InvalidModel,
                "'{}' has no modelTopology; it is not a TF.js layers-model", path);
  const json& topology = root["modelTopology"];
  const json& model = topology.contains("model_config") ? topology["model_config"] : topology;
  TESSERA_CHECK(model.is_object() && model.contains("class_name") && model["class_name"].is_string(),
                Error::InvalidModel, "'{}': modelTopology has no model class_name", path);
  std::string cls = model["class_name"].get<std::string>();
  TESSERA_CHECK(cls == "Functional" || cls == "Model", Error::Unsupported,
                "'{}' is a Keras '{}' model; tessera reads functional models (class Functional or Model)", path, cls);
  const json* config = model.contains("config") ? &model["config"] : nullptr;
  TESSERA_CHECK(config && config->is_object() && config->contains("layers") && (*config)["layers"].is_array(),
                Error::InvalidModel, "'{}': the model config has no list of layers", path);
  return config;
}

// The one layer named in input_layers / output_layers ([[name, 0, 0]]).
Result<std::string> single_endpoint(const json& config, const char* key, const std::string& path) {
  TESSERA_CHECK(config.contains(key) && config[key].is_array(), Error::InvalidModel, "'{}': the model config lacks '{}'",
                path, key);
  const json& list = config[key];
  TESSERA_CHECK(list.size() == 1, Error::Unsupported, "'{}' has {} {}; tessera reads models with one input and one output",
                path, list.size(), key);
  TESSERA_CHECK(list[0].is_array() && !list[0].empty() && list[0][0].is_string(), Error::InvalidModel,
                "'{}': bad entry in '{}': {}", path, key, list[0].dump());
  return list[0][0].get<std::string>();
}

// The values a layer reads: inbound_nodes is [[[layer, node_index, tensor_index, kwargs], ...]].
Result<std::vector<int>> layer_inputs(const Context& ctx, const Layer& layer, const json& inbound) {
  if (!inbound.is_array()) return layer.error(Error::InvalidModel, "inbound_nodes is not a list");
  if (inbound.size() != 1)
    return layer.error(Error::Unsupported, fmt::format("the layer is called {} times; tessera reads models whose layers are "
                                                       "called once (no shared layers)",
                                                       inbound.size()));
  std::vector<int> inputs;
  for (const json& ref : inbound[0]) {
    if (!ref.is_array() || ref.size() < 3 || !ref[0].is_string() || !ref[1].is_number_integer() ||
        !ref[2].is_number_integer())
      return layer.error(Error::InvalidModel, fmt::format("bad inbound node {}", ref.dump()));
    std::string source = ref[0].get<std::string>();
    if (ref[1] != 0 || ref[2] != 0)
      return layer.error(Error::Unsupported, fmt::format("reads output {} of call {} of '{}'; tessera reads single-output "
                                                         "layers called once",
                                                         ref[2].dump(), ref[1].dump(), source));
    if (ref.size() > 3 && !(ref[3].is_object() && ref[3].empty()))
      return layer.error(Error::Unsupported, fmt::format("calls with arguments {} are not supported", ref[3].dump()));
    auto it = ctx.layer_outputs.find(source);
    if (it == ctx.layer_outputs.end())
      return layer.error(Error::InvalidModel, fmt::format("reads '{}', which no earlier layer produces", source));
    inputs.push_back(it->second);
  }
  return inputs;
}

// batch_input_shape [batch, height, width, channels] -> the graph input [1, C, H, W].
Status add_input(Context& ctx, const Layer& layer, const json& config) {
  TESSERA_ASSIGN_OR_RETURN(std::string dtype, layer.string("dtype", "float32"));
  if (dtype != "float32")
    return layer.error(Error::Unsupported, fmt::format("dtype '{}' is not supported; tessera models take float32", dtype));
  const json* shape = config.contains("batch_input_shape") ? &config["batch_input_shape"] : nullptr;
  if (!shape || !shape->is_array() || shape->size() != 4)
    return layer.error(Error::Unsupported, "batch_input_shape must be [batch, height, width, channels]");
  auto axis = [&](size_t i, const char* dynamic_name) -> Result<ir::InputDim> {
    const json& d = (*shape)[i];
    ir::InputDim dim;
    if (d.is_null() && dynamic_name) {
      ctx.graph.dims.push_back({dynamic_name, 0, 0, 1});
      dim.dynamic = static_cast<int>(ctx.graph.dims.size()) - 1;
    } else if (d.is_null() || (d.is_number_integer() && d.get<int64_t>() >= 1)) {
      dim.fixed = d.is_null() ? 1 : d.get<int64_t>();  // a null batch is one image
    } else {
      return layer.error(Error::InvalidModel, fmt::format("bad batch_input_shape {}", shape->dump()));
    }
    return dim;
  };
  TESSERA_ASSIGN_OR_RETURN(ir::InputDim batch, axis(0, nullptr));
  TESSERA_ASSIGN_OR_RETURN(ir::InputDim height, axis(1, "height"));
  TESSERA_ASSIGN_OR_RETURN(ir::InputDim width, axis(2, "width"));
  if (!(*shape)[3].is_number_integer() || (*shape)[3].get<int64_t>() < 1)
    return layer.error(Error::Unsupported, fmt::format("the channel count must be fixed; batch_input_shape is {}",
                                                       shape->dump()));
  ir::InputDim channels;
  channels.fixed = (*shape)[3].get<int64_t>();
  ir::Value v;
  v.name = layer.name();
  v.kind = ir::ValueKind::Input;
  v.input_dims = {batch, channels, height, width};
  int index = ctx.graph.add_value(std::move(v));
  ctx.graph.inputs.push_back(index);
  ctx.layer_outputs[layer.name()] = index;
  return {};
}

Result<Layer> describe(const json& l, const std::string& path) {
  TESSERA_CHECK(l.is_object() && l.contains("class_name") && l["class_name"].is_string() && l.contains("config") &&
                    l["config"].is_object(),
                Error::InvalidModel, "'{}': a layer lacks its class_name or config: {:.200}", path, l.dump());
  const json& name = l.contains("name") ? l["name"] : l["config"].value("name", json());
  TESSERA_CHECK(name.is_string(), Error::InvalidModel, "'{}': a {} layer has no name", path,
                l["class_name"].get<std::string>());
  return Layer(path, name.get<std::string>(), l["class_name"].get<std::string>(), &l["config"]);
}

}  // namespace

Result<ir::Graph> import_tfjs(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(json root, read_json(path));
  TESSERA_ASSIGN_OR_RETURN(const json* config, model_config(root, path));
  TESSERA_ASSIGN_OR_RETURN(std::string input_name, single_endpoint(*config, "input_layers", path));
  TESSERA_ASSIGN_OR_RETURN(std::string output_name, single_endpoint(*config, "output_layers", path));
  Context ctx(path);
  TESSERA_ASSIGN_OR_RETURN(ctx.weights, tfjs_import::read_weights(root.value("weightsManifest", json()), path));

  for (const json& l : (*config)["layers"]) {
    TESSERA_ASSIGN_OR_RETURN(Layer layer, describe(l, path));
    if (ctx.layer_outputs.count(layer.name()))
      return layer.error(Error::InvalidModel, "another layer has the same name");
    if (layer.class_name() == "InputLayer") {
      if (layer.name() != input_name)
        return layer.error(Error::Unsupported, fmt::format("is a second input (the model's input is '{}'); tessera reads "
                                                           "models with one input",
                                                           input_name));
      TESSERA_RETURN_IF_ERROR(add_input(ctx, layer, l["config"]));
      continue;
    }
    const json& inbound = l.contains("inbound_nodes") ? l["inbound_nodes"] : json::array();
    TESSERA_ASSIGN_OR_RETURN(std::vector<int> inputs, layer_inputs(ctx, layer, inbound));
    TESSERA_ASSIGN_OR_RETURN(ctx.layer_outputs[layer.name()], tfjs_import::convert_layer(ctx, layer, inputs));
  }
  TESSERA_CHECK(!ctx.graph.inputs.empty(), Error::InvalidModel, "'{}': the input layer '{}' is not in its layers", path,
                input_name);
  auto out = ctx.layer_outputs.find(output_name);
  TESSERA_CHECK(out != ctx.layer_outputs.end(), Error::InvalidModel, "'{}': the output layer '{}' is not in its layers",
                path, output_name);
  TESSERA_CHECK(ctx.graph.values[out->second].kind == ir::ValueKind::Activation, Error::Unsupported,
                "'{}': the output '{}' is the input; tessera needs at least one op between them", path, output_name);
  ctx.graph.outputs.push_back(out->second);
  return std::move(ctx.graph);
}

}  // namespace tessera
