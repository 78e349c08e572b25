// Shapes and tensors. A Shape has a fixed capacity so that the run path never allocates.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

namespace tessera {

inline constexpr int kMaxRank = 6;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int axis) const { return dims_[axis]; }
  int64_t& operator[](int axis) { return dims_[axis]; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }
  // Appends an axis; a shape holds at most kMaxRank (a caller bug beyond that: aborts with a message).
  void push_back(int64_t dim);

  // Product of all dims (1 for a scalar), saturating at INT64_MAX. 64-bit: gigapixel tensors exceed
  // 2^31 elements.
  int64_t element_count() const;
  std::string to_string() const;  // "[1, 3, 256, 256]"

  friend bool operator==(const Shape& a, const Shape& b);

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// tessera computes in float32; other element types are refused at the boundary.
enum class DType { F32 };

// A non-owning view of float32 data with a shape (row-major, contiguous).
struct TensorView {
  float* data = nullptr;
  Shape shape;
};

struct ConstTensorView {
  const float* data = nullptr;
  Shape shape;
  ConstTensorView() = default;
  ConstTensorView(const float* d, const Shape& s) : data(d), shape(s) {}
  ConstTensorView(const TensorView& v) : data(v.data), shape(v.shape) {}  // NOLINT: implicit view
};

// An owning, 64-byte aligned float32 tensor.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(const Shape& shape);  // zero-filled

  const Shape& shape() const { return shape_; }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  int64_t element_count() const { return shape_.element_count(); }
  TensorView view() { return {data_.get(), shape_}; }
  ConstTensorView view() const { return {data_.get(), shape_}; }

 private:
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  Shape shape_;
  std::unique_ptr<float[], FreeDeleter> data_;
};

}  // namespace tessera
