// tessera run MODEL.tsr IN.npy OUT.npy [--backend reference]
#include <chrono>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "io/npy.h"
#include "tessera/session.h"

namespace tessera::cli {

namespace {

struct RunArgs {
  std::string model;
  std::string input;
  std::string output;
  std::string backend = "reference";
};

Status run_run(const RunArgs& args) {
  TESSERA_CHECK(args.backend == "reference", Error::InvalidArgument,
                "unknown --backend '{}'; available: reference", args.backend);
  std::error_code ec;
  TESSERA_CHECK(!std::filesystem::equivalent(args.input, args.output, ec), Error::InvalidArgument,
                "the output '{}' is the input file; choose another output path", args.output);
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(args.model));
  TESSERA_ASSIGN_OR_RETURN(Tensor input, read_npy(args.input));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::create(model));
  ConstTensorView view = input.view();
  auto start = std::chrono::steady_clock::now();
  TESSERA_ASSIGN_OR_RETURN(std::span<const TensorView> outputs, session->run({&view, 1}));
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  TESSERA_CHECK(outputs.size() == 1, Error::Unsupported,
                "the model has {} outputs; tessera run writes models with one output", outputs.size());
  TESSERA_RETURN_IF_ERROR(write_npy(args.output, outputs[0]));
  fmt::print("{} {} -> {} {} in {:.1f} ms ({} backend)\n", args.input, input.shape().to_string(), args.output,
             outputs[0].shape.to_string(), ms, args.backend);
  return {};
}

}  // namespace

Command add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "run a compiled model on a float32 .npy tensor in the model's layout");
  sub->add_option("model", args->model, "the .tsr file")->required();
  sub->add_option("input", args->input, "input .npy (float32, e.g. [1, C, H, W])")->required();
  sub->add_option("output", args->output, "output .npy")->required();
  sub->add_option("--backend", args->backend, "reference (default)");
  return [args] { return run_run(*args); };
}

}  // namespace tessera::cli
