// ir::Attrs ↔ the flatbuffer union in tessera.fbs. Decoding checks the table's form (value counts, enum
// values); ir::validate then checks the values against the node's op, as for every graph.
#pragma once

#include "format/tessera_generated.h"
#include "ir/graph.h"
#include "tessera/status.h"

namespace tessera::format {

struct EncodedAttrs {
  fb::Attrs type = fb::Attrs::NONE;
  flatbuffers::Offset<void> offset;
};

EncodedAttrs encode_attrs(flatbuffers::FlatBufferBuilder& fbb, const ir::Attrs& attrs);

// Decodes the attributes `node` carries.
Result<ir::Attrs> decode_attrs(const fb::Node& node);

}  // namespace tessera::format
