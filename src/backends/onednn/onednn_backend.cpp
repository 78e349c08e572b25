// The oneDNN backend session. Once per session: the execution plan (plan.h), each convolution's
// implementation and its weights packed into that implementation's layout (or into NarrowConv's or
// PointwiseSum's). Once per input shape (cached): the primitives and their argument lists over
// memory objects bound to the arena and the session's buffers. run() points the graph inputs'
// memory objects at the caller's data and executes.
#include "backends/onednn/onednn_backend.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdlib>
#include <list>

#include "backends/onednn/layout.h"
#include "backends/onednn/narrow_conv.h"
#include "backends/onednn/ops.h"
#include "backends/onednn/plan.h"
#include "backends/onednn/pointwise_sum.h"
#include "backends/reference/kernels.h"
#include "core/check.h"
#include "core/cpus.h"


namespace tessera::onednn {
namespace {

using dnnl::memory;

// Sets the calling thread's OpenMP thread count for the scope (Debian's oneDNN threads with OpenMP). oneDNN splits work by it when it
// creates a primitive and runs that many threads when it executes; the setting belongs to the
// calling thread, so sessions on different threads do not affect each other. A session uses at
// most usable_cpus() threads: beyond the CPUs, OpenMP threads only wait for each other (5000
// threads made one ESRGAN-slim x2 run at 512² take 15 s instead of 0.3 s on 2 CPUs).
class ThreadScope {
 public:
  explicit ThreadScope(int threads) {
    saved_ = omp_get_max_threads();
    omp_set_num_threads(threads);
  }
  ~ThreadScope() {
    if (saved_ > 0) omp_set_num_threads(saved_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_ = 0;
};

int64_t bytes_of(const Shape& s) {
  return (s.element_count() * static_cast<int64_t>(sizeof(float)) + kArenaAlignment - 1) / kArenaAlignment *
         kArenaAlignment;
}

struct Buffer {
  struct FreeDeleter {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, FreeDeleter> data;
  int64_t bytes = 0;
};

// Where an argument's data is; an address once a shape's plan is bound to the arena.
struct Location {
  enum class Kind { Arena, Buffer, Constant, Caller };
  Kind kind = Kind::Arena;
  int64_t offset = 0;  // Arena, Buffer: in bytes
  int index = -1;      // Buffer: which session buffer; Caller: which graph input
  const float* constant = nullptr;
};

struct Arg {
  int arg;
  memory::desc md;
  Location where;
  dnnl_memory_t fixed = nullptr;  // or a memory the session owns (packed weights)
};

struct Step {
  enum class Kind { Primitive, Reference, Narrow, PointwiseSum };
  Kind kind = Kind::Primitive;
  dnnl_primitive_t primitive = nullptr;  // Primitive
  int node = -1;                         // -1: a graph input or output reorder
  size_t first = 0;                      // its arguments in ShapePlan::args, or its views in ShapePlan::views
  size_t count = 0;                      // (the output view of the others follows their input views)
};

struct ViewSource {
  Location where;
  Shape shape;
};

// Everything run() needs for one set of input shapes.
struct ShapePlan {
  std::vector<Shape> input_shapes;
  std::vector<dnnl::primitive> primitives;
  std::vector<std::pair<memory, Location>> memories;
  std::vector<std::pair<memory, int>> caller_inputs;  // memories over graph input i, set every run
  std::vector<dnnl_exec_arg_t> args;
  std::vector<Step> steps;
  std::vector<ViewSource> view_sources;
  std::vector<ConstTensorView> views;  // view_sources resolved by bind()
  uint64_t bound_generation = 0;       // the buffers' generation it is bound to; 0: not bound
};

// Distinct input shapes kept: a tiled run has at most 9 window shapes per worker.
constexpr size_t kCachedShapes = 16;

class OnednnSession final : public BackendSession {
 public:
  OnednnSession(const ModelData& model, const MemoryPlan& memory, const SessionOptions& options, uint8_t* arena)
      : model_(model),
        memory_(memory),
        threads_(std::min(options.threads, usable_cpus())),
        bf16_(options.precision == "bf16"),
        arena_(arena),
        engine_(dnnl::engine::kind::cpu, 0),
        stream_(engine_) {}

  Status init();
  Status reshape(std::span<const Shape> shapes) override;
  Status run(std::span<const ConstTensorView> inputs) override;
  int64_t extra_bytes() const override;
  std::vector<std::string> fallbacks() const override;
  std::span<const char> stored_values() const override { return stored_; }

 private:
  void choose_convolution(int node);
  Status build(ShapePlan& sp, std::span<const Shape> shapes);
  void add_primitive(ShapePlan& sp, const dnnl::primitive_desc_base& pd, std::span<const Arg> args, int node);
  void add_spec(ShapePlan& sp, const PrimitiveSpec& spec, int node);
  void add_reorder(ShapePlan& sp, const Arg& src, const Arg& dst, int node);
  void add_reference(ShapePlan& sp, int node, std::span<const Shape> shapes);
  void add_narrow(ShapePlan& sp, int node, std::span<const Shape> shapes);
  void add_pointwise_sum(ShapePlan& sp, int node, std::span<const Shape> shapes);
  Status bind(ShapePlan& sp);
  Location home_of(int value) const;
  int add_buffer(int64_t bytes);
  void reserve(int buffer, int64_t bytes);
  OpContext context(std::span<const Shape> shapes) const;
  int64_t bf16_copy_bytes() const;
  int64_t arena_room(int n, int64_t bytes, std::span<const Shape> shapes) const;
  Status failure(int node, std::span<const Shape> shapes, const char* what) const;
  memory weights_in(int node, int part, const memory::desc& md);

  const ModelData& model_;
  const MemoryPlan& memory_;
  const int threads_;
  const bool bf16_;  // OpContext::bf16
  uint8_t* const arena_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  ExecutionPlan plan_;
  std::vector<std::pair<int, int>> value_steps_;  // per value: when its slot is taken (plan.h value_steps)
  std::vector<char> stored_;                      // per value: whether a run writes it (plan.h stored_values)
  std::vector<std::vector<std::string>> impls_;  // per node: its primitives' implementations (OpContext::impls)
  std::vector<std::vector<ConvChoice>> convs_;  // per node (convolutions): per part (ops.h conv_parts)
  std::vector<std::vector<memory>> weights_;    // per node (convolutions): per part, packed weights
  // Per node (convolutions): per part, the weights packed into the other layouts its implementation
  // has taken at some shape (OpContext::weights_in), packed when first needed.
  std::vector<std::vector<std::vector<memory>>> other_weights_;
  std::vector<std::unique_ptr<NarrowConv>> narrow_;  // per node (Role::Narrow)
  std::vector<std::unique_ptr<PointwiseSum>> pointwise_sums_;  // per node (Role::PointwiseSum)
  std::vector<Buffer> buffers_;
  std::vector<int> value_buffer_;   // per value: the buffer of a graph input or output, or -1
  int scratchpad_ = -1;             // one scratchpad for every primitive, sized for the largest
  int bf16_copy_ = -1;              // a convolution's bf16 copy of its input where the arena has no room
  int reference_scratch_ = -1;      // NCHW copies of a reference node's inputs and output
  uint64_t generation_ = 1;         // bumped when a buffer moves: bound plans bind again
  std::list<ShapePlan> cache_;      // most recently used first
  ShapePlan* current_ = nullptr;
  std::span<const Shape> shapes_;  // every value's shape, from the last reshape
};

Status OnednnSession::init() {
  const ir::Graph& g = model_.graph;
  ThreadScope scope(threads_);
  plan_ = plan_execution(model_, memory_);
  impls_.resize(g.nodes.size());
  convs_.resize(g.nodes.size());
  weights_.resize(g.nodes.size());
  other_weights_.resize(g.nodes.size());
  narrow_.resize(g.nodes.size());
  pointwise_sums_.resize(g.nodes.size());
  OpContext ctx = context(model_.upper_shapes);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const ir::Op op = g.nodes[n].op;
    const bool conv = op == ir::Op::Conv || op == ir::Op::ConvTranspose;
    if (plan_.nodes[n].role == Role::Narrow)
      narrow_[n] = std::make_unique<NarrowConv>(g, static_cast<int>(n), plan_.nodes[n].post_ops,
                                                plan_.homes[plan_.nodes[n].output] == Home::ArenaNchw);
    if (plan_.nodes[n].role == Role::PointwiseSum) {
      const NodePlan& np = plan_.nodes[n];
      pointwise_sums_[n] =
          std::make_unique<PointwiseSum>(g, np.terms, np.post_ops, SumPart{np.last_part, np.sum_terms}, bf16_);
    }
    if (plan_.nodes[n].role != Role::Primitive) continue;
    try {
      if (conv) {
        choose_convolution(static_cast<int>(n));
        for (const ConvChoice& c : convs_[n]) impls_[n].push_back(c.impl);
      } else {
        for (const PrimitiveSpec& spec : make_primitives(ctx, static_cast<int>(n)))
          impls_[n].push_back(spec.pd.impl_info_str());
      }
    } catch (const std::exception& e) {
      if (!plan_.nodes[n].pieces.empty()) {  // try again over the Concat, which then runs
        unsplit(g, plan_, static_cast<int>(n));
        --n;
        continue;
      }
      // No implementation at the upper bound: the node, and whatever was folded into it, run on their own.
      while (!plan_.nodes[n].post_ops.empty()) unfold_last(g, plan_, static_cast<int>(n));
      plan_.nodes[n].role = Role::Reference;
      plan_.nodes[n].reason = std::string("oneDNN has no implementation: ") + e.what();
      continue;
    }
    if (!conv) continue;
    try {
      for (size_t part = 0; part < convs_[n].size(); ++part)
        weights_[n].push_back(pack_weights(ctx, static_cast<int>(n), static_cast<int>(part), convs_[n][part].weights_md, stream_));
    } catch (const std::exception& e) {
      return failure(static_cast<int>(n), model_.upper_shapes, e.what());
    }
  }

  value_buffer_.assign(g.values.size(), -1);
  for (size_t v = 0; v < g.values.size(); ++v)
    if (plan_.homes[v] == Home::Input || plan_.homes[v] == Home::Output)
      value_buffer_[v] = add_buffer(bytes_of(model_.upper_shapes[v]));
  int64_t reference_bytes = 0;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (plan_.nodes[n].role != Role::Reference) continue;
    const ir::Node& node = g.nodes[n];
    int64_t bytes = 0;
    for (int v : node.inputs)
      if (plan_.homes[v] != Home::Constant && model_.upper_shapes[v].rank() == 4) bytes += bytes_of(model_.upper_shapes[v]);
    if (plan_.homes[node.output] != Home::ArenaNchw && model_.upper_shapes[node.output].rank() == 4)
      bytes += bytes_of(model_.upper_shapes[node.output]);
    reference_bytes = std::max(reference_bytes, bytes);
  }
  reference_scratch_ = add_buffer(reference_bytes);
  scratchpad_ = add_buffer(0);
  value_steps_ = value_steps(g, plan_);
  stored_ = onednn::stored_values(g, plan_);
  bf16_copy_ = add_buffer(bf16_ ? bf16_copy_bytes() : 0);
  return {};
}

// The largest input of a convolution on oneDNN's primitives, in bf16, at the upper bound, that
// finds no room in the arena (arena_room): 0 when every one does.
int64_t OnednnSession::bf16_copy_bytes() const {
  int64_t bytes = 0;
  for (size_t n = 0; n < plan_.nodes.size(); ++n) {
    const ir::Node& node = model_.graph.nodes[n];
    if (plan_.nodes[n].role != Role::Primitive || (node.op != ir::Op::Conv && node.op != ir::Op::ConvTranspose))
      continue;
    std::vector<int> inputs = plan_.nodes[n].pieces;
    if (inputs.empty()) inputs.push_back(node.inputs[0]);
    for (int x : inputs) {
      const int64_t copy = model_.upper_shapes[x].element_count() * static_cast<int64_t>(sizeof(uint16_t));
      if (arena_room(static_cast<int>(n), copy, model_.upper_shapes) < 0) bytes = std::max(bytes, copy);
    }
  }
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// Where `bytes` of scratch for step n can go in the arena at `shapes`: inside what a run at these
// shapes writes anyway (so that its pages are resident already; not the slot of a node folded into
// another, which a run never touches), clear of every value whose slot step n may use (value_steps_);
// -1 when nowhere. A bf16 copy there adds nothing to a run's peak.
int64_t OnednnSession::arena_room(int n, int64_t bytes, std::span<const Shape> shapes) const {
  std::vector<std::pair<int64_t, int64_t>> taken;
  for (size_t v = 0; v < value_steps_.size(); ++v)
    if (memory_.offsets[v] >= 0 && value_steps_[v].first <= n && n <= value_steps_[v].second)
      taken.emplace_back(memory_.offsets[v], memory_.offsets[v] + bytes_of(shapes[v]));
  std::sort(taken.begin(), taken.end());
  auto aligned = [](int64_t at) { return (at + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; };
  std::vector<std::pair<int64_t, int64_t>> written;
  written_ranges(memory_, shapes, written, stored_);
  for (const auto& [begin, end] : written) {
    int64_t at = aligned(begin);
    for (const auto& [taken_begin, taken_end] : taken) {
      if (taken_end <= at) continue;
      if (taken_begin >= end) break;
      if (taken_begin - at >= bytes) return at;
      at = std::max(at, aligned(taken_end));
    }
    if (end - at >= bytes) return at;
  }
  return -1;
}

OpContext OnednnSession::context(std::span<const Shape> shapes) const {
  OpContext ctx{engine_, model_.graph, shapes, plan_, memory_.offsets};
  ctx.bf16 = bf16_;
  return ctx;
}

// Picks the implementation of each part at the upper bound. Post-ops that oneDNN cannot fold into
// the last part, or that would make it pick a slower implementation than without them, are
// unfolded again; a split convolution whose output then lands on a piece reads its Concat again.
void OnednnSession::choose_convolution(int n) {
  OpContext ctx = context(model_.upper_shapes);
  NodePlan& np = plan_.nodes[n];
  const int last = conv_parts(np) - 1;
  std::vector<ConvChoice>& choices = convs_[n];
  choices.clear();
  for (int part = 0; part < last; ++part) choices.push_back(choose_conv(ctx, n, part));
  std::vector<PostOp> folded = std::move(np.post_ops);
  np.post_ops.clear();
  ConvChoice bare = choose_conv(ctx, n, last);
  np.post_ops = std::move(folded);
  for (; !np.post_ops.empty(); unfold_last(model_.graph, plan_, n)) {
    try {
      ConvChoice fused = choose_conv(ctx, n, last);
      if (fused.impl == bare.impl) {
        bare = fused;
        break;
      }
    } catch (const dnnl::error&) {
    }
  }
  if (!output_clear_of(model_, memory_, plan_, n, np.pieces)) {
    unsplit(model_.graph, plan_, n);
    return choose_convolution(n);
  }
  choices.push_back(bare);
}

int OnednnSession::add_buffer(int64_t bytes) {
  Buffer b;
  b.bytes = bytes;
  if (bytes > 0) b.data.reset(static_cast<uint8_t*>(std::aligned_alloc(kArenaAlignment, static_cast<size_t>(bytes))));
  if (bytes > 0 && b.data == nullptr) throw std::bad_alloc();
  buffers_.push_back(std::move(b));
  return static_cast<int>(buffers_.size()) - 1;
}

// Grows session buffer `buffer` (the scratchpad, the bf16 copy) to at least `bytes`.
void OnednnSession::reserve(int buffer, int64_t bytes) {
  Buffer& b = buffers_[buffer];
  if (bytes <= b.bytes) return;
  bytes = (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  b.data.reset(static_cast<uint8_t*>(std::aligned_alloc(kArenaAlignment, static_cast<size_t>(bytes))));
  if (b.data == nullptr) throw std::bad_alloc();
  b.bytes = bytes;
  ++generation_;  // plans bound to the old buffer must bind again
}

Location OnednnSession::home_of(int v) const {
  switch (plan_.homes[v]) {
    case Home::Arena:
    case Home::ArenaNchw: return {Location::Kind::Arena, memory_.offsets[v]};
    case Home::Input:
    case Home::Output: return {Location::Kind::Buffer, 0, value_buffer_[v]};
    case Home::Constant: return {Location::Kind::Constant, 0, -1, model_.graph.values[v].constant_data};
  }
  return {};
}

Status OnednnSession::failure(int n, std::span<const Shape> shapes, const char* what) const {
  const ir::Graph& g = model_.graph;
  if (n < 0) return Status(Error::Internal, fmt::format("oneDNN backend: a graph input or output reorder: {}", what));
  const ir::Node& node = g.nodes[n];
  return Status(Error::Unsupported, fmt::format("oneDNN backend: {} '{}' at input {}: {}", ir::op_name(node.op), node.name,
                                                shapes[node.inputs[0]].to_string(), what));
}

// oneDNN's brgconv picks how many output channels its weights layout blocks together (16, 32 or
// 64) from the shape and the thread count, and has no implementation at a shape whose block
// differs from the packed weights'; the block changes no sum (outputs are bit-identical), so such
// a shape gets the same implementation over a copy of the weights in its layout.
memory OnednnSession::weights_in(int n, int part, const memory::desc& md) {
  if (other_weights_[n].size() < weights_[n].size()) other_weights_[n].resize(weights_[n].size());
  std::vector<memory>& packed = other_weights_[n][part];
  for (const memory& m : packed)
    if (m.get_desc() == md) return m;
  OpContext ctx = context(model_.upper_shapes);
  packed.push_back(pack_weights(ctx, n, part, md, stream_));
  return packed.back();
}

Status OnednnSession::reshape(std::span<const Shape> shapes) {
  const ir::Graph& g = model_.graph;
  shapes_ = shapes;
  auto same_inputs = [&](const ShapePlan& sp) {
    for (size_t i = 0; i < g.inputs.size(); ++i)
      if (!(sp.input_shapes[i] == shapes[g.inputs[i]])) return false;
    return true;
  };
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (!same_inputs(*it)) continue;
    cache_.splice(cache_.begin(), cache_, it);
    current_ = &cache_.front();
    // A shape built since may have grown the scratchpad.
    return current_->bound_generation == generation_ ? Status() : bind(*current_);
  }
  current_ = nullptr;
  ThreadScope scope(threads_);
  ShapePlan& sp = cache_.emplace_front();
  for (int v : g.inputs) sp.input_shapes.push_back(shapes[v]);
  Status status = build(sp, shapes);
  if (!status.ok()) {
    cache_.pop_front();
    return status;
  }
  if (cache_.size() > kCachedShapes) cache_.pop_back();
  current_ = &cache_.front();
  return bind(*current_);
}

Status OnednnSession::build(ShapePlan& sp, std::span<const Shape> shapes) {
  const ir::Graph& g = model_.graph;
  try {
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      const int v = g.inputs[i];
      add_reorder(sp, {DNNL_ARG_SRC, plain_md(shapes[v]), {Location::Kind::Caller, 0, static_cast<int>(i)}},
                  {DNNL_ARG_DST, activation_md(shapes[v]), home_of(v)}, -1);
    }
  } catch (const std::exception& e) {
    return failure(-1, shapes, e.what());
  }
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    try {
      switch (plan_.nodes[n].role) {
        case Role::Fused: break;
        case Role::Reference: add_reference(sp, static_cast<int>(n), shapes); break;
        case Role::Narrow: add_narrow(sp, static_cast<int>(n), shapes); break;
        case Role::PointwiseSum: add_pointwise_sum(sp, static_cast<int>(n), shapes); break;
        case Role::Primitive:
          OpContext ctx = context(shapes);
          ctx.impls = impls_[n];
          ctx.weights_in = [this, n](int part, const memory::desc& md) {
            return weights_in(static_cast<int>(n), part, md);
          };
          for (const PrimitiveSpec& spec : make_primitives(ctx, static_cast<int>(n), convs_[n], weights_[n]))
            add_spec(sp, spec, static_cast<int>(n));
          break;
      }
    } catch (const std::exception& e) {
      return failure(static_cast<int>(n), shapes, e.what());
    }
  }
  try {
    for (int v : g.outputs)
      if (plan_.homes[v] == Home::Output)
        add_reorder(sp, {DNNL_ARG_SRC, activation_md(shapes[v]), home_of(v)},
                    {DNNL_ARG_DST, plain_md(shapes[v]), {Location::Kind::Arena, memory_.offsets[v]}}, -1);
  } catch (const std::exception& e) {
    return failure(-1, shapes, e.what());
  }
  sp.views.resize(sp.view_sources.size());
  return {};
}

void OnednnSession::add_primitive(ShapePlan& sp, const dnnl::primitive_desc_base& pd, std::span<const Arg> args,
                                  int node) {
  sp.primitives.emplace_back(pd.get());
  const size_t first = sp.args.size();
  auto bound = [&](const memory::desc& md, const Location& where) {
    memory m(md, engine_, nullptr);  // the address comes in bind(), or every run for caller inputs
    if (where.kind == Location::Kind::Caller) sp.caller_inputs.emplace_back(m, where.index);
    sp.memories.emplace_back(m, where);
    return m.get();
  };
  for (const Arg& a : args) sp.args.push_back({a.arg, a.fixed != nullptr ? a.fixed : bound(a.md, a.where)});
  memory::desc scratchpad = pd.scratchpad_desc();
  if (scratchpad.get_size() > 0) {
    reserve(scratchpad_, static_cast<int64_t>(scratchpad.get_size()));
    sp.args.push_back({DNNL_ARG_SCRATCHPAD, bound(scratchpad, {Location::Kind::Buffer, 0, scratchpad_})});
  }
  sp.steps.push_back({Step::Kind::Primitive, sp.primitives.back().get(), node, first, sp.args.size() - first});
}

void OnednnSession::add_spec(ShapePlan& sp, const PrimitiveSpec& spec, int node) {
  std::vector<Arg> args;
  for (const Operand& op : spec.operands) {
    Location where;
    if (op.bf16_copy) {
      const auto bytes = static_cast<int64_t>(op.md.get_size());
      const int64_t room = arena_room(node, bytes, shapes_);
      if (room >= 0) {
        where = {Location::Kind::Arena, room};
      } else {
        reserve(bf16_copy_, bytes);
        where = {Location::Kind::Buffer, 0, bf16_copy_};
      }
    } else if (op.fixed == nullptr) {
      where = home_of(op.value);
    }
    args.push_back({op.arg, op.md, where, op.fixed});
  }
  add_primitive(sp, spec.pd, args, node);
}

void OnednnSession::add_reorder(ShapePlan& sp, const Arg& src, const Arg& dst, int node) {
  dnnl::reorder::primitive_desc pd(engine_, src.md, engine_, dst.md, user_scratchpad());
  const Arg args[] = {src, dst};
  add_primitive(sp, pd, args, node);
}

// A reference node reads NCHW copies of its rank-4 activation inputs (constants are NCHW already)
// and writes an NCHW copy that is reordered into its output's home, unless it can write that home
// directly (an NCHW graph output, or a tensor whose rank is not 4 and so is never NHWC).
void OnednnSession::add_reference(ShapePlan& sp, int n, std::span<const Shape> shapes) {
  const ir::Node& node = model_.graph.nodes[n];
  const Location scratch{Location::Kind::Buffer, 0, reference_scratch_};
  int64_t offset = 0;
  std::vector<ViewSource> inputs;
  for (int v : node.inputs) {
    const Shape& s = shapes[v];
    if (plan_.homes[v] == Home::Constant || s.rank() != 4) {
      inputs.push_back({home_of(v), s});
      continue;
    }
    Location copy = scratch;
    copy.offset = offset;
    offset += bytes_of(model_.upper_shapes[v]);
    add_reorder(sp, {DNNL_ARG_SRC, activation_md(s), home_of(v)}, {DNNL_ARG_DST, plain_md(s), copy}, n);
    inputs.push_back({copy, s});
  }
  const Shape& ys = shapes[node.output];
  const bool direct = plan_.homes[node.output] == Home::ArenaNchw || ys.rank() != 4;
  Location target = direct ? home_of(node.output) : scratch;
  if (!direct) target.offset = offset;
  sp.steps.push_back({Step::Kind::Reference, nullptr, n, sp.view_sources.size(), inputs.size()});
  sp.view_sources.insert(sp.view_sources.end(), inputs.begin(), inputs.end());
  sp.view_sources.push_back({target, ys});
  if (!direct) add_reorder(sp, {DNNL_ARG_SRC, plain_md(ys), target}, {DNNL_ARG_DST, activation_md(ys), home_of(node.output)}, n);
}

// A narrow convolution reads its input at its home and writes its (last post-op's) output at that
// one's, both NHWC.
void OnednnSession::add_narrow(ShapePlan& sp, int n, std::span<const Shape> shapes) {
  const int x = model_.graph.nodes[n].inputs[0], y = plan_.nodes[n].output;
  sp.steps.push_back({Step::Kind::Narrow, nullptr, n, sp.view_sources.size(), 1});
  sp.view_sources.push_back({home_of(x), shapes[x]});
  sp.view_sources.push_back({home_of(y), shapes[y]});
}

// A sum of 1x1 convolutions (or a part of one) reads each term's input at its home, and the running
// sum at its, and writes its (last post-op's) output at that one's, all NHWC.
void OnednnSession::add_pointwise_sum(ShapePlan& sp, int n, std::span<const Shape> shapes) {
  const NodePlan& np = plan_.nodes[n];
  sp.steps.push_back({Step::Kind::PointwiseSum, nullptr, n, sp.view_sources.size(), np.terms.size()});
  for (int t : np.terms) {
    const int x = model_.graph.nodes[t].inputs[0];
    sp.view_sources.push_back({home_of(x), shapes[x]});
  }
  if (np.running >= 0) sp.view_sources.push_back({home_of(np.running), shapes[np.running]});
  const int y = np.output;
  sp.view_sources.push_back({home_of(y), shapes[y]});
}

Status OnednnSession::bind(ShapePlan& sp) {
  auto address = [&](const Location& where) -> void* {
    switch (where.kind) {
      case Location::Kind::Arena: return arena_ + where.offset;
      case Location::Kind::Buffer: return buffers_[where.index].data.get() + where.offset;
      case Location::Kind::Constant: return const_cast<float*>(where.constant);
      case Location::Kind::Caller: break;
    }
    return nullptr;
  };
  try {
    for (auto& [m, where] : sp.memories)
      if (where.kind != Location::Kind::Caller) m.set_data_handle(address(where));
  } catch (const std::exception& e) {
    return failure(-1, {}, e.what());
  }
  for (size_t i = 0; i < sp.view_sources.size(); ++i)
    sp.views[i] = ConstTensorView(static_cast<const float*>(address(sp.view_sources[i].where)), sp.view_sources[i].shape);
  sp.bound_generation = generation_;
  return {};
}

Status OnednnSession::run(std::span<const ConstTensorView> inputs) {
  TESSERA_CHECK(current_ != nullptr, Error::Internal, "oneDNN backend: run() before a successful reshape()");
  ShapePlan& sp = *current_;
  ThreadScope scope(threads_);
  try {
    for (auto& [m, i] : sp.caller_inputs) m.set_data_handle(const_cast<float*>(inputs[i].data));
  } catch (const std::exception& e) {
    return failure(-1, {}, e.what());
  }
  const ir::Graph& g = model_.graph;
  for (const Step& step : sp.steps) {
    if (step.kind == Step::Kind::Reference) {
      const ConstTensorView& out = sp.views[step.first + step.count];
      TESSERA_RETURN_IF_ERROR(reference::run_node(g.nodes[step.node], {sp.views.data() + step.first, step.count},
                                                  TensorView{const_cast<float*>(out.data), out.shape}));
      continue;
    }
    if (step.kind == Step::Kind::Narrow) {
      const ConstTensorView &x = sp.views[step.first], &y = sp.views[step.first + step.count];
      narrow_[step.node]->run(x.data, x.shape, const_cast<float*>(y.data), y.shape);
      continue;
    }
    if (step.kind == Step::Kind::PointwiseSum) {
      const bool continues = plan_.nodes[step.node].running >= 0;
      const ConstTensorView* views = sp.views.data() + step.first;
      pointwise_sums_[step.node]->run({views, step.count}, continues ? views[step.count].data : nullptr,
                                      const_cast<float*>(views[step.count + continues].data));
      continue;
    }
    dnnl_status_t status = dnnl_primitive_execute(step.primitive, stream_.get(), static_cast<int>(step.count),
                                                  sp.args.data() + step.first);
    if (status != dnnl_success) {
      std::string what = fmt::format("execution failed with oneDNN status {}", static_cast<int>(status));
      return failure(step.node, shapes_, what.c_str());
    }
  }
  dnnl_stream_wait(stream_.get());
  return {};
}

int64_t OnednnSession::extra_bytes() const {
  int64_t bytes = 0;
  for (const Buffer& b : buffers_) bytes += b.bytes;
  for (const std::vector<memory>& parts : weights_)
    for (const memory& w : parts) bytes += static_cast<int64_t>(w.get_desc().get_size());
  for (const std::vector<std::vector<memory>>& parts : other_weights_)
    for (const std::vector<memory>& layouts : parts)
      for (const memory& w : layouts) bytes += static_cast<int64_t>(w.get_desc().get_size());
  for (const std::unique_ptr<NarrowConv>& c : narrow_)
    if (c) bytes += c->bytes();
  for (const std::unique_ptr<PointwiseSum>& s : pointwise_sums_)
    if (s) bytes += s->bytes();
  return bytes;
}

std::vector<std::string> OnednnSession::fallbacks() const {
  std::vector<std::string> out;
  for (size_t n = 0; n < plan_.nodes.size(); ++n)
    if (plan_.nodes[n].role == Role::Reference)
      out.push_back(fmt::format("{} '{}'", ir::op_name(model_.graph.nodes[n].op), model_.graph.nodes[n].name));
  return out;
}

}  // namespace

Result<std::unique_ptr<BackendSession>> create_backend_session(const ModelData& model, const MemoryPlan& memory,
                                                               const SessionOptions& options, uint8_t* arena) {
  // oneDNN 2.6 has bf16 convolutions from AVX-512 core on (emulated there, native with AVX512_BF16).
  const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
  if (options.precision == "bf16" && (isa & dnnl_cpu_isa_avx512_core) != dnnl_cpu_isa_avx512_core)
    return Status(Error::InvalidArgument,
                  "precision bf16 needs a CPU with AVX-512 (oneDNN has no bf16 convolutions "
                  "below it): use --precision fp32");
  try {
    auto session = std::make_unique<OnednnSession>(model, memory, options, arena);
    TESSERA_RETURN_IF_ERROR(session->init());
    return std::unique_ptr<BackendSession>(std::move(session));
  } catch (const std::bad_alloc&) {
    throw;  // Session::create reports it as out of memory
  } catch (const std::exception& e) {
    return Status(Error::Internal, fmt::format("oneDNN backend: {}", e.what()));
  }
}

}  // namespace tessera::onednn
