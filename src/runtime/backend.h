// The interface between a Session and the code that runs a model's nodes. A backend follows
// XNNPACK's lifecycle: create (once per session: pack weights, make operator objects; the
// session's arena is known from here on and never moves), reshape (only when the input shapes
// change: set the operators up over the arena; per-shape work may be cached), run (no heap
// allocation, nothing but the nodes' work).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/model_data.h"
#include "tessera/session.h"

namespace tessera {

class BackendSession {
 public:
  virtual ~BackendSession() = default;

  // The graph's input shapes changed; `shapes` holds every value's shape for them and stays valid
  // (and unchanged) until the next reshape.
  virtual Status reshape(std::span<const Shape> shapes) = 0;

  // Runs every node. `inputs` are the graph inputs in the model's layout (NCHW), in caller memory
  // that may move between runs. The graph outputs must end up in NCHW at their planned offsets.
  virtual Status run(std::span<const ConstTensorView> inputs) = 0;

  // Memory the backend holds beyond the arena and the mapped weights (packed weights, indirection
  // buffers, layout scratch), for the memory figures that tools print.
  virtual int64_t extra_bytes() const = 0;

  // The nodes this backend hands to the reference kernels because it lacks them, e.g. "Resize '/up'".
  virtual std::vector<std::string> fallbacks() const = 0;

  // Per value, whether a run writes it in the arena; empty: every value the memory plan places (an
  // estimate on the safe side for a backend that folds some). A backend that folds a node into
  // another never writes the folded node's output, whose pages then stay untouched.
  virtual std::span<const char> stored_values() const { return {}; }
};

// A backend as the runtime knows it. The reference backend is part of the runtime; XNNPACK and oneDNN are
// libraries of their own that register themselves when they are linked in (src/backends/*/register.cpp).
struct BackendEntry {
  const char* name;
  Result<std::unique_ptr<BackendSession>> (*create)(const ModelData& model, const MemoryPlan& memory,
                                                    const SessionOptions& options, uint8_t* arena);
  Result<MemoryPlan> (*memory_plan)(const ModelData& model);  // nullptr: the model's own plan
  int (*auto_rank)();  // how much "auto" wants this backend on this CPU; the highest wins
};

// Adds a backend; returns true (for a static initializer to hold).
bool register_backend(const BackendEntry& entry);

// The memory plan the backend `name` ("reference", "xnnpack", "onednn") runs `model` on: the
// model's own, or one of the backend's (XNNPACK stores the pieces of a channel Concat inside it).
Result<MemoryPlan> backend_memory_plan(const std::string& name, const ModelData& model);

// Makes the backend `name` for one session, whose arena `arena` holds memory.arena_bytes laid out by
// `memory` (backend_memory_plan's) for the session's life.
Result<std::unique_ptr<BackendSession>> create_backend(const std::string& name, const ModelData& model,
                                                       const MemoryPlan& memory, const SessionOptions& options,
                                                       uint8_t* arena);

}  // namespace tessera
