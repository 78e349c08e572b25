#include "import/tfjs_weights.h"
#include "core/check.h"

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace tessera::tfjs_import {

namespace {

using nlohmann::json;

static_assert(std::endian::native == std::endian::little, "TF.js shards are little-endian float32");

struct Entry {
  std::string name;
  std::vector<int64_t> shape;
  int64_t count = 1;
};

Result<Entry> read_entry(const json& w, const std::string& file) {
  TESSERA_CHECK(w.is_object() && w.contains("name") && w["name"].is_string() && w.contains("shape") &&
                    w["shape"].is_array(),
                Error::InvalidModel, "'{}': a weightsManifest entry lacks its name or shape: {}", file, w.dump());
  Entry e;
  e.name = w["name"].get<std::string>();
  std::string dtype = !w.contains("dtype") ? "float32" : w["dtype"].is_string() ? w["dtype"].get<std::string>() : w["dtype"].dump();
  TESSERA_CHECK(dtype == "float32", Error::Unsupported, "'{}': weight '{}' has dtype '{}'; tessera reads float32 weights",
                file, e.name, dtype);
  TESSERA_CHECK(!w.contains("quantization") || w["quantization"].is_null(), Error::Unsupported,
                "'{}': weight '{}' is quantized; convert the model again without --quantize_* options", file, e.name);
  for (const json& d : w["shape"]) {
    TESSERA_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0 && d.get<int64_t>() <= (int64_t{1} << 31),
                  Error::InvalidModel, "'{}': weight '{}' has a bad shape {}", file, e.name, w["shape"].dump());
    e.shape.push_back(d.get<int64_t>());
    e.count *= e.shape.back();
  }
  TESSERA_CHECK(e.count <= (int64_t{1} << 31), Error::InvalidModel, "'{}': weight '{}' is too large ({} elements)", file,
                e.name, e.count);
  return e;
}

// The bytes of a group's shards, in order; names the shard that is missing.
Result<std::string> read_shards(const json& paths, const std::string& dir, const std::string& file) {
  std::string bytes;
  for (const json& p : paths) {
    TESSERA_CHECK(p.is_string(), Error::InvalidModel, "'{}': a weightsManifest path is not a string: {}", file, p.dump());
    std::string shard = (std::filesystem::path(dir) / p.get<std::string>()).string();
    std::ifstream in(shard, std::ios::binary);
    TESSERA_CHECK(in.good(), Error::IoError,
                  "weight shard '{}' listed in '{}' is missing or not readable; download the model again with all its "
                  "shards",
                  shard, file);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return bytes;
}

}  // namespace

Result<std::map<std::string, Weight>> read_weights(const json& manifest, const std::string& model_json_path) {
  const std::string& file = model_json_path;
  std::string dir = std::filesystem::path(file).parent_path().string();
  TESSERA_CHECK(manifest.is_array(), Error::InvalidModel, "'{}': weightsManifest is missing or not a list", file);
  std::map<std::string, Weight> weights;
  for (const json& group : manifest) {
    TESSERA_CHECK(group.is_object() && group.contains("paths") && group["paths"].is_array() &&
                      !group["paths"].empty() && group.contains("weights") && group["weights"].is_array(),
                  Error::InvalidModel, "'{}': a weightsManifest group lacks its paths or weights", file);
    std::vector<Entry> entries;
    int64_t needed = 0;
    for (const json& w : group["weights"]) {
      TESSERA_ASSIGN_OR_RETURN(Entry e, read_entry(w, file));
      needed += e.count * static_cast<int64_t>(sizeof(float));
      entries.push_back(std::move(e));
    }
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, read_shards(group["paths"], dir, file));
    const std::string last = (std::filesystem::path(dir) / group["paths"].back().get<std::string>()).string();
    TESSERA_CHECK(static_cast<int64_t>(bytes.size()) >= needed, Error::InvalidModel,
                  "weight shard '{}' is short: the shards of its group hold {} bytes, but the weights listed in '{}' "
                  "need {}; download the model again",
                  last, bytes.size(), file, needed);
    TESSERA_CHECK(static_cast<int64_t>(bytes.size()) == needed, Error::InvalidModel,
                  "the shards of the group ending with '{}' hold {} bytes, but the weights listed in '{}' need {}; the "
                  "manifest does not match its shards",
                  last, bytes.size(), file, needed);
    size_t offset = 0;
    for (Entry& e : entries) {
      Weight w;
      w.shape = std::move(e.shape);
      w.data.resize(e.count);
      std::memcpy(w.data.data(), bytes.data() + offset, e.count * sizeof(float));
      offset += e.count * sizeof(float);
      TESSERA_CHECK(weights.emplace(e.name, std::move(w)).second, Error::InvalidModel,
                    "'{}': weight '{}' is listed twice in the weightsManifest", file, e.name);
    }
  }
  return weights;
}

}  // namespace tessera::tfjs_import
