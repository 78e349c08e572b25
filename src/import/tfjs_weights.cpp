#include "import/tfjs_weights.h"
#include "core/check.h"
#include "core/regular_file.h"

#include <unistd.h>

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

// The path of a shard listed in the manifest: a relative path inside the model's folder (no '..',
// not absolute). Symbolic links inside the folder are followed: they are the folder owner's choice,
// not the manifest's (a download cache may keep its files elsewhere and link them in).
Result<std::string> shard_path(const json& p, const std::string& dir, const std::string& file) {
  TESSERA_CHECK(p.is_string(), Error::InvalidModel, "'{}': a weightsManifest path is not a string: {}", file, p.dump());
  const std::string name = p.get<std::string>();
  const std::filesystem::path relative(name);
  bool inside = !name.empty() && name.find('\0') == std::string::npos && relative.is_relative() &&
                !relative.has_root_name() && !relative.has_root_directory();
  for (const std::filesystem::path& part : relative) inside = inside && part != "..";
  TESSERA_CHECK(inside, Error::InvalidModel,
                "'{}' lists the weight shard '{}', which is not a file inside the model's folder; shards are named "
                "relative to model.json, without '..' or a leading '/' (download the model again from its source)",
                file, printable(name));
  return (std::filesystem::path(dir.empty() ? "." : dir) / relative).string();
}

// A shard, opened: a regular file (a directory, FIFO or device is refused without blocking).
Result<RegularFile> open_shard(const std::string& shard, const std::string& file) {
  std::string reason;
  RegularFile f = try_open_regular_file(shard, &reason);
  TESSERA_CHECK(f.fd >= 0, Error::IoError,
                "weight shard '{}' listed in '{}' is {}; download the model again with all its shards",
                printable(shard), file, reason);
  return f;
}

// The bytes of a group's shards, in order, when together they hold exactly `needed` bytes: their
// sizes are checked before anything is read, and no more than that is read.
Result<std::string> read_shards(const json& paths, const std::string& dir, const std::string& file, int64_t needed) {
  std::vector<std::string> shards;
  std::vector<int64_t> sizes;
  int64_t total = 0;
  for (const json& p : paths) {
    TESSERA_ASSIGN_OR_RETURN(std::string shard, shard_path(p, dir, file));
    TESSERA_ASSIGN_OR_RETURN(RegularFile f, open_shard(shard, file));
    ::close(f.fd);
    shards.push_back(shard);
    sizes.push_back(f.size);
    total += f.size;  // each below 2^63 / the number of shards in practice; checked against `needed` below
    TESSERA_CHECK(total <= needed, Error::InvalidModel,
                  "weight shard '{}' is too large: the shards of its group up to it hold {} bytes, but the weights "
                  "listed in '{}' need {}; the manifest does not match its shards (download the model again)",
                  printable(shard), total, file, needed);
  }
  TESSERA_CHECK(total == needed, Error::InvalidModel,
                "weight shard '{}' is short: the shards of its group hold {} bytes, but the weights listed in '{}' "
                "need {}; download the model again",
                printable(shards.back()), total, file, needed);
  std::string bytes(static_cast<size_t>(needed), '\0');
  int64_t offset = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    TESSERA_ASSIGN_OR_RETURN(RegularFile f, open_shard(shards[i], file));
    bool ok = f.size == sizes[i] && read_exactly(f.fd, bytes.data() + offset, sizes[i]);
    ::close(f.fd);
    TESSERA_CHECK(ok, Error::IoError, "reading weight shard '{}' failed: it changed while read", printable(shards[i]));
    offset += sizes[i];
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
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, read_shards(group["paths"], dir, file, needed));
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
