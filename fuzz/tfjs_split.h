// The TF.js fuzz target's input: model.json, then each weight shard after a separator line.
//   <model.json bytes> ["\n#tessera-shard\n" <shard bytes>]...
// The k-th shard is written under the k-th path of the model's weightsManifest when that path is a
// plain file name (no folders: the fuzzer writes only inside its scratch folder); whatever model.json
// names, the importer reads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera::fuzz {

inline constexpr std::string_view kShardSeparator = "\n#tessera-shard\n";

inline std::vector<std::string_view> split_tfjs_input(std::string_view input) {
  std::vector<std::string_view> parts;
  while (parts.size() < 16) {
    size_t at = input.find(kShardSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(input.substr(0, at));
    input.remove_prefix(at + kShardSeparator.size());
  }
  parts.push_back(input);
  return parts;
}

inline std::string join_tfjs_input(const std::string& model_json, const std::vector<std::string>& shards) {
  std::string out = model_json;
  for (const std::string& s : shards) {
    out += kShardSeparator;
    out += s;
  }
  return out;
}

}  // namespace tessera::fuzz
