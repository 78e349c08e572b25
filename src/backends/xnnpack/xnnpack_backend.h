// Makes a session of the XNNPACK backend (see runtime/backend.h).
#pragma once

#include "runtime/backend.h"

namespace tessera::xnnpack {

Result<std::unique_ptr<BackendSession>> create_backend_session(const ModelData& model, const SessionOptions& options,
                                                       uint8_t* arena);

}  // namespace tessera::xnnpack
