// tessera: compile, inspect and run dynamic-shape image models.
#include <cstdio>
#include <map>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tessera: memory-efficient tiled inference of image models with dynamic shapes"};
  app.require_subcommand(1);
  std::map<CLI::App*, tessera::cli::Command> commands;
  for (auto add : {tessera::cli::add_compile, tessera::cli::add_info, tessera::cli::add_run, tessera::cli::add_verify,
                   tessera::cli::add_bench}) {
    CLI::App* sub = nullptr;
    size_t before = app.get_subcommands({}).size();
    tessera::cli::Command run = add(app);
    sub = app.get_subcommands({})[before];
    commands[sub] = run;
  }
  CLI11_PARSE(app, argc, argv);
  for (auto& [sub, run] : commands) {
    if (!sub->parsed()) continue;
    tessera::Status status = run();
    if (!status.ok()) {
      std::fprintf(stderr, "tessera: error: %s\n", status.message().c_str());
      return status.code() == tessera::Error::Cancelled ? 130 : 1;
    }
  }
  return 0;
}
