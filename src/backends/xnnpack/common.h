// Internal to the XNNPACK backend: the step interface the session runs, owned buffers, layout helpers
// and XNNPACK error reporting.
#pragma once

#include <xnnpack.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "core/tsan.h"
#include "ir/graph.h"
#include "tessera/status.h"
#include "tessera/tensor.h"

namespace tessera::xnnpack {

// Activations of rank 4 live in NHWC order (in the arena slots the plan gave their NCHW form: same
// bytes); values of other ranks keep the model's layout. The two orders differ only when C > 1.
inline bool nhwc_differs(const Shape& upper) { return upper.rank() == 4 && upper[1] > 1; }

// A shape of rank <= 4 right-aligned to [N, C, H, W] (numpy broadcasting), in NHWC order.
std::array<size_t, 4> nhwc_dims(const Shape& shape);

// What a step sees when it is set up and run. `data[v]` is where value v lives in the backend's
// layout (NHWC for rank 4) for activations and graph inputs; nullptr for constants and unused values.
struct StepContext {
  std::span<const Shape> shapes;
  std::span<float* const> data;
  pthreadpool_t pool = nullptr;
};

// One node (or a node with an activation fused into it), as the session runs it.
class Step {
 public:
  virtual ~Step() = default;
  // The input shapes or the data pointers changed: recompute whatever depends on them.
  // May allocate (XNNPACK rebuilds its indirection buffers here).
  virtual Status setup(const StepContext& ctx) = 0;
  // Runs the node. Never allocates.
  virtual Status run(const StepContext& ctx) = 0;
  // Bytes held beyond the arena: own buffers, and an estimate of XNNPACK's packed weights and
  // indirection buffers at the dims' upper bounds.
  virtual int64_t extra_bytes() const = 0;
};

// A 64-byte aligned float buffer with XNN_EXTRA_BYTES of readable slack after its end (XNNPACK's
// vector kernels may read past the last element of an input).
class Buffer {
 public:
  Buffer() = default;
  // Throws std::bad_alloc when the machine has no room (Session::create reports it as out of memory).
  static Buffer allocate(int64_t floats);
  float* data() const { return data_.get(); }
  int64_t bytes() const { return bytes_; }

 private:
  struct FreeDeleter {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float[], FreeDeleter> data_;
  int64_t bytes_ = 0;
};

// Calls f(begin, end) over [0, range) in tiles of `tile` items, on the pool's threads (or the calling
// thread when pool is nullptr). f must be safe to call concurrently on disjoint ranges.
// pthreadpool hands the tasks over and waits for them inside itself, where ThreadSanitizer cannot see:
// the caller's set-up happens before each task, and each task before the caller goes on (two sync
// points, so that the tasks stay unordered among themselves).
template <typename F>
void parallel_for(pthreadpool_t pool, size_t range, size_t tile, const F& f) {
  struct Context {
    const F* f;
    char done;
  } context{&f, 0};
  auto task = [](void* c, size_t begin, size_t count) {
    Context* ctx = static_cast<Context*>(c);
    tsan_acquire(&ctx->f);
    (*ctx->f)(begin, begin + count);
    tsan_release(&ctx->done);
  };
  tsan_release(&context.f);
  pthreadpool_parallelize_1d_tile_1d(pool, task, &context, range, tile, 0);
  tsan_acquire(&context.done);
}

// Owns an XNNPACK operator.
struct OperatorDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

const char* status_name(xnn_status status);

// Ok, or an error naming the node, the XNNPACK call and its status.
Status check(xnn_status status, const ir::Node& node, const char* call);

}  // namespace tessera::xnnpack
