// Tiled runs and image files from Python (run_tiled, verify, run_image); see tiled.cpp.
#pragma once

#include <pybind11/pybind11.h>

namespace tessera::python {

void bind_tiled(pybind11::module_& module);

}  // namespace tessera::python
