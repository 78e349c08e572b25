// Helpers of the tests that need only the runtime (tests/runtime/, built for every CPU): the test
// models exported from PyTorch and compiled on the build machine, temporary files, comparisons.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "tessera/npy.h"
#include "tessera/session.h"

// EXPECT_CONTAINS(status.message(), "256..1024"): on failure prints the whole text and the missing part.
#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, text)

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

// The test models as the build machine compiled them (tests/runtime/compile_test_models.py, a build
// step): <testdata>/compiled/<name>.tsr for the manifest's dims and, for a tileable model,
// <name>.wide.tsr for images up to 4 x max + 64 (at most 1400), the whole-image runs that tiled
// runs are compared with. On another CPU these are the same bytes: the .tsr format is portable.
std::shared_ptr<const Model> load_test_model(const TestModel& m, const std::string& variant = "");
// The reference backend's output on the case's input on the build machine, as the compile step
// recorded it; and that machine's name ("x86_64").
std::string recorded_reference(const ModelCase& c);
const std::string& compiled_on();

// The largest |a - b|, and the largest |b| (the output's scale).
struct Difference {
  double max_abs = 0;
  double scale = 0;
};
Difference compare(ConstTensorView actual, ConstTensorView expected);

// A fresh directory under ::testing::TempDir(), removed with everything in it at the end of the scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Whole-file helpers for tests that corrupt or hand-write files.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
bool file_exists(const std::string& path);
// Whether a temporary file of a write to `path` (NAME.tessera-tmp-*) is left beside it.
bool temp_file_left(const std::string& path);

// The bytes of a .npy file (format 1.0) with the given header fields, e.g. npy_bytes("<f8", false, "(1, 1, 2, 2)",
// payload): for tests of inputs that write_npy cannot produce.
std::string npy_bytes(const std::string& descr, bool fortran_order, const std::string& shape, const std::string& payload);

// Every backend built into this tessera: the shared checks (against PyTorch, tiled == full) run on
// each of them.
std::vector<std::string> backends_under_test();
bool backend_built(const std::string& name);

// A test model on one backend: the parameter of the checks that run on every backend.
struct BackendCase {
  TestModel model;
  std::string backend;
  std::string precision = "fp32";  // SessionOptions::precision
};
// How gtest prints parameters: by name, not as bytes.
void PrintTo(const TestModel& model, std::ostream* os);
void PrintTo(const BackendCase& c, std::ostream* os);

// Every test model that `keep` accepts, on every backend, and on oneDNN in bf16 too; and the gtest
// name of one ("unet_xnnpack", "unet_onednn_bf16").
std::vector<BackendCase> backend_cases(bool (*keep)(const TestModel&));
std::string backend_case_name(const ::testing::TestParamInfo<BackendCase>& info);
#define TESSERA_SKIP_WITHOUT_BACKEND(name) \
  if (!::tessera::testing::backend_built(name)) GTEST_SKIP() << "built without the " << (name) << " backend"

// A [1, channels, h, w] image of seeded values in [-1, 1).
Tensor random_image(int64_t channels, int64_t h, int64_t w, uint32_t seed);
// The model's input shape at h x w, filled as random_image does.
Tensor random_input(const Model& model, int64_t h, int64_t w, uint32_t seed);
Tensor copy_of(ConstTensorView view);
// A copy of the first output of `session` run on `image`.
Result<Tensor> run_copy(Session& session, const Tensor& image);
// How many elements differ in their bits (-1 when the shapes differ).
int64_t bit_differences(const Tensor& a, const Tensor& b);

// `backend` on `model` (compiled for [8, 96]) gives the reference backend's output (within 1e-5 of
// its scale) at several sizes and lists no fallback, and its tiled runs (tiles of 24 and 41, 3
// threads) stitch bit for bit into its full run of `whole` (the same network for larger images)
// on a 150x170 image.
void expect_matches_reference_and_tiles_stitch(const std::shared_ptr<const Model>& model,
                                               const std::shared_ptr<const Model>& whole, const std::string& backend);

// A path quoted for the shell (test paths hold no quotes).
inline std::string sh(const std::string& path) { return "'" + path + "'"; }

}  // namespace tessera::testing
