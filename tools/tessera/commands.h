// The tessera CLI's subcommands; each registers its options and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <functional>
#include <optional>
#include <string>

#include "tessera/model.h"
#include "tessera/status.h"
#include "tessera/tensor.h"
#include "tessera/tiling.h"

namespace tessera::cli {

using Command = std::function<Status()>;

Command add_compile(CLI::App& app);
Command add_info(CLI::App& app);
Command add_run(CLI::App& app);
Command add_verify(CLI::App& app);
Command add_bench(CLI::App& app);
Command add_models(CLI::App& app);

// --backend and --precision, shared by run, verify and bench.
void add_backend_option(CLI::App* sub, std::string& backend, std::string& precision);

// The backend as a summary line names it: "auto" resolved, and the precision when it is not fp32
// ("onednn bf16"; "(emulated on this CPU: slower than fp32)" after it on a CPU without bf16 products).
std::string backend_text(const std::string& backend, const std::string& precision);

// --tile, --halo, --threads and --memory, shared by run, verify and bench. Sets `threads` to
// tiling::default_threads() and tiles.memory to kDefaultMemory. Returns the check of their values
// against the loaded model, which the command calls before running: a given --tile is at least the
// smallest tile the model takes, --halo is not negative, --threads is 1..kMaxThreads, --memory is a
// size (it fills tiles.memory here). A --tile that recomputes more than tiling::kTileOverheadLimit
// times its pixels passes with tile_warning's line on stderr ("tessera: warning: ...").
using TilingCheck = std::function<Status(const Model&)>;
TilingCheck add_tiling_options(CLI::App* sub, tiling::TilePlanOptions& tiles, int& threads);

// The memory a run may take unless --memory says otherwise: a 3 MP photo through ESRGAN-slim x2 on
// 2 threads peaks under 400 MB with it (docs/benchmarks.md, "Default tile by memory").
constexpr int64_t kDefaultMemory = int64_t{360} << 20;

// "400M", "2G", "1.5G", "123456" (bytes; K, M, G, T are powers of 1024) -> bytes; anything else is an error.
Result<int64_t> parse_memory_size(const std::string& text);

// The warning for a given --tile whose windows recompute more than tiling::kTileOverheadLimit times
// its core's pixels for the model's halo, with the tile that keeps it under 1.5x; nullopt otherwise.
std::optional<std::string> tile_warning(const Model& model, const tiling::TilePlanOptions& tiles);

// The most threads --threads takes.
constexpr int kMaxThreads = 256;

// Whether `path` names a .npy tensor (by its extension, in any case) rather than an image file.
bool is_npy_path(const std::string& path);

// Whether a dynamic axis of `shape` exceeds the model's maximum for its first input.
bool above_max(const Model& model, const Shape& shape);

// A failed Status with a formatted message unless `ok`: the CLI's checks of its arguments and results.
template <typename... Args>
Status require(bool ok, Error code, fmt::format_string<Args...> format, Args&&... args) {
  if (ok) return {};
  return Status(code, fmt::format(format, std::forward<Args>(args)...));
}

// The model's content hash shortened for one-line summaries ("sha256:1a2b3c4d5e6f"), or "without hash".
std::string short_hash(const ModelInfo& info);

// "1.5 MiB"
std::string human_bytes(int64_t bytes);

// A run summary's note on a plan above the default --memory (tiling::RunPlan::above_default_memory).
std::string above_default_memory(int64_t estimated_bytes, int64_t budget);

// The largest resident set size this process has had so far.
int64_t peak_rss_bytes();

}  // namespace tessera::cli
