// State shared by the TF.js importer's driver (tfjs_import.cpp) and its per-layer converters
// (tfjs_layers.cpp): the graph being built, the weights, and a reader for one layer's config.
#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "import/tfjs_weights.h"
#include "ir/graph.h"

namespace tessera::tfjs_import {

// One layer of model.json. Config readers return the fallback when the key is missing (or null),
// and an error naming the file, the layer, its class and the key when the value has the wrong type.
class Layer {
 public:
  Layer(std::string file, std::string name, std::string class_name, const nlohmann::json* config)
      : file_(std::move(file)), name_(std::move(name)), class_name_(std::move(class_name)), config_(config) {}

  const std::string& name() const { return name_; }
  const std::string& class_name() const { return class_name_; }
  bool has(const char* key) const { return config_->contains(key) && !(*config_)[key].is_null(); }

  Result<int64_t> integer(const char* key, std::optional<int64_t> fallback) const;
  Result<double> number(const char* key, std::optional<double> fallback) const;
  Result<bool> boolean(const char* key, std::optional<bool> fallback) const;
  Result<std::string> string(const char* key, std::optional<std::string> fallback) const;
  // [height, width]; Keras writes them as lists, a single integer means both.
  Result<std::array<int64_t, 2>> pair(const char* key, std::optional<std::array<int64_t, 2>> fallback) const;
  // A list of integers, or one integer as a list of one; empty when missing.
  Result<std::vector<int64_t>> integers(const char* key) const;

  // "'model.json': layer 'conv1' (Conv2D): <what>"
  Status error(Error code, const std::string& what) const;

 private:
  Result<const nlohmann::json*> find(const char* key, bool has_fallback) const;

  std::string file_;
  std::string name_;
  std::string class_name_;
  const nlohmann::json* config_;
};

class Context {
 public:
  explicit Context(std::string model_file) : file(std::move(model_file)) {}

  std::string file;
  ir::Graph graph;
  std::map<std::string, Weight> weights;
  std::map<std::string, int> layer_outputs;  // layer name -> the value it produces

  // The weight "<layer>/<suffix>", checked against the expected shape (-1 matches any size).
  Result<const Weight*> weight(const Layer& layer, const std::string& suffix, const std::vector<int64_t>& expected) const;
  // Adds a node (named `name`, like its output value) and returns its output value.
  int emit(const std::string& name, ir::Op op, std::vector<int> inputs, ir::Attrs attrs = std::monostate{});
};

// Converts one layer (not InputLayer) whose inputs are `inputs`; returns the value it produces.
Result<int> convert_layer(Context& ctx, const Layer& layer, const std::vector<int>& inputs);

}  // namespace tessera::tfjs_import
