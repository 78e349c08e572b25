// A compiled model (.tsr), loaded once and shared by any number of Sessions. Immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessera/status.h"
#include "tessera/tensor.h"

namespace tessera {

struct DimInfo {
  std::string name;
  int64_t min = 0;
  int64_t max = 0;
  int64_t multiple_of = 1;
};

// An input or output: its name and, per axis, a fixed size or a dim name ("height").
struct TensorInfo {
  std::string name;
  std::vector<std::string> axes;
};

// Per spatial axis: what a tile needs around its core, and how input maps to output coordinates.
struct AxisTiling {
  int64_t halo_before = 0;
  int64_t halo_after = 0;
  int64_t alignment = 1;
  int64_t scale_num = 1;
  int64_t scale_den = 1;
  int64_t offset = 0;
};

struct TilingInfo {
  bool analysed = false;  // false: compiled without tiling analysis
  bool tileable = false;
  std::string reason;     // why not tileable
  std::vector<AxisTiling> axes;  // [height, width]
};

struct OpCount {
  std::string op;
  int count = 0;
};

struct ModelInfo {
  // "sha256:<hex>" of everything that determines the model's outputs (graph, weights, dims, memory
  // plan, tiling, pixel range; not the source file's name): which model produced an output.
  // Empty for files written before tessera 0.2.
  std::string content_hash;
  std::string source;
  std::string layout;
  std::vector<DimInfo> dims;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::vector<OpCount> op_counts;
  int64_t arena_bytes = 0;
  int64_t lower_bound_bytes = 0;
  int64_t weights_bytes = 0;
  int64_t file_bytes = 0;
  float pixel_min = 0.0f;
  float pixel_max = 1.0f;
  TilingInfo tiling;
};

struct ModelData;  // the graph and plan behind a Model (src/runtime/model_data.h)

class Model {
 public:
  // Maps the file and verifies everything in it before use (the file is untrusted).
  static Result<std::shared_ptr<const Model>> load(const std::string& path);

  const ModelInfo& info() const;
  // The shape of the first input for an image of `height` x `width`, its other axes as the model has them.
  Shape input_shape(int64_t height, int64_t width) const;
  // The floating-point operations of one run on such an input (2 × the multiply-adds of its
  // convolutions, which dominate image models), for throughput figures.
  Result<int64_t> conv_flops(int64_t height, int64_t width) const;
  const ModelData& data() const { return *data_; }

  explicit Model(std::unique_ptr<ModelData> data);
  ~Model();

 private:
  std::unique_ptr<ModelData> data_;
};

}  // namespace tessera
