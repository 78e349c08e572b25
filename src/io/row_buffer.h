// RowBuffer: a window of consecutive image rows [begin, end) in memory, for streaming an image from
// top to bottom. Rows are appended at the end and dropped from the front; the storage grows to the
// largest window it held and is reused, so memory depends on the window, not on the image height.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace tessera {

class RowBuffer {
 public:
  explicit RowBuffer(size_t row_bytes) : row_bytes_(row_bytes) {}

  int64_t begin() const { return begin_; }
  int64_t end() const { return begin_ + rows_; }
  size_t row_bytes() const { return row_bytes_; }
  size_t capacity_bytes() const { return storage_.size(); }

  uint8_t* row(int64_t y) { return storage_.data() + static_cast<size_t>(y - begin_) * row_bytes_; }
  const uint8_t* row(int64_t y) const { return storage_.data() + static_cast<size_t>(y - begin_) * row_bytes_; }

  // Forgets the rows before `y` (all of them when y >= end()).
  void drop_before(int64_t y) {
    if (y <= begin_) return;
    int64_t drop = std::min<int64_t>(y - begin_, rows_);
    rows_ -= drop;
    std::memmove(storage_.data(), storage_.data() + static_cast<size_t>(drop) * row_bytes_,
                 static_cast<size_t>(rows_) * row_bytes_);
    begin_ = rows_ == 0 ? y : begin_ + drop;
  }

  // Adds `count` zeroed rows at the end and returns the first of them.
  uint8_t* append(int64_t count) {
    size_t needed = static_cast<size_t>(rows_ + count) * row_bytes_;
    if (storage_.size() < needed) storage_.resize(needed);
    uint8_t* first = storage_.data() + static_cast<size_t>(rows_) * row_bytes_;
    std::memset(first, 0, static_cast<size_t>(count) * row_bytes_);
    rows_ += count;
    return first;
  }

 private:
  size_t row_bytes_;
  int64_t begin_ = 0;
  int64_t rows_ = 0;
  std::vector<uint8_t> storage_;
};

}  // namespace tessera
