// NumPy arrays as tessera tensors: a C-contiguous float32 array is read in place; anything else is
// refused with the conversion that fixes it.
#pragma once

#include <pybind11/numpy.h>

#include <string>

#include "tessera/tensor.h"

namespace tessera::python {

// A view of `array` (kept alive by the caller); raises for a wrong type, dtype, layout or rank.
ConstTensorView input_view(const pybind11::handle& array, const std::string& what);

// A new NumPy array holding a copy of `tensor`.
pybind11::array_t<float> to_array(ConstTensorView tensor);

// Copies `tensor` into the caller's array `out`, which must be float32, C-contiguous, writeable and of
// the tensor's shape.
void copy_into(ConstTensorView tensor, const pybind11::handle& out, const std::string& what);

}  // namespace tessera::python
