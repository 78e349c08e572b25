#include "format/attrs_codec.h"
#include "core/check.h"

namespace tessera::format {

namespace {

template <size_t N>
flatbuffers::Offset<flatbuffers::Vector<int64_t>> longs(flatbuffers::FlatBufferBuilder& fbb,
                                                        const std::array<int64_t, N>& a) {
  return fbb.CreateVector(a.data(), N);
}

// Ranges are checked by ir::validate, as for graphs from the importers.
template <size_t N>
Status read_longs(const flatbuffers::Vector<int64_t>* v, const char* what, std::array<int64_t, N>* out) {
  TESSERA_CHECK(v != nullptr && v->size() == N, Error::InvalidModel, "attribute '{}' must have {} values", what, N);
  TESSERA_CHECK(elements_aligned(v), Error::InvalidModel, "attribute '{}' is misaligned (a corrupt file)", what);
  for (size_t i = 0; i < N; ++i) (*out)[i] = v->Get(i);
  return {};
}

struct Encoder {
  flatbuffers::FlatBufferBuilder& fbb;

  EncodedAttrs operator()(std::monostate) const { return {}; }
  EncodedAttrs operator()(const ir::ConvAttrs& a) const {
    return {fb::Attrs::ConvAttrs,
            fb::CreateConvAttrs(fbb, longs(fbb, a.kernel), longs(fbb, a.strides), longs(fbb, a.dilations),
                                longs(fbb, a.pads), longs(fbb, a.output_padding), a.group).Union()};
  }
  EncodedAttrs operator()(const ir::PoolAttrs& a) const {
    return {fb::Attrs::PoolAttrs, fb::CreatePoolAttrs(fbb, longs(fbb, a.kernel), longs(fbb, a.strides),
                                                      longs(fbb, a.dilations), longs(fbb, a.pads), a.ceil_mode,
                                                      a.count_include_pad).Union()};
  }
  EncodedAttrs operator()(const ir::LeakyReluAttrs& a) const {
    return {fb::Attrs::LeakyReluAttrs, fb::CreateLeakyReluAttrs(fbb, a.alpha).Union()};
  }
  EncodedAttrs operator()(const ir::ClipAttrs& a) const {
    return {fb::Attrs::ClipAttrs, fb::CreateClipAttrs(fbb, a.min, a.max).Union()};
  }
  EncodedAttrs operator()(const ir::HardSigmoidAttrs& a) const {
    return {fb::Attrs::HardSigmoidAttrs, fb::CreateHardSigmoidAttrs(fbb, a.alpha, a.beta).Union()};
  }
  EncodedAttrs operator()(const ir::ConcatAttrs& a) const {
    return {fb::Attrs::ConcatAttrs, fb::CreateConcatAttrs(fbb, a.axis).Union()};
  }
  EncodedAttrs operator()(const ir::DepthToSpaceAttrs& a) const {
    return {fb::Attrs::DepthToSpaceAttrs,
            fb::CreateDepthToSpaceAttrs(fbb, a.block, a.mode == ir::DepthToSpaceMode::CRD).Union()};
  }
  EncodedAttrs operator()(const ir::ResizeAttrs& a) const {
    return {fb::Attrs::ResizeAttrs,
            fb::CreateResizeAttrs(fbb, static_cast<int8_t>(a.mode), static_cast<int8_t>(a.coordinate_mode),
                                  static_cast<int8_t>(a.nearest_mode), fbb.CreateVector(a.scales.data(), 2)).Union()};
  }
  EncodedAttrs operator()(const ir::PadAttrs& a) const {
    return {fb::Attrs::PadAttrs,
            fb::CreatePadAttrs(fbb, static_cast<int8_t>(a.mode), longs(fbb, a.pads), a.value).Union()};
  }
  EncodedAttrs operator()(const ir::ReduceAttrs& a) const {
    std::vector<uint8_t> axes(a.axes.begin(), a.axes.end());
    return {fb::Attrs::ReduceAttrs, fb::CreateReduceAttrs(fbb, fbb.CreateVector(axes), a.keepdims).Union()};
  }
};

template <typename E>
Result<E> enum_value(int8_t v, int count, const char* what) {
  TESSERA_CHECK(v >= 0 && v < count, Error::InvalidModel, "attribute '{}' has an unknown value {}", what, v);
  return static_cast<E>(v);
}

}  // namespace

EncodedAttrs encode_attrs(flatbuffers::FlatBufferBuilder& fbb, const ir::Attrs& attrs) {
  return std::visit(Encoder{fbb}, attrs);
}

Result<ir::Attrs> decode_attrs(const fb::Node& node) {
  TESSERA_CHECK(node.attrs_type() == fb::Attrs::NONE || node.attrs() != nullptr, Error::InvalidModel,
                "its attributes are missing");
  switch (node.attrs_type()) {
    case fb::Attrs::NONE: return ir::Attrs{};
    case fb::Attrs::ConvAttrs: {
      const auto* f = node.attrs_as_ConvAttrs();
      ir::ConvAttrs a;
      TESSERA_RETURN_IF_ERROR(read_longs(f->kernel(), "kernel", &a.kernel));
      TESSERA_RETURN_IF_ERROR(read_longs(f->strides(), "strides", &a.strides));
      TESSERA_RETURN_IF_ERROR(read_longs(f->dilations(), "dilations", &a.dilations));
      TESSERA_RETURN_IF_ERROR(read_longs(f->pads(), "pads", &a.pads));
      TESSERA_RETURN_IF_ERROR(read_longs(f->output_padding(), "output_padding", &a.output_padding));
      a.group = f->group();
      return ir::Attrs{a};
    }
    case fb::Attrs::PoolAttrs: {
      const auto* f = node.attrs_as_PoolAttrs();
      ir::PoolAttrs a;
      TESSERA_RETURN_IF_ERROR(read_longs(f->kernel(), "kernel", &a.kernel));
      TESSERA_RETURN_IF_ERROR(read_longs(f->strides(), "strides", &a.strides));
      TESSERA_RETURN_IF_ERROR(read_longs(f->dilations(), "dilations", &a.dilations));
      TESSERA_RETURN_IF_ERROR(read_longs(f->pads(), "pads", &a.pads));
      a.ceil_mode = f->ceil_mode();
      a.count_include_pad = f->count_include_pad();
      return ir::Attrs{a};
    }
    case fb::Attrs::LeakyReluAttrs: return ir::Attrs{ir::LeakyReluAttrs{node.attrs_as_LeakyReluAttrs()->alpha()}};
    case fb::Attrs::ClipAttrs: {
      const auto* f = node.attrs_as_ClipAttrs();
      return ir::Attrs{ir::ClipAttrs{f->min(), f->max()}};
    }
    case fb::Attrs::HardSigmoidAttrs: {
      const auto* f = node.attrs_as_HardSigmoidAttrs();
      return ir::Attrs{ir::HardSigmoidAttrs{f->alpha(), f->beta()}};
    }
    case fb::Attrs::ConcatAttrs: return ir::Attrs{ir::ConcatAttrs{node.attrs_as_ConcatAttrs()->axis()}};
    case fb::Attrs::DepthToSpaceAttrs: {
      const auto* f = node.attrs_as_DepthToSpaceAttrs();
      return ir::Attrs{ir::DepthToSpaceAttrs{f->block(), f->crd() ? ir::DepthToSpaceMode::CRD : ir::DepthToSpaceMode::DCR}};
    }
    case fb::Attrs::ResizeAttrs: {
      const auto* f = node.attrs_as_ResizeAttrs();
      ir::ResizeAttrs a;
      TESSERA_ASSIGN_OR_RETURN(a.mode, enum_value<ir::ResizeMode>(f->mode(), 2, "mode"));
      TESSERA_ASSIGN_OR_RETURN(a.coordinate_mode, enum_value<ir::CoordinateMode>(f->coordinate_mode(), 5, "coordinate_mode"));
      TESSERA_ASSIGN_OR_RETURN(a.nearest_mode, enum_value<ir::NearestMode>(f->nearest_mode(), 4, "nearest_mode"));
      TESSERA_CHECK(f->scales() && f->scales()->size() == 2, Error::InvalidModel, "Resize needs 2 scales");
      for (int i = 0; i < 2; ++i) a.scales[i] = f->scales()->Get(i);
      return ir::Attrs{a};
    }
    case fb::Attrs::PadAttrs: {
      const auto* f = node.attrs_as_PadAttrs();
      ir::PadAttrs a;
      TESSERA_ASSIGN_OR_RETURN(a.mode, enum_value<ir::PadMode>(f->mode(), 3, "mode"));
      TESSERA_RETURN_IF_ERROR(read_longs(f->pads(), "pads", &a.pads));
      a.value = f->value();
      return ir::Attrs{a};
    }
    case fb::Attrs::ReduceAttrs: {
      const auto* f = node.attrs_as_ReduceAttrs();
      ir::ReduceAttrs a;
      TESSERA_CHECK(f->axes() && f->axes()->size() == 4, Error::InvalidModel, "ReduceMean needs 4 axis flags");
      for (int i = 0; i < 4; ++i) a.axes[i] = f->axes()->Get(i) != 0;
      a.keepdims = f->keepdims();
      return ir::Attrs{a};
    }
  }
  return Status(Error::InvalidModel, "unknown attribute type");
}

}  // namespace tessera::format
