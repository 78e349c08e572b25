// Writes a .tsr file: to a temporary name beside the target, renamed at the end.
#pragma once

#include <string>

#include "format/model_file.h"

namespace tessera {

Status write_tsr(const ModelFile& model, const std::string& path);

}  // namespace tessera
