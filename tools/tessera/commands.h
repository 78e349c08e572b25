// The tessera CLI's subcommands; each registers its options and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "tessera/status.h"

namespace tessera::cli {

using Command = std::function<Status()>;

Command add_compile(CLI::App& app);
Command add_info(CLI::App& app);
Command add_run(CLI::App& app);

// "1.5 MiB"
std::string human_bytes(int64_t bytes);

}  // namespace tessera::cli
