// _tessera: the C++ API for the pure-Python package (python/tessera/), which is what users import.
// Runs release the GIL; errors are raised as the package's exception classes (errors.h).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <memory>
#include <mutex>
#include <vector>

#include "arrays.h"
#include "errors.h"
#include "tiled.h"
#include "tessera/compiler.h"
#include "tessera/session.h"
#include "tessera/version.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace tessera::python {

namespace {

py::dict describe(const Model& model) {
  const ModelInfo& info = model.info();
  py::list dims, inputs, outputs, axes;
  for (const DimInfo& d : info.dims)
    dims.append(py::dict("name"_a = d.name, "min"_a = d.min, "max"_a = d.max, "multiple_of"_a = d.multiple_of));
  for (const TensorInfo& t : info.inputs) inputs.append(py::dict("name"_a = t.name, "axes"_a = t.axes));
  for (const TensorInfo& t : info.outputs) outputs.append(py::dict("name"_a = t.name, "axes"_a = t.axes));
  for (const AxisTiling& a : info.tiling.axes)
    axes.append(py::dict("halo_before"_a = a.halo_before, "halo_after"_a = a.halo_after, "alignment"_a = a.alignment,
                         "scale"_a = py::make_tuple(a.scale_num, a.scale_den), "offset"_a = a.offset));
  return py::dict("content_hash"_a = info.content_hash.empty() ? py::object(py::none()) : py::str(info.content_hash),
                  "source"_a = info.source, "layout"_a = info.layout, "dims"_a = dims, "inputs"_a = inputs,
                  "outputs"_a = outputs, "arena_bytes"_a = info.arena_bytes, "weights_bytes"_a = info.weights_bytes,
                  "file_bytes"_a = info.file_bytes, "pixel_range"_a = py::make_tuple(info.pixel_min, info.pixel_max),
                  "tileable"_a = info.tiling.tileable, "not_tileable_because"_a = info.tiling.reason,
                  "tiling"_a = axes);
}

// A Session with a lock: one run at a time, from any Python thread.
class Runner {
 public:
  Runner(std::shared_ptr<const Model> model, const std::string& backend, int threads, const std::string& precision)
      : session_(take(Session::create(std::move(model), SessionOptions{backend, threads, precision}))) {}

  // Runs `inputs` (arrays read in place) and returns new arrays, or fills `out` (a list, one per output).
  py::list run(const py::sequence& inputs, const py::object& out) {
    std::vector<ConstTensorView> views;
    for (size_t i = 0; i < inputs.size(); ++i) views.push_back(input_view(inputs[i], fmt::format("input {}", i)));
    std::unique_lock lock(mutex_, std::defer_lock);
    Result<std::span<const TensorView>> outputs = Status(Error::Internal, "not run");
    {
      py::gil_scoped_release release;
      lock.lock();
      outputs = session_->run(views);
    }
    std::span<const TensorView> results = take(std::move(outputs));
    py::list list;
    if (out.is_none()) {
      for (const TensorView& t : results) list.append(to_array(t));
      return list;
    }
    auto targets = out.cast<py::sequence>();
    if (targets.size() != results.size())
      raise(Status(Error::InvalidArgument,
                   fmt::format("out= has {} arrays; the model has {} outputs", targets.size(), results.size())));
    for (size_t i = 0; i < results.size(); ++i) {
      copy_into(results[i], targets[i], fmt::format("out[{}]", i));
      list.append(targets[i]);
    }
    return list;
  }

  const std::string& backend() const { return session_->backend(); }

 private:
  std::unique_ptr<Session> session_;
  std::mutex mutex_;
};

}  // namespace

PYBIND11_MODULE(_tessera, m) {
  m.doc() = "tessera's C++ engine; import the package tessera instead.";
  m.attr("__version__") = TESSERA_VERSION;
  bind_errors(m);
  bind_tiled(m);

  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def_static(
          "load",
          [](const std::string& path) { return std::const_pointer_cast<Model>(take(Model::load(path))); },
          "Maps and verifies a .tsr file.")
      .def("describe", [](const Model& model) { return describe(model); });

  py::class_<Runner>(m, "Runner")
      .def(py::init([](const std::shared_ptr<Model>& model, const std::string& backend, int threads,
                       const std::string& precision) {
             return std::make_unique<Runner>(model, backend, threads, precision);
           }),
           "model"_a, "backend"_a, "threads"_a, "precision"_a = "fp32")
      .def("run", &Runner::run, "inputs"_a, "out"_a = py::none())
      .def_property_readonly("backend", &Runner::backend);

  m.def("available_backends", &available_backends);
  m.def("auto_backend", &auto_backend, "precision"_a = "fp32");
  m.def(
      "check_precision", [](const std::string& backend, const std::string& precision) {
        check(check_precision(backend, precision));
      },
      "backend"_a, "precision"_a);

  m.def(
      "compile",
      [](const std::string& source, const std::string& output,
         const std::vector<std::tuple<std::string, int64_t, int64_t, int64_t>>& dims, float pixel_min,
         float pixel_max) {
        CompileOptions options{{}, pixel_min, pixel_max};
        for (const auto& [name, min, max, multiple_of] : dims) options.dims.push_back({name, min, max, multiple_of});
        Result<std::shared_ptr<const Model>> compiled = Status(Error::Internal, "not compiled");
        {
          py::gil_scoped_release release;
          compiled = compile_model(source, output, options);
        }
        return std::const_pointer_cast<Model>(take(std::move(compiled)));
      },
      "source"_a, "output"_a, "dims"_a, "pixel_min"_a, "pixel_max"_a,
      "Compiles an ONNX model or a TF.js model.json into a .tsr file; dims are (name, min, max, multiple_of).");
}

}  // namespace tessera::python
