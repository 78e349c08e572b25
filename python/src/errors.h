// tessera's errors at the Python boundary: a failed Status becomes an exception of the class that the
// pure-Python package registered for its code (tessera.Error and its subclasses, python/tessera/errors.py).
#pragma once

#include <pybind11/pybind11.h>

#include "tessera/status.h"

namespace tessera::python {

// Raises the registered exception for `status` (which must hold an error), with its message.
[[noreturn]] void raise(const Status& status);

// The value of `result`, or the exception for its error.
template <typename T>
T take(Result<T> result) {
  if (!result.ok()) raise(result.status());
  return std::move(result).value();
}

inline void check(const Status& status) {
  if (!status.ok()) raise(status);
}

// Adds _tessera.register_errors(mapping of error code names to exception classes) to `module`.
void bind_errors(pybind11::module_& module);

}  // namespace tessera::python
