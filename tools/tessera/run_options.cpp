// The options run, verify and bench share: --backend, and --tile, --halo and --threads with their
// check against the loaded model.
#include <fmt/format.h>

#include <thread>

#include "commands.h"

namespace tessera::cli {

void add_backend_option(CLI::App* sub, std::string& backend) {
  std::string names = "auto";
  for (const std::string& b : available_backends()) names += "|" + b;
  sub->add_option("--backend", backend, names + " (default auto: " + auto_backend() + " here)");
}

TilingCheck add_tiling_options(CLI::App* sub, tiling::TilePlanOptions& tiles, int& threads) {
  CLI::Option* tile = sub->add_option("--tile", tiles.tile, "core tile size in input pixels (default: the largest the model takes)");
  sub->add_option("--halo", tiles.halo, "a minimum halo in input pixels (enlarges the derived halo, never shrinks it)");
  sub->add_option("--threads", threads,
                  fmt::format("threads in all, 1..{} (default 1): tiled, one tile worker per thread; whole image, "
                              "inside the run",
                              kMaxThreads));
  return [tile, &tiles, &threads](const Model& model) -> Status {
    TESSERA_RETURN_IF_ERROR(require(threads >= 1 && threads <= kMaxThreads, Error::InvalidArgument,
                                    "--threads {} is outside 1..{}; give at most the CPUs that should work on it ({} "
                                    "here)",
                                    threads, kMaxThreads, std::thread::hardware_concurrency()));
    TESSERA_RETURN_IF_ERROR(require(tiles.halo >= 0, Error::InvalidArgument,
                                    "--halo {} is negative; give 0 or more pixels, or leave it out", tiles.halo));
    if (tile->count() == 0) return {};
    Result<int64_t> smallest = tiling::smallest_tile(model);
    if (!smallest.ok()) return Status(smallest.status().code(), "--tile: " + smallest.status().message());
    return require(tiles.tile >= *smallest, Error::InvalidArgument,
                   "--tile {} is below the smallest tile the model takes, {}; give --tile {} or more (tessera info "
                   "shows the model's dims and alignment), or leave --tile out for the largest",
                   tiles.tile, *smallest, *smallest);
  };
}

}  // namespace tessera::cli
