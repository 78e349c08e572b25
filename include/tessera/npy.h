// NumPy .npy files (format 1.0/2.0/3.0) of float32 tensors: the CLI's tensor input and output.
#pragma once

#include <string>

#include "tessera/status.h"
#include "tessera/tensor.h"

namespace tessera {

// Reads a C-ordered little-endian float32 array; any other dtype is a DTypeMismatch naming it.
Result<Tensor> read_npy(const std::string& path);

// Writes to a temporary file beside `path`, renamed at the end: no partial file on failure.
Status write_npy(const std::string& path, ConstTensorView tensor);

}  // namespace tessera
