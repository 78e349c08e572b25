// tessera: compile, inspect and run dynamic-shape image models.
#include <csignal>
#include <cstdio>
#include <map>
#include <string>

#include "commands.h"
#include "interrupt.h"

int main(int argc, char** argv) {
  tessera::cli::install_signal_cleanup();
  CLI::App app{"tessera: memory-efficient tiled inference of image models with dynamic shapes"};
  app.require_subcommand(1);
  std::map<CLI::App*, tessera::cli::Command> commands;
  for (auto add : {tessera::cli::add_compile, tessera::cli::add_info, tessera::cli::add_run, tessera::cli::add_verify,
                   tessera::cli::add_bench, tessera::cli::add_models}) {
    CLI::App* sub = nullptr;
    size_t before = app.get_subcommands({}).size();
    tessera::cli::Command run = add(app);
    sub = app.get_subcommands({})[before];
    commands[sub] = run;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A usage error, in the same form as every other error.
    std::string command;
    for (CLI::App* sub : app.get_subcommands()) command = " " + sub->get_name();
    std::fprintf(stderr, "tessera: error: %s; see tessera%s --help\n", e.what(), command.c_str());
    return 2;
  }
  for (auto& [sub, run] : commands) {
    if (!sub->parsed()) continue;
    tessera::Status status = run();
    if (!status.ok()) {
      // One line, whatever names from files the message quotes.
      std::fprintf(stderr, "tessera: error: %s\n", tessera::printable(status.message()).c_str());
      if (status.code() != tessera::Error::Cancelled) return 1;
      int sig = tessera::cli::interrupt_signal();
      return 128 + (sig != 0 ? sig : SIGINT);
    }
  }
  return 0;
}
