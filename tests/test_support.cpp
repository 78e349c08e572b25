#include "test_support.h"

#include <cmath>
#include <fstream>

#include "compile/dims.h"

namespace tessera::testing {

const std::vector<TestModel>& test_models() {
  static const std::vector<TestModel> models = [] {
    std::vector<TestModel> out;
    std::ifstream in(testdata("manifest.json"));
    if (!in.good()) return out;
    nlohmann::json j = nlohmann::json::parse(in);
    for (const auto& m : j["models"]) {
      TestModel t;
      t.name = m["name"];
      t.onnx = m["onnx"];
      t.dims = m["dims"].get<std::vector<std::string>>();
      t.kind = m["kind"];
      t.tileable = m["tileable"];
      for (const auto& c : m["cases"]) t.cases.push_back({c["input"], c["expected"]});
      out.push_back(t);
    }
    return out;
  }();
  return models;
}

const TestModel& test_model(const std::string& name) {
  for (const TestModel& m : test_models())
    if (m.name == name) return m;
  throw std::runtime_error("no test model " + name + " in the manifest");
}

std::shared_ptr<const Model> compile_and_load(const TestModel& m) {
  CompileOptions options;
  for (const std::string& d : m.dims) {
    Result<ir::DynamicDim> dim = parse_dim(d);
    EXPECT_TRUE(dim.ok()) << dim.status().message();
    options.dims.push_back(*dim);
  }
  std::string path = testdata(m.name + ".tsr");
  Result<CompiledModel> compiled = compile_file(testdata(m.onnx), path, options);
  EXPECT_TRUE(compiled.ok()) << m.name << ": " << compiled.status().message();
  if (!compiled.ok()) return nullptr;
  Result<std::shared_ptr<const Model>> model = Model::load(path);
  EXPECT_TRUE(model.ok()) << m.name << ": " << model.status().message();
  return model.ok() ? *model : nullptr;
}

Difference compare(ConstTensorView actual, ConstTensorView expected) {
  Difference d;
  if (!(actual.shape == expected.shape)) {
    ADD_FAILURE() << "shape " << actual.shape.to_string() << " != expected " << expected.shape.to_string();
    d.max_abs = INFINITY;
    return d;
  }
  for (int64_t i = 0; i < expected.shape.element_count(); ++i) {
    d.max_abs = std::max(d.max_abs, static_cast<double>(std::fabs(actual.data[i] - expected.data[i])));
    d.scale = std::max(d.scale, static_cast<double>(std::fabs(expected.data[i])));
  }
  return d;
}

}  // namespace tessera::testing
