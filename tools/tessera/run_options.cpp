// The options run, verify and bench share: --backend and --precision, and --tile, --halo, --threads and --memory
// with their check against the loaded model.
#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <memory>

#include "commands.h"

namespace tessera::cli {

void add_backend_option(CLI::App* sub, std::string& backend, std::string& precision) {
  std::string names = "auto";
  for (const std::string& b : available_backends()) names += "|" + b;
  sub->add_option("--backend", backend, names + " (default auto: " + auto_backend() + " here)");
  sub->add_option("--precision", precision,
                  "fp32|bf16: what convolutions multiply in (default fp32); bf16 runs on the onednn backend, about "
                  "twice as fast on CPUs with AVX512_BF16, within the error docs/precision.md measures")
      ->check(CLI::IsMember({"fp32", "bf16"}));
}

std::string backend_text(const std::string& backend, const std::string& precision) {
  const std::string name = backend == "auto" ? auto_backend(precision) : backend;
  if (precision == "fp32") return name;
#if defined(__x86_64__)
  // Without VDPBF16PS or AMX, oneDNN emulates bf16 products: about 3x slower than fp32 (docs/precision.md).
  if (precision == "bf16" && !__builtin_cpu_supports("avx512bf16") && !__builtin_cpu_supports("amx-bf16"))
    return name + " bf16 (emulated on this CPU: slower than fp32)";
#endif
  return name + " " + precision;
}

Result<int64_t> parse_memory_size(const std::string& text) {
  // Digits with at most one '.' inside, then at most one of K, M, G, T (powers of 1024).
  const std::string units = "KMGT";
  std::string number = text;
  int shift = 0;
  if (!number.empty()) {
    const size_t unit = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(number.back()))));
    if (unit != std::string::npos) {
      shift = 10 * static_cast<int>(unit + 1);
      number.pop_back();
    }
  }
  bool ok = !number.empty() && number.front() != '.' && number.back() != '.';
  int dots = 0;
  for (char c : number) {
    if (c == '.') ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c))) ok = false;
  }
  const double value = ok && dots <= 1 ? std::ldexp(std::strtod(number.c_str(), nullptr), shift) : -1;
  if (!(value >= 0) || value > 9.0e18)
    return Status(Error::InvalidArgument,
                  fmt::format("--memory '{}' is not a size; give bytes, or a number with K, M, G or T (powers of 1024), "
                              "e.g. --memory 400M or --memory 2G (0: no limit)",
                              text));
  return static_cast<int64_t>(value);
}

std::optional<std::string> tile_warning(const Model& model, const tiling::TilePlanOptions& tiles) {
  if (tiles.tile <= 0) return std::nullopt;
  Result<tiling::TileOverhead> o = tiling::tile_overhead(model, tiles.tile, tiles.halo);
  if (!o.ok() || o->ratio <= tiling::kTileOverheadLimit) return std::nullopt;
  const std::string halo = o->halo_before == o->halo_after ? fmt::format("{}", o->halo_before)
                                                           : fmt::format("{}+{}", o->halo_before, o->halo_after);
  const std::string fix = o->tile_under_1_5x > 0
                              ? fmt::format("--tile {} or more keeps it under 1.5x", o->tile_under_1_5x)
                              : "leave --tile out for the largest tile the model takes";
  return fmt::format("--tile {} recomputes {:.0f}x the pixels for the model's halo {}; {}", tiles.tile, o->ratio, halo,
                     fix);
}

TilingCheck add_tiling_options(CLI::App* sub, tiling::TilePlanOptions& tiles, int& threads) {
  threads = tiling::default_threads();
  tiles.memory = kDefaultMemory;
  auto memory_text = std::make_shared<std::string>();
  CLI::Option* tile = sub->add_option("--tile", tiles.tile,
                                      "core tile size in input pixels (default: the largest whose run fits --memory)");
  sub->add_option("--halo", tiles.halo, "a minimum halo in input pixels (enlarges the derived halo, never shrinks it)");
  sub->add_option("--threads", threads,
                  fmt::format("threads in all, 1..{} (default: the {} CPUs this process may use): tiled, one tile "
                              "worker per thread; whole image, inside the run",
                              kMaxThreads, threads));
  sub->add_option_function<std::string>(
      "--memory", [memory_text](const std::string& s) { *memory_text = s; },
      fmt::format("SIZE: the memory a run may take, e.g. 400M or 2G; picks the default tile (default {} MiB; 0: no "
                  "limit)",
                  kDefaultMemory >> 20));
  return [tile, memory_text, &tiles, &threads](const Model& model) -> Status {
    TESSERA_RETURN_IF_ERROR(require(threads >= 1 && threads <= kMaxThreads, Error::InvalidArgument,
                                    "--threads {} is outside 1..{}; give at most the CPUs that should work on it ({} "
                                    "here)",
                                    threads, kMaxThreads, tiling::default_threads()));
    TESSERA_RETURN_IF_ERROR(require(tiles.halo >= 0, Error::InvalidArgument,
                                    "--halo {} is negative; give 0 or more pixels, or leave it out", tiles.halo));
    if (!memory_text->empty()) {
      TESSERA_ASSIGN_OR_RETURN(tiles.memory, parse_memory_size(*memory_text));
    }
    tiles.memory_is_default = memory_text->empty();
    if (tile->count() == 0) return {};
    Result<int64_t> smallest = tiling::smallest_tile(model);
    if (!smallest.ok()) return Status(smallest.status().code(), "--tile: " + smallest.status().message());
    TESSERA_RETURN_IF_ERROR(require(tiles.tile >= *smallest, Error::InvalidArgument,
                                    "--tile {} is below the smallest tile the model takes, {}; give --tile {} or more "
                                    "(tessera info shows the model's dims and alignment), or leave --tile out for the "
                                    "largest",
                                    tiles.tile, *smallest, *smallest));
    // Not an error: a small tile is slow, not wrong.
    if (std::optional<std::string> warning = tile_warning(model, tiles))
      std::fprintf(stderr, "tessera: warning: %s\n", printable(*warning).c_str());
    return {};
  };
}

}  // namespace tessera::cli
