#include "import/tfjs_context.h"

#include <fmt/format.h>

namespace tessera::tfjs_import {

using nlohmann::json;

Status Layer::error(Error code, const std::string& what) const {
  return Status(code, fmt::format("'{}': layer '{}' ({}): {}", file_, name_, class_name_, what));
}

Result<const json*> Layer::find(const char* key, bool has_fallback) const {
  if (has(key)) return &(*config_)[key];
  if (has_fallback) return static_cast<const json*>(nullptr);
  return error(Error::InvalidModel, fmt::format("its config lacks '{}'", key));
}

Result<int64_t> Layer::integer(const char* key, std::optional<int64_t> fallback) const {
  TESSERA_ASSIGN_OR_RETURN(const json* v, find(key, fallback.has_value()));
  if (!v) return *fallback;
  if (!v->is_number_integer()) return error(Error::InvalidModel, fmt::format("'{}' is {}, not an integer", key, v->dump()));
  return v->get<int64_t>();
}

Result<double> Layer::number(const char* key, std::optional<double> fallback) const {
  TESSERA_ASSIGN_OR_RETURN(const json* v, find(key, fallback.has_value()));
  if (!v) return *fallback;
  if (!v->is_number()) return error(Error::InvalidModel, fmt::format("'{}' is {}, not a number", key, v->dump()));
  return v->get<double>();
}

Result<bool> Layer::boolean(const char* key, std::optional<bool> fallback) const {
  TESSERA_ASSIGN_OR_RETURN(const json* v, find(key, fallback.has_value()));
  if (!v) return *fallback;
  if (!v->is_boolean()) return error(Error::InvalidModel, fmt::format("'{}' is {}, not true or false", key, v->dump()));
  return v->get<bool>();
}

Result<std::string> Layer::string(const char* key, std::optional<std::string> fallback) const {
  TESSERA_ASSIGN_OR_RETURN(const json* v, find(key, fallback.has_value()));
  if (!v) return *fallback;
  if (!v->is_string()) return error(Error::InvalidModel, fmt::format("'{}' is {}, not a string", key, v->dump()));
  return v->get<std::string>();
}

Result<std::vector<int64_t>> Layer::integers(const char* key) const {
  TESSERA_ASSIGN_OR_RETURN(const json* v, find(key, true));
  std::vector<int64_t> out;
  if (!v) return out;
  if (v->is_number_integer()) return std::vector<int64_t>{v->get<int64_t>()};
  if (!v->is_array()) return error(Error::InvalidModel, fmt::format("'{}' is {}, not a list of integers", key, v->dump()));
  for (const json& x : *v) {
    if (!x.is_number_integer())
      return error(Error::InvalidModel, fmt::format("'{}' is {}, not a list of integers", key, v->dump()));
    out.push_back(x.get<int64_t>());
  }
  return out;
}

Result<std::array<int64_t, 2>> Layer::pair(const char* key, std::optional<std::array<int64_t, 2>> fallback) const {
  if (!has(key) && fallback) return *fallback;
  TESSERA_ASSIGN_OR_RETURN(std::vector<int64_t> v, integers(key));
  if (v.size() == 1) v.push_back(v[0]);
  if (v.size() != 2 || v[0] < 1 || v[1] < 1)
    return error(Error::InvalidModel, fmt::format("'{}' must be two positive integers [height, width]", key));
  return std::array<int64_t, 2>{v[0], v[1]};
}

Result<const Weight*> Context::weight(const Layer& layer, const std::string& suffix,
                                      const std::vector<int64_t>& expected) const {
  std::string name = layer.name() + "/" + suffix;
  auto it = weights.find(name);
  if (it == weights.end())
    return layer.error(Error::InvalidModel, fmt::format("weight '{}' is not in the weightsManifest", name));
  const std::vector<int64_t>& shape = it->second.shape;
  bool matches = shape.size() == expected.size();
  for (size_t i = 0; matches && i < shape.size(); ++i) matches = expected[i] < 0 || expected[i] == shape[i];
  if (!matches) {
    auto text = [](const std::vector<int64_t>& s) {
      std::string out;
      for (int64_t d : s) out += (out.empty() ? "" : ", ") + (d < 0 ? std::string("?") : std::to_string(d));
      return "[" + out + "]";
    };
    return layer.error(Error::InvalidModel,
                       fmt::format("weight '{}' has shape {}; expected {}", name, text(shape), text(expected)));
  }
  return &it->second;
}

int Context::emit(const std::string& name, ir::Op op, std::vector<int> inputs, ir::Attrs attrs) {
  ir::Node n;
  n.op = op;
  n.name = name;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  ir::Value out;
  out.name = name;
  n.output = graph.add_value(std::move(out));
  graph.nodes.push_back(std::move(n));
  return graph.nodes.back().output;
}

}  // namespace tessera::tfjs_import
