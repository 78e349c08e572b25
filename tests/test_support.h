// Helpers shared by the tests: the exported test models and the comparison with PyTorch outputs.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compile/compiler.h"
#include "io/npy.h"
#include "tessera/session.h"

namespace tessera::testing {

inline std::string testdata(const std::string& name) { return std::string(TESSERA_TESTDATA_DIR) + "/" + name; }

struct ModelCase {
  std::string input;
  std::string expected;
};

struct TestModel {
  std::string name;
  std::string onnx;
  std::vector<std::string> dims;
  std::string kind;
  bool tileable = true;
  std::vector<ModelCase> cases;
};

// The models listed in the manifest that tests/models/make_models.py wrote.
const std::vector<TestModel>& test_models();
const TestModel& test_model(const std::string& name);

// Compiles a test model to <testdata>/<name>.tsr and loads it.
std::shared_ptr<const Model> compile_and_load(const TestModel& m);

// The largest |a - b|, and the largest |b| (the output's scale).
struct Difference {
  double max_abs = 0;
  double scale = 0;
};
Difference compare(ConstTensorView actual, ConstTensorView expected);

}  // namespace tessera::testing
