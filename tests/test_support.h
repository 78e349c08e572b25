// Helpers of the tests that compile models or run the tessera command (tessera_tests): on top of
// runtime_support.h, which the runtime tests share.
#pragma once

#include <string>

#include "compile/compiler.h"
#include "runtime_support.h"

namespace tessera::testing {

// Compiles a test model to <testdata>/<name>.tsr and loads it.
std::shared_ptr<const Model> compile_and_load(const TestModel& m);

// Runs the tessera CLI with `args` (already quoted for the shell), capturing its output in `dir`.
struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// `tessera ARGS` with stdout and stderr captured in `dir`; `env` ("NAME=value ...") goes before it.
CliResult run_cli(const TempDir& dir, const std::string& args, const std::string& env = "");
// `tessera compile` of the test data's `onnx` to dir/name with `options` (--dim ...): the path, or
// "" (and a test failure with the CLI's message) when it fails.
std::string compile_with_cli(const TempDir& dir, const std::string& onnx, const std::string& name,
                             const std::string& options);

// The test model compiled for `range` on both height and width, to <testdata>/<name>.<tag>.tsr.
// `pixel_max` is the top of the pixel range stored in the .tsr (the bottom is 0).
std::shared_ptr<const Model> compile_with_range(const TestModel& m, const DimInfo& range, const std::string& tag,
                                                float pixel_max = 1.0f);

// dir/in_HxW.npy: a [1, 3, h, w] float32 tensor uniform in [0, 1) from `seed`; returns its path.
std::string write_random_npy(const TempDir& dir, int64_t h, int64_t w, uint32_t seed);
// The ONNX model at `onnx_path` compiled for height and width in [8, max] to dir/name, loaded;
// null (and a test failure) when either fails.
std::shared_ptr<const Model> compile_small_onnx(const TempDir& dir, const std::string& onnx_path, int64_t max,
                                                const std::string& name);

}  // namespace tessera::testing
