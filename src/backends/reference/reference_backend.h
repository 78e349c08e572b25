// Makes a reference backend session (see runtime/backend.h).
#pragma once

#include "runtime/backend.h"

namespace tessera::reference {

Result<std::unique_ptr<BackendSession>> create_backend_session(const ModelData& model, const MemoryPlan& memory,
                                                               const SessionOptions& options, uint8_t* arena);

}  // namespace tessera::reference
