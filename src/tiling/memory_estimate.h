// The arena estimate on a memory plan already made (plan_run evaluates many window shapes).
#pragma once

#include "planner/memory_planner.h"
#include "runtime/model_data.h"

namespace tessera::tiling {

// arena_resident_bytes (tessera/tiling.h) for the arena that `plan` lays out.
Result<int64_t> arena_resident_bytes(const ModelData& model, const MemoryPlan& plan, int64_t height, int64_t width);

}  // namespace tessera::tiling
