// Per-op attributes, already normalised by the importer (no auto_pad, no optional inputs left):
// kernels and shape rules read them as they are.
#pragma once

#include <array>
#include <cstdint>
#include <variant>

namespace tessera::ir {

// Spatial attributes are [height, width]; pads are [top, left, bottom, right].
struct ConvAttrs {
  std::array<int64_t, 2> kernel{1, 1};
  std::array<int64_t, 2> strides{1, 1};
  std::array<int64_t, 2> dilations{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  std::array<int64_t, 2> output_padding{0, 0};  // ConvTranspose only
  int64_t group = 1;
};

struct PoolAttrs {
  std::array<int64_t, 2> kernel{1, 1};
  std::array<int64_t, 2> strides{1, 1};
  std::array<int64_t, 2> dilations{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool only
};

struct LeakyReluAttrs {
  float alpha = 0.01f;
};

struct ClipAttrs {
  float min = -3.4028234663852886e38f;
  float max = 3.4028234663852886e38f;
};

struct HardSigmoidAttrs {
  float alpha = 0.2f;
  float beta = 0.5f;
};

struct ConcatAttrs {
  int64_t axis = 1;  // non-negative
};

enum class DepthToSpaceMode { DCR, CRD };
struct DepthToSpaceAttrs {
  int64_t block = 2;
  DepthToSpaceMode mode = DepthToSpaceMode::DCR;
};

enum class ResizeMode { Nearest, Linear };
enum class CoordinateMode { HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNearest };
enum class NearestMode { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };
struct ResizeAttrs {
  ResizeMode mode = ResizeMode::Nearest;
  CoordinateMode coordinate_mode = CoordinateMode::HalfPixel;
  NearestMode nearest_mode = NearestMode::RoundPreferFloor;
  std::array<float, 2> scales{1.0f, 1.0f};  // [height, width]; batch and channel scales are 1
};

enum class PadMode { Constant, Reflect, Edge };
struct PadAttrs {
  PadMode mode = PadMode::Constant;
  std::array<int64_t, 8> pads{};  // ONNX order: begins of N, C, H, W then ends of N, C, H, W
  float value = 0.0f;
};

struct ReduceAttrs {
  std::array<bool, 4> axes{};  // which axes of an NCHW tensor are reduced
  bool keepdims = true;
};

using NoAttrs = std::monostate;  // ops without attributes

using Attrs = std::variant<NoAttrs, ConvAttrs, PoolAttrs, LeakyReluAttrs, ClipAttrs,
                           HardSigmoidAttrs, ConcatAttrs, DepthToSpaceAttrs, ResizeAttrs, PadAttrs,
                           ReduceAttrs>;

}  // namespace tessera::ir
