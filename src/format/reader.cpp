#include "format/reader.h"

#include <zlib.h>

#include <cmath>
#include <cstring>

#include "core/check.h"
#include "format/attrs_codec.h"
#include "format/header.h"
#include "format/tessera_generated.h"
#include "ir/validate.h"

namespace tessera {

namespace {

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

Result<const fb::Model*> read_header(std::span<const uint8_t> file, const std::string& path, format::FileHeader* header) {
  TESSERA_CHECK(file.size() >= sizeof(format::FileHeader), Error::InvalidModel,
                "'{}' is too small to be a tessera model ({} bytes)", path, file.size());
  std::memcpy(header, file.data(), sizeof(*header));
  TESSERA_CHECK(std::memcmp(header->magic, format::kMagic, sizeof(header->magic)) == 0, Error::InvalidModel,
                "'{}' is not a tessera model (bad magic); compile one with 'tessera compile'", path);
  TESSERA_CHECK(header->format_version == format::kFormatVersion, Error::InvalidModel,
                "'{}' has format version {}; this tessera reads version {} (recompile the model)", path,
                header->format_version, format::kFormatVersion);
  uint64_t size = file.size();
  auto inside = [&](uint64_t offset, uint64_t bytes) { return offset <= size && bytes <= size - offset; };
  TESSERA_CHECK(header->header_bytes == sizeof(*header) && inside(header->meta_offset, header->meta_bytes) &&
                    inside(header->weights_offset, header->weights_bytes) &&
                    header->weights_offset % format::kWeightsAlignment == 0 && header->meta_offset % 8 == 0 &&
                    header->meta_offset >= sizeof(*header) && header->meta_offset + header->meta_bytes <= header->weights_offset,
                Error::InvalidModel, "'{}' is truncated or corrupt: its sections lie outside the file", path);
  TESSERA_CHECK(header->reserved[0] == 0 && header->reserved[1] == 0 && header->reserved[2] == 0, Error::InvalidModel,
                "'{}' is corrupt: its header's reserved words are not zero", path);
  TESSERA_CHECK(header->weights_offset + header->weights_bytes == size, Error::InvalidModel,
                "'{}' is corrupt: {} bytes follow its weights (a .tsr ends with them); recompile or copy it again", path,
                size - header->weights_offset - header->weights_bytes);
  const uint8_t* meta = file.data() + header->meta_offset;
  flatbuffers::Verifier verifier(meta, header->meta_bytes, /*max_depth=*/64, /*max_tables=*/1000000);
  TESSERA_CHECK(fb::VerifyModelBuffer(verifier), Error::InvalidModel, "'{}' is corrupt: its metadata fails verification",
                path);
  uint32_t crc = static_cast<uint32_t>(crc32_z(0, file.data() + header->weights_offset, header->weights_bytes));
  TESSERA_CHECK(crc == header->weights_crc32, Error::InvalidModel,
                "'{}' is corrupt: the weights checksum does not match", path);
  return fb::GetModel(meta);
}

void read_dims(const fb::Model& m, ir::Graph& g) {
  if (!m.dims()) return;
  for (const fb::Dim* d : *m.dims()) g.dims.push_back({str(d->name()), d->min(), d->max(), d->multiple_of()});
}

Status read_values(const fb::Model& m, const uint8_t* weights, uint64_t weights_bytes, ir::Graph& g,
                   std::vector<int64_t>* arena_offsets) {
  TESSERA_CHECK(m.values() != nullptr, Error::InvalidModel, "the model has no values");
  for (const fb::Value* fv : *m.values()) {
    ir::Value v;
    v.name = str(fv->name());
    int kind = static_cast<int>(fv->kind());
    TESSERA_CHECK(kind >= 0 && kind <= 2, Error::InvalidModel, "value '{}' has an unknown kind", v.name);
    v.kind = static_cast<ir::ValueKind>(kind);
    TESSERA_CHECK(format::elements_aligned(fv->input_dims()) && format::elements_aligned(fv->constant_shape()),
                  Error::InvalidModel, "value '{}' is misaligned (a corrupt file)", v.name);
    if (v.kind == ir::ValueKind::Input && fv->input_dims()) {
      TESSERA_CHECK(fv->input_dims()->size() <= kMaxRank, Error::InvalidModel, "input '{}' has rank {}; tessera "
                    "takes 1 to {} axes", v.name, fv->input_dims()->size(), kMaxRank);
      for (const fb::InputDim* d : *fv->input_dims()) v.input_dims.push_back({d->fixed(), d->dynamic()});
    }
    if (v.kind == ir::ValueKind::Constant) {
      TESSERA_CHECK(fv->constant_shape() && fv->constant_shape()->size() <= kMaxRank, Error::InvalidModel,
                    "constant '{}' has a bad shape", v.name);
      uint64_t count = 1;
      for (int64_t d : *fv->constant_shape()) {
        TESSERA_CHECK(d >= 0 && d <= (int64_t{1} << 32), Error::InvalidModel, "constant '{}' has a bad dim", v.name);
        v.constant_shape.push_back(d);
        count *= static_cast<uint64_t>(d);
        TESSERA_CHECK(count <= weights_bytes, Error::InvalidModel, "constant '{}' is larger than the weights", v.name);
      }
      uint64_t offset = fv->constant_offset();
      TESSERA_CHECK(offset % format::kWeightsAlignment == 0 && offset <= weights_bytes &&
                        count * sizeof(float) <= weights_bytes - offset,
                    Error::InvalidModel, "constant '{}' lies outside the weights segment", v.name);
      v.constant_data = reinterpret_cast<const float*>(weights + offset);
    }
    arena_offsets->push_back(fv->arena_offset());
    g.values.push_back(std::move(v));
  }
  return {};
}

// The nodes as the file lists them; ir::validate checks what they refer to.
Status read_nodes(const fb::Model& m, ir::Graph& g) {
  if (!m.nodes()) return {};
  for (const fb::Node* fn : *m.nodes()) {
    ir::Node n;
    n.name = str(fn->name());
    TESSERA_CHECK(ir::op_from_name(str(fn->op()), &n.op), Error::InvalidModel,
                  "node '{}' has op '{}', which this tessera does not know (recompile the model?)", n.name, str(fn->op()));
    if (fn->inputs()) n.inputs.assign(fn->inputs()->begin(), fn->inputs()->end());
    n.output = fn->output();
    Result<ir::Attrs> attrs = format::decode_attrs(*fn);
    if (!attrs.ok())
      return Status(Error::InvalidModel, fmt::format("node '{}' ({}): {}", n.name, ir::op_name(n.op),
                                                     attrs.status().message()));
    n.attrs = std::move(attrs).value();
    g.nodes.push_back(std::move(n));
  }
  return {};
}

void read_io(const fb::Model& m, ir::Graph& g) {
  if (m.inputs()) g.inputs.assign(m.inputs()->begin(), m.inputs()->end());
  if (m.outputs()) g.outputs.assign(m.outputs()->begin(), m.outputs()->end());
}

Status check_tiling(const TilingInfo& t) {
  if (!t.tileable) return {};
  TESSERA_CHECK(t.analysed && t.axes.size() == 2, Error::InvalidModel, "its tiling info is incomplete");
  for (const AxisTiling& a : t.axes) {
    auto sane = [](int64_t v, int64_t lo) { return v >= lo && v <= ir::kMaxAttribute; };
    TESSERA_CHECK(sane(a.halo_before, 0) && sane(a.halo_after, 0) && sane(a.alignment, 1) && sane(a.scale_num, 1) &&
                      sane(a.scale_den, 1) && a.offset >= -ir::kMaxAttribute && a.offset <= ir::kMaxAttribute,
                  Error::InvalidModel, "its tiling info is out of range");
  }
  return {};
}

}  // namespace

Result<ModelFile> read_tsr(std::span<const uint8_t> bytes, const std::string& path, int64_t* weights_bytes) {
  format::FileHeader header;
  TESSERA_ASSIGN_OR_RETURN(const fb::Model* m, read_header(bytes, path, &header));
  ModelFile file;
  ir::Graph& g = file.graph;
  auto prefix = [&](const Status& s) { return Status(s.code(), fmt::format("'{}' is invalid: {}", path, s.message())); };
  read_dims(*m, g);
  read_io(*m, g);
  Status s = read_values(*m, bytes.data() + header.weights_offset, header.weights_bytes, g, &file.plan.offsets);
  if (s.ok()) s = read_nodes(*m, g);
  if (s.ok()) s = ir::validate(g);
  if (!s.ok()) return prefix(s);
  TESSERA_CHECK(m->arena_bytes() <= uint64_t(ir::kMaxArenaBytes) && m->lower_bound_bytes() <= m->arena_bytes() &&
                    m->arena_bytes() % kArenaAlignment == 0,
                Error::InvalidModel, "'{}' is invalid: its arena size {} is above {} or not a multiple of {}", path,
                m->arena_bytes(), ir::kMaxArenaBytes, kArenaAlignment);
  file.plan.arena_bytes = static_cast<int64_t>(m->arena_bytes());
  file.plan.lower_bound_bytes = static_cast<int64_t>(m->lower_bound_bytes());
  file.source = str(m->source());
  file.content_hash = str(m->content_hash());
  file.layout = str(m->layout());
  file.pixel_min = m->pixel_min();
  file.pixel_max = m->pixel_max();
  TESSERA_CHECK(std::isfinite(file.pixel_min) && std::isfinite(file.pixel_max) && file.pixel_min < file.pixel_max,
                Error::InvalidModel, "'{}' is invalid: its pixel range {}:{} is not two finite numbers, the first "
                "below the second (recompile it with --pixel-range MIN:MAX)", path, file.pixel_min, file.pixel_max);
  if (const fb::Tiling* t = m->tiling()) {
    file.tiling.analysed = t->analysed();
    file.tiling.tileable = t->tileable();
    file.tiling.reason = str(t->reason());
    if (t->axes())
      for (const fb::AxisTiling* a : *t->axes())
        file.tiling.axes.push_back(
            {a->halo_before(), a->halo_after(), a->alignment(), a->scale_num(), a->scale_den(), a->offset()});
  }
  s = check_tiling(file.tiling);
  if (!s.ok()) return prefix(s);
  *weights_bytes = static_cast<int64_t>(header.weights_bytes);
  return file;
}

}  // namespace tessera
