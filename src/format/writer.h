// Writes a compiled model as a .tsr file: to a temporary name beside the target, renamed at the end.
#pragma once

#include <string>

#include "compile/compiler.h"

namespace tessera {

Status write_tsr(const CompiledModel& model, const std::string& path);

}  // namespace tessera
