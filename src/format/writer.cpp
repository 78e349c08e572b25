#include "format/writer.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include "core/check.h"
#include "core/temp_path.h"
#include "format/attrs_codec.h"
#include "format/header.h"
#include "format/tessera_generated.h"

namespace tessera {

namespace {

uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

// Lays the constants out in the weights segment, each 64-byte aligned; returns their offsets.
std::vector<uint64_t> weight_offsets(const ir::Graph& g, uint64_t* total) {
  std::vector<uint64_t> offsets(g.values.size(), 0);
  uint64_t cursor = 0;
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (g.values[v].kind != ir::ValueKind::Constant) continue;
    offsets[v] = cursor;
    cursor = align_up(cursor + g.values[v].constant_shape.element_count() * sizeof(float), format::kWeightsAlignment);
  }
  *total = cursor;
  return offsets;
}

flatbuffers::Offset<fb::Tiling> encode_tiling(flatbuffers::FlatBufferBuilder& fbb, const TilingInfo& t) {
  std::vector<flatbuffers::Offset<fb::AxisTiling>> axes;
  for (const AxisTiling& a : t.axes)
    axes.push_back(fb::CreateAxisTiling(fbb, a.halo_before, a.halo_after, a.alignment, a.scale_num, a.scale_den, a.offset));
  return fb::CreateTiling(fbb, t.analysed, t.tileable, fbb.CreateString(t.reason), fbb.CreateVector(axes));
}

// The metadata flatbuffer, with the given source name and content hash.
std::vector<uint8_t> encode_meta(const ModelFile& m, const std::vector<uint64_t>& offsets, const std::string& source,
                                 const std::string& content_hash) {
  const ir::Graph& g = m.graph;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Dim>> dims;
  for (const ir::DynamicDim& d : g.dims) dims.push_back(fb::CreateDim(fbb, fbb.CreateString(d.name), d.min, d.max, d.multiple_of));
  std::vector<flatbuffers::Offset<fb::Value>> values;
  for (size_t v = 0; v < g.values.size(); ++v) {
    const ir::Value& value = g.values[v];
    std::vector<fb::InputDim> input_dims;
    for (const ir::InputDim& d : value.input_dims) input_dims.emplace_back(d.fixed, d.dynamic);
    std::vector<int64_t> shape(value.constant_shape.begin(), value.constant_shape.end());
    values.push_back(fb::CreateValue(fbb, fbb.CreateString(value.name), static_cast<fb::ValueKind>(value.kind),
                                     fbb.CreateVectorOfStructs(input_dims), fbb.CreateVector(shape), offsets[v],
                                     m.plan.offsets[v]));
  }
  std::vector<flatbuffers::Offset<fb::Node>> nodes;
  for (const ir::Node& n : g.nodes) {
    format::EncodedAttrs attrs = format::encode_attrs(fbb, n.attrs);
    nodes.push_back(fb::CreateNode(fbb, fbb.CreateString(ir::op_name(n.op)), fbb.CreateString(n.name),
                                   fbb.CreateVector(n.inputs), n.output, attrs.type, attrs.offset));
  }
  auto model = fb::CreateModel(fbb, fbb.CreateString(source), fbb.CreateString(m.layout), fbb.CreateVector(dims),
                               fbb.CreateVector(values), fbb.CreateVector(nodes), fbb.CreateVector(g.inputs),
                               fbb.CreateVector(g.outputs), m.plan.arena_bytes, m.plan.lower_bound_bytes,
                               encode_tiling(fbb, m.tiling), m.pixel_min, m.pixel_max,
                               content_hash.empty() ? 0 : fbb.CreateString(content_hash));
  fbb.Finish(model);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// SHA-256 of the metadata without the source name and the hash, then of the weights.
Result<std::string> content_hash(const std::vector<uint8_t>& meta, const std::vector<uint8_t>& weights) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) &&
            EVP_DigestUpdate(ctx.get(), meta.data(), meta.size()) &&
            EVP_DigestUpdate(ctx.get(), weights.data(), weights.size()) &&
            EVP_DigestFinal_ex(ctx.get(), digest, &length);
  if (!ok) return Status(Error::Internal, "OpenSSL could not compute the model's SHA-256");
  std::string hex = "sha256:";
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// Header, metadata, the gap to the weights' alignment, then the weights, into `tmp` (for `path`).
Status write_file(const std::string& tmp, const std::string& path, const format::FileHeader& header,
                  const std::vector<uint8_t>& meta, const std::vector<uint8_t>& weights) {
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  TESSERA_CHECK(out.good(), Error::IoError, "cannot write '{}': check that its folder exists and is writable", path);
  std::vector<char> gap(header.weights_offset - header.meta_offset - meta.size(), 0);
  out.write(reinterpret_cast<const char*>(&header), sizeof(header));
  out.write(reinterpret_cast<const char*>(meta.data()), static_cast<std::streamsize>(meta.size()));
  out.write(gap.data(), static_cast<std::streamsize>(gap.size()));
  out.write(reinterpret_cast<const char*>(weights.data()), static_cast<std::streamsize>(weights.size()));
  out.flush();
  TESSERA_CHECK(out.good(), Error::IoError, "writing '{}' failed (disk full?)", path);
  return {};
}

}  // namespace

Status write_tsr(const ModelFile& model, const std::string& path) {
  TESSERA_CHECK(model.plan.offsets.size() == model.graph.values.size(), Error::Internal,
                "write_tsr: the memory plan has {} offsets for {} values", model.plan.offsets.size(),
                model.graph.values.size());
  uint64_t weights_bytes = 0;
  std::vector<uint64_t> offsets = weight_offsets(model.graph, &weights_bytes);
  std::vector<uint8_t> weights(weights_bytes, 0);
  for (size_t v = 0; v < model.graph.values.size(); ++v) {
    const ir::Value& value = model.graph.values[v];
    if (value.kind == ir::ValueKind::Constant && value.constant_shape.element_count() > 0)
      std::memcpy(weights.data() + offsets[v], value.constant_data, value.constant_shape.element_count() * sizeof(float));
  }
  TESSERA_ASSIGN_OR_RETURN(std::string hash, content_hash(encode_meta(model, offsets, "", ""), weights));
  std::vector<uint8_t> meta = encode_meta(model, offsets, model.source, hash);

  format::FileHeader header{};
  std::memcpy(header.magic, format::kMagic, sizeof(header.magic));
  header.format_version = format::kFormatVersion;
  header.header_bytes = sizeof(header);
  header.meta_offset = sizeof(header);
  header.meta_bytes = meta.size();
  header.weights_offset = align_up(header.meta_offset + meta.size(), format::kWeightsAlignment);
  header.weights_bytes = weights_bytes;
  header.weights_crc32 = static_cast<uint32_t>(crc32_z(0, weights.data(), weights.size()));

  std::string tmp = temp_path_for(path);
  Status written = write_file(tmp, path, header, meta, weights);
  if (written.ok() && std::rename(tmp.c_str(), path.c_str()) != 0)
    written = Status(Error::IoError, fmt::format("cannot rename '{}' to '{}'", tmp, path));
  if (!written.ok()) std::remove(tmp.c_str());
  temp_path_done(tmp);
  return written;
}

}  // namespace tessera
