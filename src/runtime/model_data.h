// What a loaded Model holds: the verified graph (constants point into the mapped file) and its plan.
#pragma once

#include <cstddef>

#include "compile/memory_planner.h"
#include "ir/graph.h"
#include "tessera/model.h"

namespace tessera {

// A read-only memory map of a whole file.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const uint8_t* data_;
  size_t size_;
};

struct ModelData {
  std::unique_ptr<MappedFile> file;
  ir::Graph graph;
  MemoryPlan plan;
  std::vector<Shape> upper_shapes;  // every value's shape at the dims' upper bounds
  ModelInfo info;
};

}  // namespace tessera
