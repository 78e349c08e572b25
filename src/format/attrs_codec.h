// ir::Attrs ↔ the flatbuffer union in tessera.fbs. Decoding checks the table's form (value counts, enum
// values); ir::validate then checks the values against the node's op, as for every graph.
#pragma once

#include <cstdint>

#include "format/tessera_generated.h"
#include "ir/graph.h"
#include "tessera/status.h"

namespace tessera::format {

// Whether a verified vector's elements lie on their own alignment (8 bytes for int64 and InputDim):
// the flatbuffers Verifier checks only its 4-byte length, so a corrupt offset can misalign them.
template <typename V>
bool elements_aligned(const V* v) {
  return v == nullptr || v->size() == 0 || reinterpret_cast<uintptr_t>(v->Data()) % alignof(int64_t) == 0;
}

struct EncodedAttrs {
  fb::Attrs type = fb::Attrs::NONE;
  flatbuffers::Offset<void> offset;
};

EncodedAttrs encode_attrs(flatbuffers::FlatBufferBuilder& fbb, const ir::Attrs& attrs);

// Decodes the attributes `node` carries.
Result<ir::Attrs> decode_attrs(const fb::Node& node);

}  // namespace tessera::format
