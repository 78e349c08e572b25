#include "tessera/session.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

#include "core/check.h"
#include "ir/shape_inference.h"
#include "ir/validate.h"
#include "runtime/backend.h"
#include "runtime/model_data.h"

namespace tessera {

// Unmaps a session's arena, mapped for the session alone (allocate_arena).
struct ArenaUnmap {
  size_t bytes = 0;
  void operator()(uint8_t* p) const { munmap(p, bytes); }
};

struct SessionState {
  MemoryPlan memory;  // the backend's (backend_memory_plan)
  std::unique_ptr<uint8_t, ArenaUnmap> arena;
  std::vector<Shape> shapes;        // per value, for the current input shapes
  std::vector<Shape> input_shapes;  // the shapes `shapes` were computed for
  bool shapes_valid = false;
  std::vector<TensorView> outputs;
  std::vector<std::pair<int64_t, int64_t>> written;  // advise_huge_pages's, kept so that run() allocates nothing
  std::string backend_name;
  std::unique_ptr<BackendSession> backend;
};

namespace {

// The arena, with 64 spare bytes: optimized kernels may read a vector past the end of the last
// tensor. Its own mapping, so that its pages go back to the system with it and its advice stays with
// it: small pages (even where transparent huge pages are "always" on) until advise_huge_pages.
std::unique_ptr<uint8_t, ArenaUnmap> allocate_arena(int64_t arena_bytes) {
  const auto bytes = static_cast<size_t>(arena_bytes + kArenaAlignment);
  void* arena = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) return {nullptr, {}};
  madvise(arena, bytes, MADV_NOHUGEPAGE);  // a hint: where the kernel ignores it, first runs may be slower
  return {static_cast<uint8_t*>(arena), {bytes}};
}

// Huge pages wherever a run at the session's shapes writes all of a 2 MiB page, small pages
// elsewhere: a first run then takes one page fault there instead of 512 (a fault cost 1-15 us on the
// VMs measured), and the kernel clears no byte that the run does not write. Huge pages under a value's partly written end would
// clear up to 2 MiB more per value. docs/benchmarks.md, "Huge pages where a shape fills them".
void advise_huge_pages(SessionState& st) {
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const auto base = reinterpret_cast<uintptr_t>(st.arena.get());
  written_ranges(st.memory, st.shapes, st.written, st.backend->stored_values());
  for (const auto& [begin, end] : st.written) {
    const uintptr_t first = (base + begin + kHugePage - 1) / kHugePage * kHugePage;
    const uintptr_t last = (base + end) / kHugePage * kHugePage;
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // a hint, as above
  }
}

// The bytes of the system's pages under what a run at `shapes` writes in the arena. Small pages: the
// arena lies on huge pages only where the run writes whole ones (advise_huge_pages), so those hold
// nothing more.
int64_t resident_bytes(const SessionState& st, std::span<const Shape> shapes) {
  const long system_page = sysconf(_SC_PAGESIZE);
  const int64_t page = system_page > 0 ? system_page : 4096;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  written_ranges(st.memory, shapes, ranges, st.backend->stored_values());
  int64_t count = 0, end = 0;
  for (auto [begin, last] : ranges) {
    const int64_t first = std::max(begin / page, end);
    end = std::max(end, (last + page - 1) / page);
    if (end > first) count += end - first;
  }
  const int64_t reserved = st.memory.arena_bytes + kArenaAlignment;
  return std::min(count * page, (reserved + page - 1) / page * page);
}

std::string axes_text(const ir::Graph& g, const ir::Value& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.input_dims.size(); ++i) {
    if (i > 0) out += ", ";
    const ir::InputDim& d = v.input_dims[i];
    out += d.dynamic >= 0 ? g.dims[d.dynamic].name : std::to_string(d.fixed);
  }
  return out + "]";
}

std::string range_text(const ir::DynamicDim& d) {
  return d.multiple_of > 1 ? fmt::format("{} in {}..{}, multiples of {}", d.name, d.min, d.max, d.multiple_of)
                           : fmt::format("{} in {}..{}", d.name, d.min, d.max);
}

// Checks every axis of every input against the model's dims; fills `dim_values`.
Status check_inputs(const ir::Graph& g, std::span<const ConstTensorView> inputs, std::span<int64_t> dim_values) {
  if (inputs.size() != g.inputs.size()) {
    std::string names;
    for (int v : g.inputs) names += (names.empty() ? "'" : ", '") + g.values[v].name + "'";
    return Status(Error::InputCountMismatch, fmt::format("the model takes {} input(s) ({}), got {}", g.inputs.size(),
                                                         names, inputs.size()));
  }
  std::fill(dim_values.begin(), dim_values.end(), -1);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Value& v = g.values[g.inputs[i]];
    const Shape& s = inputs[i].shape;
    TESSERA_CHECK(inputs[i].data != nullptr, Error::InvalidArgument, "input '{}' has no data", v.name);
    TESSERA_CHECK(s.rank() == static_cast<int>(v.input_dims.size()), Error::RankMismatch,
                  "input '{}' has rank {} (shape {}); the model takes rank {} {}", v.name, s.rank(), s.to_string(),
                  v.input_dims.size(), axes_text(g, v));
    for (int axis = 0; axis < s.rank(); ++axis) {
      const ir::InputDim& d = v.input_dims[axis];
      if (d.dynamic < 0) {
        TESSERA_CHECK(s[axis] == d.fixed, Error::StaticDimMismatch,
                      "input '{}' axis {} is {}; the model takes {} there {}", v.name, axis, s[axis], d.fixed,
                      axes_text(g, v));
        continue;
      }
      const ir::DynamicDim& dim = g.dims[d.dynamic];
      TESSERA_CHECK(s[axis] >= dim.min && s[axis] <= dim.max, Error::DimOutOfRange,
                    "input '{}' axis {} ({}) is {}; the model takes {}", v.name, axis, dim.name, s[axis], range_text(dim));
      TESSERA_CHECK(s[axis] % dim.multiple_of == 0, Error::DimNotMultiple,
                    "input '{}' axis {} ({}) is {}, not a multiple of {}; the model takes {}", v.name, axis, dim.name,
                    s[axis], dim.multiple_of, range_text(dim));
      int64_t& bound = dim_values[d.dynamic];
      TESSERA_CHECK(bound < 0 || bound == s[axis], Error::StaticDimMismatch,
                    "input '{}' axis {} sets {}={}, but another axis set it to {}", v.name, axis, dim.name, s[axis], bound);
      bound = s[axis];
    }
  }
  return {};
}

// A backend's own buffers (planned at the upper bound) or a new shape's set-up may not fit in the
// machine: an error that says what to change, not an exception through the caller.
template <typename F>
Status or_out_of_memory(const ModelData& d, const std::string& backend, F f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Status(Error::OutOfMemory,
                  fmt::format("the {} backend cannot allocate the memory it needs for the upper bound of the model's "
                              "dims ({}): compile the model with a smaller --dim MAX (tiled runs still cover larger "
                              "images) or try another --backend", backend, ir::dims_text(d.graph, d.graph.upper_dim_values())));
  }
}

}  // namespace

Status check_precision(const std::string& backend, const std::string& precision) {
  TESSERA_CHECK(precision == "fp32" || precision == "bf16", Error::InvalidArgument,
                "unknown precision '{}': use fp32 or bf16", precision);
  const std::string resolved = backend == "auto" ? auto_backend(precision) : backend;
  TESSERA_CHECK(precision == "fp32" || resolved == "onednn", Error::InvalidArgument,
                "precision bf16 runs on the onednn backend only, not on '{}' (this program has: {}): use --backend "
                "onednn, or --precision fp32",
                resolved, fmt::join(available_backends(), ", "));
  return {};
}

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model, const SessionOptions& options) {
  TESSERA_CHECK(model != nullptr, Error::InvalidArgument, "Session::create needs a loaded model");
  TESSERA_CHECK(options.threads >= 1, Error::InvalidArgument, "a session needs at least 1 thread, got {}",
                options.threads);
  const ModelData& d = model->data();
  const ir::Graph& g = d.graph;
  TESSERA_RETURN_IF_ERROR(check_precision(options.backend, options.precision));
  SessionOptions resolved = options;
  resolved.backend = options.backend == "auto" ? auto_backend(options.precision) : options.backend;
  auto state = std::make_unique<SessionState>();
  state->backend_name = resolved.backend;
  TESSERA_RETURN_IF_ERROR(or_out_of_memory(d, state->backend_name, [&]() -> Status {
    TESSERA_ASSIGN_OR_RETURN(state->memory, backend_memory_plan(resolved.backend, d));
    const int64_t arena_bytes = state->memory.arena_bytes;
    state->arena = allocate_arena(arena_bytes);
    TESSERA_CHECK(state->arena != nullptr, Error::OutOfMemory,
                  "cannot allocate the {}-byte arena the model plans at the upper bound of its dims ({}): compile "
                  "it with a smaller --dim MAX (tiled runs still cover larger images)", arena_bytes,
                  ir::dims_text(g, g.upper_dim_values()));
    state->shapes.resize(g.values.size());
    for (size_t v = 0; v < g.values.size(); ++v)
      if (g.values[v].kind == ir::ValueKind::Constant) state->shapes[v] = g.values[v].constant_shape;
    state->input_shapes.resize(g.inputs.size());
    state->outputs.resize(g.outputs.size());
    state->written.reserve(g.values.size());
    TESSERA_ASSIGN_OR_RETURN(state->backend,
                             create_backend(resolved.backend, d, state->memory, resolved, state->arena.get()));
    return {};
  }));
  return std::unique_ptr<Session>(new Session(std::move(model), std::move(state)));
}

Session::Session(std::shared_ptr<const Model> model, std::unique_ptr<SessionState> state)
    : model_(std::move(model)), state_(std::move(state)) {}
Session::~Session() = default;

int64_t Session::arena_bytes() const { return state_->memory.arena_bytes; }
const std::string& Session::backend() const { return state_->backend_name; }
int64_t Session::backend_bytes() const { return state_->backend->extra_bytes(); }
std::vector<std::string> Session::fallbacks() const { return state_->backend->fallbacks(); }

Result<int64_t> Session::arena_resident_bytes(int64_t height, int64_t width) const {
  const ir::Graph& g = model_->data().graph;
  const auto& axes = g.values[g.inputs[0]].input_dims;
  TESSERA_CHECK(axes.size() == 4 && axes[2].dynamic >= 0 && axes[3].dynamic >= 0, Error::Unsupported,
                "the model's input has no dynamic height and width");
  std::vector<int64_t> dim_values = g.upper_dim_values();
  for (auto [axis, size] : {std::pair{2, height}, std::pair{3, width}}) {
    const ir::DynamicDim& dim = g.dims[axes[axis].dynamic];
    TESSERA_CHECK(size >= dim.min && size <= dim.max && size % dim.multiple_of == 0, Error::DimOutOfRange,
                  "arena_resident_bytes: {} {} is outside the model's range ({})", dim.name, size, range_text(dim));
    dim_values[axes[axis].dynamic] = size;
  }
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> shapes, ir::shapes_at(g, dim_values));
  return resident_bytes(*state_, shapes);
}

Result<std::span<const TensorView>> Session::run(std::span<const ConstTensorView> inputs) {
  const ModelData& d = model_->data();
  const ir::Graph& g = d.graph;
  SessionState& st = *state_;
  std::array<int64_t, 16> dim_values_storage{};
  TESSERA_CHECK(g.dims.size() <= dim_values_storage.size(), Error::Unsupported, "too many dynamic dims");
  std::span<int64_t> dim_values(dim_values_storage.data(), g.dims.size());
  TESSERA_RETURN_IF_ERROR(check_inputs(g, inputs, dim_values));

  bool same = st.shapes_valid;
  for (size_t i = 0; i < inputs.size(); ++i) same = same && inputs[i].shape == st.input_shapes[i];
  if (!same) {
    st.shapes_valid = false;
    for (size_t i = 0; i < inputs.size(); ++i) st.input_shapes[i] = inputs[i].shape;
    TESSERA_RETURN_IF_ERROR(ir::infer_shapes(g, st.input_shapes, st.shapes));
    // The plan holds each activation at its upper-bound size; a larger one would overrun its neighbours.
    for (const ir::Node& n : g.nodes)
      TESSERA_CHECK(st.shapes[n.output].element_count() <= d.upper_shapes[n.output].element_count(), Error::Internal,
                    "value '{}' outgrows its planned size at shape {}", g.values[n.output].name,
                    st.shapes[n.output].to_string());
    TESSERA_RETURN_IF_ERROR(or_out_of_memory(d, st.backend_name, [&] { return st.backend->reshape(st.shapes); }));
    advise_huge_pages(st);
    st.shapes_valid = true;
  }
  TESSERA_RETURN_IF_ERROR(st.backend->run(inputs));
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    int v = g.outputs[i];
    st.outputs[i] = TensorView{reinterpret_cast<float*>(st.arena.get() + st.memory.offsets[v]), st.shapes[v]};
  }
  return std::span<const TensorView>(st.outputs);
}

}  // namespace tessera
