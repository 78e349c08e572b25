// Makes a session of the XNNPACK backend (see runtime/backend.h).
#pragma once

#include "runtime/backend.h"

namespace tessera::xnnpack {

Result<std::unique_ptr<BackendSession>> create_backend_session(const ModelData& model, const MemoryPlan& memory,
                                                               const SessionOptions& options, uint8_t* arena);

// The memory plan the backend runs the model on: the model's own, with the pieces of channel Concats
// stored in the Concat's channels where their producer and readers take a pixel stride (the
// Concat then copies nothing).
Result<MemoryPlan> memory_plan(const ModelData& model);

}  // namespace tessera::xnnpack
