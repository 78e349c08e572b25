// The whole image as the model's input [1, C, H, W] in its pixel range, converted as `tessera run`
// converts it, for tools that compare runs in memory (tessera verify); `tessera run` streams instead.
#pragma once

#include <string>

#include "tessera/model.h"
#include "tessera/tensor.h"

namespace tessera {

Result<Tensor> read_image_tensor(const std::string& path, const Model& model);

}  // namespace tessera
