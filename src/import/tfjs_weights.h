// The weights of a TF.js layers-model: the shards listed in model.json's weightsManifest,
// concatenated in each group's `paths` order and sliced in the order its `weights` are listed.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::tfjs_import {

struct Weight {
  std::vector<int64_t> shape;  // as TF stores it (a Conv2D kernel is [kh, kw, in, out])
  std::vector<float> data;
};

// Weights by name ("conv1/kernel"). Shards are read from the directory of `model_json_path`.
Result<std::map<std::string, Weight>> read_weights(const nlohmann::json& manifest, const std::string& model_json_path);

}  // namespace tessera::tfjs_import
