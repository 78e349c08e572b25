// Running another program from the tessera command (npm and tar for models, this tessera's own run
// for bench --one-shot): output to a log file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::cli {

// The full path of `program` on $PATH (the first executable regular file of that name), if any.
std::optional<std::string> find_on_path(const std::string& program);

struct ProgramRun {
  std::string executable;                 // a full path (find_on_path)
  std::vector<std::string> args;          // argv[1..]
  std::string working_dir;                // where it runs
  std::string log_path;                   // its stdout and stderr; stdin is /dev/null
  std::vector<std::string> extra_env;     // "NAME=value" added to (or replacing) this process's environment
};

// Runs the program to its end with default signal handling (not tessera's handlers) and returns its
// exit code (128 + N when signal N ended it). Fails only when it cannot be started.
Result<int> run_program(const ProgramRun& run);

}  // namespace tessera::cli
