// The commands that need the compiler library, in a command built without it
// (-DTESSERA_BUILD_COMPILER=OFF): compile, models and run -m keep their names, hidden from --help, and
// are refused naming what is missing and the fix. A .tsr is the same file on every CPU: it is
// compiled on a machine with the full build and copied to this one.
#include <fmt/format.h>

#include "commands.h"
#include "model_zoo.h"

namespace tessera::cli {

namespace {

constexpr const char* kWithoutCompiler =
    "this tessera is built without the compiler library (-DTESSERA_BUILD_COMPILER=OFF) and runs compiled models only";

// A subcommand, hidden from --help, that takes any arguments and fails with `message`.
Command refused_command(CLI::App& app, const std::string& name, const std::string& message) {
  CLI::App* sub = app.add_subcommand(name, "not in this build: it needs the compiler library");
  sub->group("");
  sub->prefix_command();
  return [message] { return Status(Error::Unsupported, message); };
}

}  // namespace

Command add_compile(CLI::App& app) {
  return refused_command(app, "compile",
                         fmt::format("tessera compile: {}; compile the model on a machine with the full build "
                                     "(tessera compile MODEL.onnx -o MODEL.tsr --dim ...) and copy the .tsr here (a "
                                     ".tsr is the same file on every CPU)",
                                     kWithoutCompiler));
}

Command add_models(CLI::App& app) {
  return refused_command(app, "models",
                         fmt::format("tessera models fetches and compiles pretrained models: {}; run tessera models "
                                     "fetch NAME on a machine with the full build and copy the .tsr it writes "
                                     "(tessera models path NAME) here (a .tsr is the same file on every CPU)",
                                     kWithoutCompiler));
}

void add_pretrained_option(CLI::App* sub, std::string& name) { sub->add_option("-m,--model", name)->group(""); }

Result<std::string> pretrained_model_path(const std::string& name, bool quiet) {
  return Status(Error::Unsupported,
                fmt::format("-m {} fetches and compiles a pretrained model: {}; run tessera models fetch {} on a "
                            "machine with the full build, copy the .tsr it writes (tessera models path {}) here and "
                            "give its path instead of -m",
                            name, kWithoutCompiler, name, name));
}

}  // namespace tessera::cli
