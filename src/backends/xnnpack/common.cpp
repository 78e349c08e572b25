#include "backends/xnnpack/common.h"
#include "core/check.h"

#include <fmt/format.h>
#include <new>

namespace tessera::xnnpack {

std::array<size_t, 4> nhwc_dims(const Shape& shape) {
  std::array<size_t, 4> nchw{1, 1, 1, 1};
  for (int i = 0; i < shape.rank(); ++i) nchw[4 - shape.rank() + i] = static_cast<size_t>(shape[i]);
  return {nchw[0], nchw[2], nchw[3], nchw[1]};
}

Buffer Buffer::allocate(int64_t floats) {
  Buffer b;
  b.bytes_ = (floats * static_cast<int64_t>(sizeof(float)) + XNN_EXTRA_BYTES + 63) / 64 * 64;
  b.data_.reset(static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(b.bytes_))));
  if (b.data_ == nullptr) throw std::bad_alloc();
  return b;
}

const char* status_name(xnn_status status) {
  switch (status) {
    case xnn_status_success:
      return "xnn_status_success";
    case xnn_status_uninitialized:
      return "xnn_status_uninitialized";
    case xnn_status_invalid_parameter:
      return "xnn_status_invalid_parameter";
    case xnn_status_invalid_state:
      return "xnn_status_invalid_state";
    case xnn_status_unsupported_parameter:
      return "xnn_status_unsupported_parameter";
    case xnn_status_unsupported_hardware:
      return "xnn_status_unsupported_hardware";
    case xnn_status_out_of_memory:
      return "xnn_status_out_of_memory";
  }
  return "unknown xnn_status";
}

Status check(xnn_status status, const ir::Node& node, const char* call) {
  if (status == xnn_status_success) return {};
  return Status(Error::Internal, fmt::format("XNNPACK {} failed for {} node '{}': {}", call, ir::op_name(node.op),
                                             printable(node.name), status_name(status)));
}

}  // namespace tessera::xnnpack
