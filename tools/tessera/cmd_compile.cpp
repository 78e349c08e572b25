// tessera compile SRC -o OUT.tsr --dim NAME=MIN:MAX[:MULTIPLE] ... [--pixel-range MIN:MAX]
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "commands.h"
#include "tessera/compiler.h"

namespace tessera::cli {

namespace {

struct CompileArgs {
  std::string source;
  std::string output;
  std::vector<std::string> dims;
  std::string pixel_range = "0:1";
};

// MIN:MAX, two finite numbers with MIN below MAX (and a finite span between them).
Result<std::pair<float, float>> parse_pixel_range(const std::string& text) {
  const std::string usage = "expected MIN:MAX, two finite numbers with MIN below MAX, e.g. 0:1 or 0:255";
  size_t colon = text.find(':');
  float values[2] = {0, 0};
  bool ok = colon != std::string::npos && text.find(':', colon + 1) == std::string::npos;
  for (int i = 0; i < 2 && ok; ++i) {
    std::string part = i == 0 ? text.substr(0, colon) : text.substr(colon + 1);
    char* end = nullptr;
    errno = 0;
    values[i] = std::strtof(part.c_str(), &end);
    ok = !part.empty() && end == part.c_str() + part.size() && errno == 0 && std::isfinite(values[i]);
  }
  TESSERA_RETURN_IF_ERROR(require(ok, Error::InvalidArgument, "bad --pixel-range '{}': {}", text, usage));
  TESSERA_RETURN_IF_ERROR(require(values[0] < values[1] && std::isfinite(values[1] - values[0]), Error::InvalidArgument,
                                  "bad --pixel-range '{}': MIN must be below MAX ({})", text, usage));
  return std::make_pair(values[0], values[1]);
}

Status run_compile(const CompileArgs& args) {
  CompileOptions options;
  for (const std::string& d : args.dims) {
    TESSERA_ASSIGN_OR_RETURN(DimInfo dim, parse_dim(d));
    options.dims.push_back(dim);
  }
  TESSERA_ASSIGN_OR_RETURN(auto range, parse_pixel_range(args.pixel_range));
  options.pixel_min = range.first;
  options.pixel_max = range.second;
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, compile_model(args.source, args.output, options));
  const ModelInfo& info = model->info();
  int nodes = 0;
  for (const OpCount& c : info.op_counts) nodes += c.count;
  fmt::print("compiled {} -> {}: {} nodes, arena {} (lower bound {})\n", args.source, args.output, nodes,
             human_bytes(info.arena_bytes), human_bytes(info.lower_bound_bytes));
  return {};
}

}  // namespace

Command add_compile(CLI::App& app) {
  auto args = std::make_shared<CompileArgs>();
  CLI::App* sub = app.add_subcommand(
      "compile", "compile an ONNX model or a TF.js layers-model into a .tsr file with dynamic dims");
  sub->add_option("source", args->source, "the source model: .onnx, or a TF.js layers-model .json")->required();
  sub->add_option("-o,--output", args->output, "the .tsr file to write")->required();
  sub->add_option("--dim", args->dims, "NAME=MIN:MAX[:MULTIPLE] for each dynamic dim (ONNX dim_param)");
  sub->add_option("--pixel-range", args->pixel_range, "the pixel values the model takes, MIN:MAX (default 0:1)");
  return [args] { return run_compile(*args); };
}

}  // namespace tessera::cli
