// The XNNPACK backend session: runs the model in NHWC, one step per node (see lowering.h), with
// activations in the arena slots of the backend's memory plan (memory_plan.cpp). Graph inputs are transposed into buffers of the backend's own
// and graph outputs out of them, so every pointer XNNPACK is set up with stays fixed between runs of
// one shape: the caller's input memory may move, the arena and the backend's buffers do not. A
// reshape sets every step up; a run only runs them.
#include "backends/xnnpack/xnnpack_backend.h"

#include <algorithm>
#include <cstring>

#include "backends/xnnpack/concat.h"
#include "backends/xnnpack/fallback.h"
#include "backends/xnnpack/layout.h"
#include "backends/xnnpack/lowering.h"
#include "backends/xnnpack/resize.h"
#include "backends/xnnpack/xnnpack_ops.h"
#include "core/check.h"

namespace tessera::xnnpack {
namespace {

struct PoolDeleter {
  void operator()(pthreadpool_t pool) const { pthreadpool_destroy(pool); }
};

// A graph output kept in NHWC in a buffer of the backend's own.
struct OwnOutput {
  int value;
  Buffer nhwc;
};

class XnnpackSession : public BackendSession {
 public:
  XnnpackSession(const ModelData& model, const MemoryPlan& memory, uint8_t* arena)
      : model_(model), memory_(memory), arena_(arena) {}

  Status create(const SessionOptions& options);
  Status reshape(std::span<const Shape> shapes) override;
  Status run(std::span<const ConstTensorView> inputs) override;
  int64_t extra_bytes() const override;
  std::vector<std::string> fallbacks() const override { return fallbacks_; }

 private:
  const ModelData& model_;
  const MemoryPlan& memory_;  // memory_plan(model_)
  uint8_t* const arena_;
  std::unique_ptr<pthreadpool, PoolDeleter> pool_;  // nullptr: run on the calling thread
  std::vector<std::unique_ptr<Step>> steps_;
  std::vector<Buffer> inputs_;  // per graph input: its NHWC copy, sized for the upper bound
  std::vector<OwnOutput> outputs_;
  Buffer scratch_;  // NCHW copies for the reference fallbacks
  std::vector<std::string> fallbacks_;

  std::span<const Shape> shapes_;
  std::vector<float*> data_;  // per value: where it lives (see StepContext)
};

Status XnnpackSession::create(const SessionOptions& options) {
  static const xnn_status init = xnn_initialize(nullptr);
  TESSERA_CHECK(init == xnn_status_success, Error::Unsupported, "XNNPACK cannot initialize on this machine: {}",
                status_name(init));
  if (options.threads > 1) {
    pool_.reset(pthreadpool_create(static_cast<size_t>(options.threads)));
    TESSERA_CHECK(pool_ != nullptr, Error::Internal, "cannot create a pool of {} threads", options.threads);
  }
  const ir::Graph& g = model_.graph;
  data_.assign(g.values.size(), nullptr);
  for (size_t v = 0; v < g.values.size(); ++v)
    if (memory_.offsets[v] >= 0) data_[v] = reinterpret_cast<float*>(arena_ + memory_.offsets[v]);
  for (int v : g.inputs) inputs_.push_back(Buffer::allocate(model_.upper_shapes[v].element_count()));
  for (int v : g.outputs)
    if (output_in_own_buffer(model_, v)) outputs_.push_back({v, Buffer::allocate(model_.upper_shapes[v].element_count())});
  for (size_t i = 0; i < g.inputs.size(); ++i) data_[g.inputs[i]] = inputs_[i].data();
  for (const OwnOutput& o : outputs_) data_[o.value] = o.nhwc.data();

  std::vector<NodePlan> plans = lower(model_, memory_);
  int64_t scratch_floats = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (plans[i].kind == Kind::Fallback)
      scratch_floats = std::max(scratch_floats, fallback_scratch_floats(model_, g.nodes[i]));
  if (scratch_floats > 0) scratch_ = Buffer::allocate(scratch_floats);

  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    switch (plans[i].kind) {
      case Kind::Xnnpack: {
        TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Step> step, make_xnnpack_step(model_, n, plans[i]));
        steps_.push_back(std::move(step));
        break;
      }
      case Kind::Fused:
        break;
      case Kind::Concat:
        steps_.push_back(make_concat_step(model_, memory_, n));
        break;
      case Kind::Resize:
        steps_.push_back(make_resize_step(model_, memory_, n));
        break;
      case Kind::Fallback:
        steps_.push_back(make_fallback_step(model_, n, scratch_.data()));
        fallbacks_.push_back(fmt::format("{} '{}'", ir::op_name(n.op), n.name));
        break;
    }
  }
  return {};
}

Status XnnpackSession::reshape(std::span<const Shape> shapes) {
  shapes_ = shapes;
  const StepContext ctx{shapes_, data_, pool_.get()};
  for (const std::unique_ptr<Step>& step : steps_) TESSERA_RETURN_IF_ERROR(step->setup(ctx));
  return {};
}

Status XnnpackSession::run(std::span<const ConstTensorView> inputs) {
  pthreadpool_t pool = pool_.get();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ConstTensorView& x = inputs[i];
    if (x.shape.rank() == 4)
      nchw_to_nhwc(x.data, inputs_[i].data(), x.shape, pool);
    else
      std::memcpy(inputs_[i].data(), x.data, x.shape.element_count() * sizeof(float));
  }
  const StepContext ctx{shapes_, data_, pool};
  for (const std::unique_ptr<Step>& step : steps_) TESSERA_RETURN_IF_ERROR(step->run(ctx));
  for (const OwnOutput& o : outputs_)
    nhwc_to_nchw(o.nhwc.data(), reinterpret_cast<float*>(arena_ + memory_.offsets[o.value]), shapes_[o.value], pool);
  return {};
}

int64_t XnnpackSession::extra_bytes() const {
  int64_t bytes = scratch_.bytes();
  for (const Buffer& b : inputs_) bytes += b.bytes();
  for (const OwnOutput& o : outputs_) bytes += o.nhwc.bytes();
  for (const std::unique_ptr<Step>& step : steps_) bytes += step->extra_bytes();
  return bytes;
}

}  // namespace

Result<std::unique_ptr<BackendSession>> create_backend_session(const ModelData& model, const MemoryPlan& memory,
                                                               const SessionOptions& options, uint8_t* arena) {
  auto session = std::make_unique<XnnpackSession>(model, memory, arena);
  TESSERA_RETURN_IF_ERROR(session->create(options));
  return std::unique_ptr<BackendSession>(std::move(session));
}

}  // namespace tessera::xnnpack
