#include "arrays.h"

#include <fmt/format.h>

#include <cstring>
#include <vector>

#include "errors.h"

namespace py = pybind11;

namespace tessera::python {

namespace {

py::array checked_array(const py::handle& object, const std::string& what) {
  if (!py::isinstance<py::array>(object))
    throw py::type_error(fmt::format("{} is a {}; pass a numpy.ndarray (or a torch CPU tensor) of float32", what,
                                     py::str(py::type::of(object).attr("__name__")).cast<std::string>()));
  auto array = py::reinterpret_borrow<py::array>(object);
  // Equal, not the same object: an unpickled array (from a Dask worker) has a dtype of its own.
  if (!array.dtype().attr("__eq__")(py::dtype::of<float>()).cast<bool>())
    raise(Status(Error::DTypeMismatch,
                 fmt::format("{} is {}; tessera computes in float32: convert it with x.astype(numpy.float32)", what,
                             py::str(array.dtype()).cast<std::string>())));
  if (!(array.flags() & py::array::c_style))
    raise(Status(Error::InvalidArgument,
                 fmt::format("{} is not C-contiguous (a transposed, strided or sliced view); pass "
                             "numpy.ascontiguousarray(x), or x.contiguous() for a torch tensor",
                             what)));
  if (array.ndim() < 1 || array.ndim() > kMaxRank)
    raise(Status(Error::RankMismatch, fmt::format("{} has {} axes; tessera takes 1 to {}", what, array.ndim(), kMaxRank)));
  return array;
}

Shape shape_of(const py::array& array) {
  Shape shape;
  for (py::ssize_t axis = 0; axis < array.ndim(); ++axis) shape.push_back(array.shape(axis));
  return shape;
}

}  // namespace

ConstTensorView input_view(const py::handle& object, const std::string& what) {
  py::array array = checked_array(object, what);
  return {static_cast<const float*>(array.data()), shape_of(array)};
}

py::array_t<float> to_array(ConstTensorView tensor) {
  std::vector<py::ssize_t> dims(tensor.shape.begin(), tensor.shape.end());
  py::array_t<float> array(dims);
  std::memcpy(array.mutable_data(), tensor.data, tensor.shape.element_count() * sizeof(float));
  return array;
}

void copy_into(ConstTensorView tensor, const py::handle& object, const std::string& what) {
  py::array out = checked_array(object, what);
  if (!out.writeable()) raise(Status(Error::InvalidArgument, fmt::format("{} is read-only", what)));
  if (!(shape_of(out) == tensor.shape))
    raise(Status(Error::InvalidArgument, fmt::format("{} has shape {}; this output is {}", what,
                                                     shape_of(out).to_string(), tensor.shape.to_string())));
  std::memcpy(out.mutable_data(), tensor.data, tensor.shape.element_count() * sizeof(float));
}

}  // namespace tessera::python
