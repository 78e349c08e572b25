#include "runtime_support.h"

#include "core/temp_path.h"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <sstream>

#include "runtime/backend.h"
#include "runtime/model_data.h"
#include "tessera/tiling.h"

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

std::shared_ptr<const Model> load_test_model(const TestModel& m, const std::string& variant) {
  const std::string path = testdata("compiled/" + m.name + (variant.empty() ? "" : "." + variant) + ".tsr");
  Result<std::shared_ptr<const Model>> model = Model::load(path);
  EXPECT_TRUE(model.ok()) << m.name << ": " << model.status().message()
                          << " (the build step tests/runtime/compile_test_models.py writes it)";
  return model.ok() ? *model : nullptr;
}

std::string recorded_reference(const ModelCase& c) {
  // tiny/in_256x256.npy -> compiled/tiny/in_256x256.reference.npy
  return testdata("compiled/" + c.input.substr(0, c.input.size() - 4) + ".reference.npy");
}

const std::string& compiled_on() {
  static const std::string machine = [] {
    std::ifstream in(testdata("compiled/manifest.json"));
    return in.good() ? nlohmann::json::parse(in).value("machine", std::string("?")) : std::string("?");
  }();
  return machine;
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

TempDir::TempDir() {
  std::string pattern = ::testing::TempDir() + "tessera_test_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  // A new file rather than a truncated one: rewriting a file in place can cost milliseconds (ext4 flushes
  // on truncate), which adds up in loops that write thousands of corrupted copies.
  std::remove(path.c_str());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) throw std::runtime_error("cannot write " + path);
}

bool file_exists(const std::string& path) { return std::filesystem::exists(path); }

std::string npy_bytes(const std::string& descr, bool fortran_order, const std::string& shape, const std::string& payload) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + payload;
}

bool temp_file_left(const std::string& path) {
  std::filesystem::path p(path);
  std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  const std::string prefix = p.stem().string() + ".tessera-tmp-";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && parse_temp_name(name)) return true;
  }
  return false;
}

std::vector<std::string> backends_under_test() { return available_backends(); }

bool backend_built(const std::string& name) {
  std::vector<std::string> names = available_backends();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void PrintTo(const TestModel& model, std::ostream* os) { *os << model.name; }
void PrintTo(const BackendCase& c, std::ostream* os) {
  *os << c.model.name << " on " << c.backend << " " << c.precision;
}

std::vector<BackendCase> backend_cases(bool (*keep)(const TestModel&)) {
  std::vector<BackendCase> out;
  for (const std::string& b : backends_under_test())
    for (const TestModel& m : test_models())
      if (keep(m)) {
        out.push_back({m, b});
        if (b == "onednn") out.push_back({m, b, "bf16"});
      }
  return out;
}

std::string backend_case_name(const ::testing::TestParamInfo<BackendCase>& info) {
  const BackendCase& c = info.param;
  return c.model.name + "_" + c.backend + (c.precision == "fp32" ? "" : "_" + c.precision);
}

Tensor random_image(int64_t channels, int64_t h, int64_t w, uint32_t seed) {
  Tensor t(Shape{1, channels, h, w});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.element_count(); ++i) t.data()[i] = u(rng);
  return t;
}

Tensor random_input(const Model& model, int64_t h, int64_t w, uint32_t seed) {
  const ModelData& d = model.data();
  return random_image(d.upper_shapes[d.graph.inputs[0]][1], h, w, seed);
}

Tensor copy_of(ConstTensorView view) {
  Tensor t(view.shape);
  std::memcpy(t.data(), view.data, t.element_count() * sizeof(float));
  return t;
}

Result<Tensor> run_copy(Session& session, const Tensor& image) {
  ConstTensorView view = image.view();
  Result<std::span<const TensorView>> out = session.run({&view, 1});
  if (!out.ok()) return out.status();
  return copy_of((*out)[0]);
}

void expect_matches_reference_and_tiles_stitch(const std::shared_ptr<const Model>& model,
                                               const std::shared_ptr<const Model>& whole, const std::string& backend) {
  Result<std::unique_ptr<Session>> fast = Session::create(model, {backend, 2});
  Result<std::unique_ptr<Session>> reference = Session::create(model, {"reference", 1});
  ASSERT_TRUE(fast.ok() && reference.ok());
  EXPECT_TRUE((*fast)->fallbacks().empty());
  for (auto [h, w] : {std::pair{8, 8}, std::pair{96, 96}, std::pair{37, 90}, std::pair{61, 13}}) {
    Tensor image = random_input(*model, h, w, static_cast<uint32_t>(h + w));
    Result<Tensor> got = run_copy(**fast, image), want = run_copy(**reference, image);
    ASSERT_TRUE(got.ok() && want.ok()) << got.status().message();
    Difference d = compare(got->view(), want->view());
    EXPECT_LE(d.max_abs, 1e-5 * std::max(d.scale, 1e-2)) << h << "x" << w;
  }

  Tensor image = random_input(*model, 150, 170, 9);
  Result<std::unique_ptr<Session>> session = Session::create(whole, {backend, 2});
  ASSERT_TRUE(session.ok());
  Result<Tensor> full = run_copy(**session, image);
  ASSERT_TRUE(full.ok());
  for (int64_t tile : {24, 41}) {
    Result<Tensor> tiled = tiling::run_tiled(model, image.view(), {tile, 0}, {.threads = 3, .backend = backend});
    ASSERT_TRUE(tiled.ok()) << tiled.status().message();
    EXPECT_EQ(bit_differences(*tiled, *full), 0) << "tile " << tile;
  }
}

int64_t bit_differences(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape())) return -1;
  int64_t n = 0;
  for (int64_t i = 0; i < a.element_count(); ++i) n += std::memcmp(a.data() + i, b.data() + i, sizeof(float)) != 0;
  return n;
}

}  // namespace tessera::testing
