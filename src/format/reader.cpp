#include "format/reader.h"

#include <zlib.h>

#include <cstring>

#include "core/check.h"
#include "format/attrs_codec.h"
#include "format/header.h"
#include "format/tessera_generated.h"

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
                    header->weights_offset % format::kWeightsAlignment == 0 &&
                    header->meta_offset >= sizeof(*header) && header->meta_offset + header->meta_bytes <= header->weights_offset,
                Error::InvalidModel, "'{}' is truncated or corrupt: its sections lie outside the file", path);
  const uint8_t* meta = file.data() + header->meta_offset;
  flatbuffers::Verifier verifier(meta, header->meta_bytes, /*max_depth=*/64, /*max_tables=*/1000000);
  TESSERA_CHECK(fb::VerifyModelBuffer(verifier), Error::InvalidModel, "'{}' is corrupt: its metadata fails verification",
                path);
  uint32_t crc = static_cast<uint32_t>(crc32_z(0, file.data() + header->weights_offset, header->weights_bytes));
  TESSERA_CHECK(crc == header->weights_crc32, Error::InvalidModel,
                "'{}' is corrupt: the weights checksum does not match", path);
  return fb::GetModel(meta);
}

Status read_dims(const fb::Model& m, ir::Graph& g) {
  if (!m.dims()) return {};
  for (const fb::Dim* d : *m.dims()) {
    ir::DynamicDim dim{str(d->name()), d->min(), d->max(), d->multiple_of()};
    TESSERA_CHECK(!dim.name.empty() && dim.min >= 1 && dim.max >= dim.min && dim.max <= (int64_t{1} << 24) &&
                      dim.multiple_of >= 1 && dim.upper() >= dim.min,
                  Error::InvalidModel, "dim '{}' has a bad range {}..{} step {}", dim.name, dim.min, dim.max,
                  dim.multiple_of);
    g.dims.push_back(dim);
  }
  return {};
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
    if (v.kind == ir::ValueKind::Input) {
      TESSERA_CHECK(fv->input_dims() && fv->input_dims()->size() >= 1 && fv->input_dims()->size() <= kMaxRank,
                    Error::InvalidModel, "input '{}' has a bad rank", v.name);
      for (const fb::InputDim* d : *fv->input_dims()) {
        bool dynamic_ok = d->dynamic() >= 0 && d->dynamic() < static_cast<int>(g.dims.size());
        bool fixed_ok = d->dynamic() == -1 && d->fixed() >= 1 && d->fixed() <= (int64_t{1} << 24);
        TESSERA_CHECK(dynamic_ok || fixed_ok, Error::InvalidModel, "input '{}' has a bad axis", v.name);
        v.input_dims.push_back({d->fixed(), d->dynamic()});
      }
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

// The number of inputs each op takes: [min, max].
std::pair<size_t, size_t> input_count(ir::Op op) {
  switch (op) {
    case ir::Op::Conv:
    case ir::Op::ConvTranspose: return {2, 3};
    case ir::Op::PRelu:
    case ir::Op::Add:
    case ir::Op::Sub:
    case ir::Op::Mul:
    case ir::Op::Div: return {2, 2};
    case ir::Op::Concat: return {1, 1024};
    default: return {1, 1};
  }
}

Status read_nodes(const fb::Model& m, ir::Graph& g) {
  TESSERA_CHECK(m.nodes() && m.nodes()->size() >= 1, Error::InvalidModel, "the model has no nodes");
  int value_count = static_cast<int>(g.values.size());
  std::vector<bool> ready(value_count, false);
  for (int v = 0; v < value_count; ++v) ready[v] = g.values[v].kind != ir::ValueKind::Activation;
  for (const fb::Node* fn : *m.nodes()) {
    ir::Node n;
    n.name = str(fn->name());
    TESSERA_CHECK(ir::op_from_name(str(fn->op()), &n.op), Error::InvalidModel,
                  "node '{}' has op '{}', which this tessera does not know (recompile the model?)", n.name, str(fn->op()));
    TESSERA_CHECK(fn->inputs() != nullptr, Error::InvalidModel, "node '{}' has no inputs", n.name);
    auto [lo, hi] = input_count(n.op);
    TESSERA_CHECK(fn->inputs()->size() >= lo && fn->inputs()->size() <= hi, Error::InvalidModel,
                  "node '{}' ({}) has {} inputs", n.name, ir::op_name(n.op), fn->inputs()->size());
    for (int in : *fn->inputs()) {
      TESSERA_CHECK(in >= 0 && in < value_count && ready[in], Error::InvalidModel,
                    "node '{}' reads value {}, which is out of range or not computed yet", n.name, in);
      n.inputs.push_back(in);
    }
    bool weights_constant = (n.op != ir::Op::Conv && n.op != ir::Op::ConvTranspose) ||
                            g.values[n.inputs[1]].kind == ir::ValueKind::Constant;
    TESSERA_CHECK(weights_constant, Error::InvalidModel, "node '{}' has non-constant weights", n.name);
    n.output = fn->output();
    TESSERA_CHECK(n.output >= 0 && n.output < value_count && !ready[n.output], Error::InvalidModel,
                  "node '{}' writes value {}, which is out of range or already written", n.name, n.output);
    ready[n.output] = true;
    TESSERA_ASSIGN_OR_RETURN(n.attrs, format::decode_attrs(*fn, n.op));
    g.nodes.push_back(std::move(n));
  }
  for (int v = 0; v < value_count; ++v)
    TESSERA_CHECK(ready[v], Error::InvalidModel, "value '{}' is never computed", g.values[v].name);
  return {};
}

Status read_io(const fb::Model& m, ir::Graph& g) {
  auto read = [&](const flatbuffers::Vector<int32_t>* list, ir::ValueKind kind, std::vector<int>* out) -> Status {
    TESSERA_CHECK(list && list->size() >= 1, Error::InvalidModel, "the model lacks inputs or outputs");
    for (int v : *list) {
      TESSERA_CHECK(v >= 0 && v < static_cast<int>(g.values.size()) && g.values[v].kind == kind, Error::InvalidModel,
                    "the model lists a bad input or output {}", v);
      out->push_back(v);
    }
    return {};
  };
  TESSERA_RETURN_IF_ERROR(read(m.inputs(), ir::ValueKind::Input, &g.inputs));
  TESSERA_RETURN_IF_ERROR(read(m.outputs(), ir::ValueKind::Activation, &g.outputs));
  return {};
}

Status check_tiling(const TilingInfo& t) {
  if (!t.tileable) return {};
  TESSERA_CHECK(t.analysed && t.axes.size() == 2, Error::InvalidModel, "its tiling info is incomplete");
  for (const AxisTiling& a : t.axes) {
    auto sane = [](int64_t v, int64_t lo) { return v >= lo && v <= (int64_t{1} << 24); };
    TESSERA_CHECK(sane(a.halo_before, 0) && sane(a.halo_after, 0) && sane(a.alignment, 1) && sane(a.scale_num, 1) &&
                      sane(a.scale_den, 1) && a.offset >= -(int64_t{1} << 24) && a.offset <= (int64_t{1} << 24),
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
  Status s = read_dims(*m, g);
  if (s.ok()) s = read_values(*m, bytes.data() + header.weights_offset, header.weights_bytes, g, &file.plan.offsets);
  if (s.ok()) s = read_nodes(*m, g);
  if (s.ok()) s = read_io(*m, g);
  if (!s.ok()) return prefix(s);
  file.plan.arena_bytes = static_cast<int64_t>(m->arena_bytes());
  file.plan.lower_bound_bytes = static_cast<int64_t>(m->lower_bound_bytes());
  TESSERA_CHECK(file.plan.arena_bytes >= 0 && file.plan.arena_bytes < (int64_t{1} << 40) &&
                    file.plan.arena_bytes % kArenaAlignment == 0,
                Error::InvalidModel, "'{}' is invalid: its arena size {} is absurd or not a multiple of {}", path,
                m->arena_bytes(), kArenaAlignment);
  file.source = str(m->source());
  file.content_hash = str(m->content_hash());
  file.layout = str(m->layout());
  file.pixel_min = m->pixel_min();
  file.pixel_max = m->pixel_max();
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
