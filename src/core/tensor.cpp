#include "tessera/tensor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tessera {

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}

int64_t Shape::element_count() const {
  int64_t n = 1;
  for (int64_t d : *this)
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<int64_t>::max();
  return n;
}

void Shape::push_back(int64_t dim) {
  if (rank_ == kMaxRank) {
    std::fprintf(stderr, "tessera: Shape::push_back beyond kMaxRank (%d) axes\n", kMaxRank);
    std::abort();
  }
  dims_[rank_++] = dim;
}

std::string Shape::to_string() const { return fmt::format("[{}]", fmt::join(*this, ", ")); }

bool operator==(const Shape& a, const Shape& b) {
  if (a.rank_ != b.rank_) return false;
  for (int i = 0; i < a.rank_; ++i)
    if (a.dims_[i] != b.dims_[i]) return false;
  return true;
}

void Tensor::FreeDeleter::operator()(float* p) const { std::free(p); }

Tensor::Tensor(const Shape& shape) : shape_(shape) {
  // Round up to the alignment; keep 64 spare bytes so that vector kernels may read past the end.
  size_t bytes = (static_cast<size_t>(shape.element_count()) * sizeof(float) + 127) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  data_.reset(static_cast<float*>(p));
}

}  // namespace tessera
