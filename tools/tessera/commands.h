// The tessera CLI's subcommands; each registers its options and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "tessera/model.h"
#include "tessera/status.h"
#include "tessera/tensor.h"
#include "tiling/tile_plan.h"

namespace tessera::cli {

using Command = std::function<Status()>;

Command add_compile(CLI::App& app);
Command add_info(CLI::App& app);
Command add_run(CLI::App& app);
Command add_verify(CLI::App& app);
Command add_bench(CLI::App& app);

// --backend, shared by run and verify.
void add_backend_option(CLI::App* sub, std::string& backend);

// --tile, --halo and --threads, shared by run and verify.
void add_tiling_options(CLI::App* sub, tiling::TilePlanOptions& tiles, int& threads);

// Whether a dynamic axis of `shape` exceeds the model's maximum for its first input.
bool above_max(const Model& model, const Shape& shape);

// "1.5 MiB"
std::string human_bytes(int64_t bytes);

// The largest resident set size this process has had so far.
int64_t peak_rss_bytes();

}  // namespace tessera::cli
