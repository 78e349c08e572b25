#include "test_support.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fmt/format.h>
#include <random>

#include "compile/dims.h"
#include "tessera/npy.h"

namespace tessera::testing {

std::shared_ptr<const Model> compile_and_load(const TestModel& m) {
  CompileOptions options;
  for (const std::string& d : m.dims) {
    Result<DimInfo> dim = parse_dim(d);
    EXPECT_TRUE(dim.ok()) << dim.status().message();
    options.dims.push_back(*dim);
  }
  std::string path = testdata(m.name + ".tsr");
  Result<ModelFile> compiled = compile_file(testdata(m.onnx), path, options);
  EXPECT_TRUE(compiled.ok()) << m.name << ": " << compiled.status().message();
  if (!compiled.ok()) return nullptr;
  Result<std::shared_ptr<const Model>> model = Model::load(path);
  EXPECT_TRUE(model.ok()) << m.name << ": " << model.status().message();
  return model.ok() ? *model : nullptr;
}

CliResult run_cli(const TempDir& dir, const std::string& args, const std::string& env) {
  std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  std::string command = fmt::format("{}{}{} {} >{} 2>{}", env, env.empty() ? "" : " ", sh(TESSERA_CLI_PATH), args,
                                    sh(out), sh(err));
  int status = std::system(command.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

std::string compile_with_cli(const TempDir& dir, const std::string& onnx, const std::string& name,
                             const std::string& options) {
  const std::string path = dir.file(name);
  CliResult r = run_cli(dir, fmt::format("compile {} -o {} {}", sh(testdata(onnx)), sh(path), options));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? path : "";
}

std::shared_ptr<const Model> compile_with_range(const TestModel& m, const DimInfo& range, const std::string& tag,
                                                float pixel_max) {
  CompileOptions options;
  options.pixel_max = pixel_max;
  for (const char* name : {"height", "width"}) {
    DimInfo d = range;
    d.name = name;
    options.dims.push_back(d);
  }
  std::string path = testdata(m.name + "." + tag + ".tsr");
  Result<ModelFile> compiled = compile_file(testdata(m.onnx), path, options);
  EXPECT_TRUE(compiled.ok()) << m.name << ": " << compiled.status().message();
  if (!compiled.ok()) return nullptr;
  Result<std::shared_ptr<const Model>> model = Model::load(path);
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

std::string write_random_npy(const TempDir& dir, int64_t h, int64_t w, uint32_t seed) {
  Tensor t(Shape{1, 3, h, w});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t i = 0; i < t.element_count(); ++i) t.data()[i] = u(rng);
  std::string path = dir.file(fmt::format("in_{}x{}.npy", h, w));
  EXPECT_TRUE(write_npy(path, t.view()).ok());
  return path;
}

std::shared_ptr<const Model> compile_small_onnx(const TempDir& dir, const std::string& onnx_path, int64_t max,
                                                const std::string& name) {
  CompileOptions options;
  for (const char* dim : {"height", "width"}) options.dims.push_back({dim, 8, max, 1});
  Result<ModelFile> compiled = compile_file(onnx_path, dir.file(name), options);
  EXPECT_TRUE(compiled.ok()) << compiled.status().message();
  Result<std::shared_ptr<const Model>> model = Model::load(dir.file(name));
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

}  // namespace tessera::testing
