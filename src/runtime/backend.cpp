#include "runtime/backend.h"

#include "backends/reference/reference_backend.h"
#ifdef TESSERA_HAVE_XNNPACK
#include "backends/xnnpack/xnnpack_backend.h"
#endif
#ifdef TESSERA_HAVE_ONEDNN
#include "backends/onednn/onednn_backend.h"
#endif

namespace tessera {

namespace {

using Factory = Result<std::unique_ptr<BackendSession>> (*)(const ModelData&, const MemoryPlan&, const SessionOptions&,
                                                             uint8_t* arena);
using Planner = Result<MemoryPlan> (*)(const ModelData&);

Result<MemoryPlan> model_plan(const ModelData& model) { return model.plan; }

struct Entry {
  const char* name;
  Factory create;
  Planner plan;
};

// Every backend built in.
const std::vector<Entry>& backends() {
  static const std::vector<Entry> entries = {
      {"reference", reference::create_backend_session, model_plan},
#ifdef TESSERA_HAVE_XNNPACK
      {"xnnpack", xnnpack::create_backend_session, xnnpack::memory_plan},
#endif
#ifdef TESSERA_HAVE_ONEDNN
      {"onednn", onednn::create_backend_session, model_plan},
#endif
  };
  return entries;
}

}  // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
  for (const Entry& e : backends()) names.push_back(e.name);
  return names;
}

// oneDNN on CPUs with AVX-512, where it measured fastest (docs/benchmarks.md); XNNPACK elsewhere
// (the portable fast path, ARM included); the reference kernels when neither is built.
std::string auto_backend() {
  auto built = [](const char* name) {
    for (const Entry& e : backends())
      if (std::string(e.name) == name) return true;
    return false;
  };
#if defined(__x86_64__)
  if (built("onednn") && __builtin_cpu_supports("avx512f")) return "onednn";
#endif
  if (built("xnnpack")) return "xnnpack";
  if (built("onednn")) return "onednn";
  return "reference";
}

namespace {

Result<const Entry*> find_backend(const std::string& name) {
  std::string wanted = name == "auto" ? auto_backend() : name;
  for (const Entry& e : backends())
    if (wanted == e.name) return &e;
  std::string names = "auto";
  for (const Entry& e : backends()) names += std::string(", ") + e.name;
  return Status(Error::InvalidArgument, fmt::format("unknown backend '{}'; available: {}", name, names));
}

}  // namespace

Result<MemoryPlan> backend_memory_plan(const std::string& name, const ModelData& model) {
  TESSERA_ASSIGN_OR_RETURN(const Entry* e, find_backend(name));
  return e->plan(model);
}

Result<std::unique_ptr<BackendSession>> create_backend(const std::string& name, const ModelData& model,
                                                       const MemoryPlan& memory, const SessionOptions& options,
                                                       uint8_t* arena) {
  TESSERA_ASSIGN_OR_RETURN(const Entry* e, find_backend(name));
  return e->create(model, memory, options, arena);
}

}  // namespace tessera
