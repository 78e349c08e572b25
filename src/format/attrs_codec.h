// ir::Attrs ↔ the flatbuffer union in tessera.fbs. Decoding validates every field (untrusted file).
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

// Decodes and checks the attributes of `node` for its op.
Result<ir::Attrs> decode_attrs(const fb::Node& node, ir::Op op);

}  // namespace tessera::format
