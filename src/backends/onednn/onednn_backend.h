// Makes a session of the oneDNN backend (see runtime/backend.h).
#pragma once

#include "runtime/backend.h"

namespace tessera::onednn {

Result<std::unique_ptr<BackendSession>> create_backend_session(const ModelData& model, const MemoryPlan& memory,
                                                               const SessionOptions& options, uint8_t* arena);

}  // namespace tessera::onednn
