#include "errors.h"

#include <map>
#include <string>

namespace py = pybind11;

namespace tessera::python {

namespace {

// Error code name ("dim out of range") → exception class; filled once at import by the package.
std::map<std::string, py::object>& classes() {
  static auto* map = new std::map<std::string, py::object>;  // never destroyed: lives as long as the interpreter
  return *map;
}

}  // namespace

void raise(const Status& status) {
  auto it = classes().find(error_name(status.code()));
  PyObject* type = it != classes().end() ? it->second.ptr() : PyExc_RuntimeError;
  // printable(): one line, and valid UTF-8 whatever names from a file the message quotes (Python
  // would otherwise raise a UnicodeDecodeError in its place).
  PyErr_SetString(type, printable(status.message()).c_str());
  throw py::error_already_set();
}

void bind_errors(py::module_& module) {
  module.def(
      "register_errors",
      [](const py::dict& mapping) {
        for (auto [name, type] : mapping) classes()[name.cast<std::string>()] = py::reinterpret_borrow<py::object>(type);
      },
      "Maps tessera's error code names to the exception classes raised for them (called by the package).");
  py::list names;
  for (int code = static_cast<int>(Error::InvalidArgument); code <= static_cast<int>(Error::Internal); ++code)
    names.append(error_name(static_cast<Error>(code)));
  module.attr("error_names") = names;
}

}  // namespace tessera::python
