// Reads a .tsr file held in memory and checks every offset, size and index in it before anything
// uses them (the file is untrusted). The graph's constants point into `bytes`, which must outlive it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "format/model_file.h"

namespace tessera {

// `path` names the file in errors; `weights_bytes` receives the size of the weights segment.
Result<ModelFile> read_tsr(std::span<const uint8_t> bytes, const std::string& path, int64_t* weights_bytes);

}  // namespace tessera
