#include "runtime/backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "backends/reference/reference_backend.h"

namespace tessera {

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<BackendEntry> entries;  // the reference backend first, then by name
};

// Built on first use, so that backends registering from static initializers find it ready.
Registry& registry() {
  static Registry* r = [] {
    auto* r = new Registry;
    r->entries.push_back({"reference", reference::create_backend_session, nullptr, [] { return 0; }});
    return r;
  }();
  return *r;
}

std::vector<BackendEntry> entries() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.entries;
}

Result<BackendEntry> find_backend(const std::string& name) {
  std::string wanted = name == "auto" ? auto_backend() : name;
  std::vector<BackendEntry> all = entries();
  for (const BackendEntry& e : all)
    if (wanted == e.name) return e;
  std::string names = "auto";
  for (const BackendEntry& e : all) names += std::string(", ") + e.name;
#if !defined(__x86_64__)
  if (wanted == "onednn")
    return Status(Error::InvalidArgument,
                  fmt::format("backend 'onednn' runs on x86-64 only (its kernels are AVX-512); available here: {}", names));
#endif
  if (wanted == "xnnpack" || wanted == "onednn")
    return Status(Error::InvalidArgument,
                  fmt::format("backend '{0}' is not linked into this program (available: {1}); link tessera::{0} "
                              "(CMake) or tessera-{0} (pkg-config)",
                              wanted, names));
  return Status(Error::InvalidArgument, fmt::format("unknown backend '{}'; available: {}", name, names));
}

}  // namespace

bool register_backend(const BackendEntry& entry) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto named = [&](const BackendEntry& e) { return std::string(e.name) == entry.name; };
  if (std::find_if(r.entries.begin(), r.entries.end(), named) != r.entries.end()) return true;
  auto after = std::find_if(r.entries.begin() + 1, r.entries.end(),
                            [&](const BackendEntry& e) { return std::string(e.name) > entry.name; });
  r.entries.insert(after, entry);
  return true;
}

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
  for (const BackendEntry& e : entries()) names.push_back(e.name);
  return names;
}

std::string auto_backend(const std::string& precision) {
  std::vector<BackendEntry> all = entries();
  if (precision == "bf16")
    for (const BackendEntry& e : all)
      if (std::string(e.name) == "onednn") return e.name;
  const BackendEntry* best = &all.front();
  for (const BackendEntry& e : all)
    if (e.auto_rank() > best->auto_rank()) best = &e;
  return best->name;
}

Result<MemoryPlan> backend_memory_plan(const std::string& name, const ModelData& model) {
  TESSERA_ASSIGN_OR_RETURN(BackendEntry e, find_backend(name));
  if (!e.memory_plan) return model.plan;
  return e.memory_plan(model);
}

Result<std::unique_ptr<BackendSession>> create_backend(const std::string& name, const ModelData& model,
                                                       const MemoryPlan& memory, const SessionOptions& options,
                                                       uint8_t* arena) {
  TESSERA_ASSIGN_OR_RETURN(BackendEntry e, find_backend(name));
  return e.create(model, memory, options, arena);
}

}  // namespace tessera
