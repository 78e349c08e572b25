// tessera info MODEL.tsr [--json]
#include <fmt/ranges.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "tessera/session.h"

namespace tessera::cli {

namespace {

struct InfoArgs {
  std::string model;
  bool json = false;
};

std::string dim_text(const DimInfo& d) {
  std::string s = fmt::format("{} {}..{}", printable(d.name), d.min, d.max);
  return d.multiple_of > 1 ? s + fmt::format(" (multiples of {})", d.multiple_of) : s;
}

std::string tiling_text(const TilingInfo& t) {
  if (!t.analysed) return "not analysed";
  if (!t.tileable) return "not tileable: " + printable(t.reason);
  std::string s = "tileable;";
  const char* names[] = {"height", "width"};
  for (size_t i = 0; i < t.axes.size() && i < 2; ++i) {
    const AxisTiling& a = t.axes[i];
    s += fmt::format(" {}: halo {}+{}, alignment {}, scale {}/{} offset {}{}", names[i], a.halo_before, a.halo_after,
                     a.alignment, a.scale_num, a.scale_den, a.offset, i == 0 ? ";" : "");
  }
  return s;
}

// Per backend built in: its session's arena (its own memory plan's), the memory it holds beyond
// the arena, and the nodes it hands to the reference kernels.
struct BackendFit {
  std::string name;
  int64_t arena_bytes = 0;
  int64_t extra_bytes = 0;
  std::vector<std::string> fallbacks;
  std::string error;
};

std::vector<BackendFit> backend_fits(std::shared_ptr<const Model> model) {
  std::vector<BackendFit> fits;
  for (const std::string& name : available_backends()) {
    BackendFit fit;
    fit.name = name;
    Result<std::unique_ptr<Session>> session = Session::create(model, SessionOptions{name, 1});
    if (session.ok()) {
      fit.arena_bytes = (*session)->arena_bytes();
      fit.extra_bytes = (*session)->backend_bytes();
      fit.fallbacks = (*session)->fallbacks();
    } else {
      fit.error = session.status().message();
    }
    fits.push_back(fit);
  }
  return fits;
}

nlohmann::json to_json(const std::string& path, const ModelInfo& info, const std::vector<BackendFit>& fits) {
  nlohmann::json j;
  j["file"] = path;
  j["file_bytes"] = info.file_bytes;
  j["source"] = info.source;
  j["content_hash"] = info.content_hash.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.content_hash);
  j["layout"] = info.layout;
  for (const DimInfo& d : info.dims)
    j["dims"].push_back({{"name", d.name}, {"min", d.min}, {"max", d.max}, {"multiple_of", d.multiple_of}});
  for (const TensorInfo& t : info.inputs) j["inputs"].push_back({{"name", t.name}, {"axes", t.axes}});
  for (const TensorInfo& t : info.outputs) j["outputs"].push_back({{"name", t.name}, {"axes", t.axes}});
  for (const OpCount& c : info.op_counts) j["ops"][c.op] = c.count;
  j["arena_bytes"] = info.arena_bytes;
  j["lower_bound_bytes"] = info.lower_bound_bytes;
  j["weights_bytes"] = info.weights_bytes;
  j["pixel_range"] = {info.pixel_min, info.pixel_max};
  nlohmann::json t = {{"analysed", info.tiling.analysed}, {"tileable", info.tiling.tileable}};
  if (!info.tiling.reason.empty()) t["reason"] = info.tiling.reason;
  for (const AxisTiling& a : info.tiling.axes)
    t["axes"].push_back({{"halo_before", a.halo_before}, {"halo_after", a.halo_after}, {"alignment", a.alignment},
                         {"scale", {a.scale_num, a.scale_den}}, {"offset", a.offset}});
  j["tiling"] = t;
  j["auto_backend"] = auto_backend();  // the one of "backends" that --backend auto picks on this machine
  for (const BackendFit& f : fits) {
    nlohmann::json b = {{"arena_bytes", f.arena_bytes}, {"extra_bytes", f.extra_bytes}, {"fallbacks", f.fallbacks}};
    if (!f.error.empty()) b["error"] = f.error;
    j["backends"][f.name] = b;
  }
  return j;
}

Status run_info(const InfoArgs& args) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(args.model));
  const ModelInfo& info = model->info();
  std::vector<BackendFit> fits = backend_fits(model);
  if (args.json) {
    // Names in a model need not be UTF-8 (a source file named caf\xE9.onnx): bytes that are not
    // become U+FFFD, so the output is always valid JSON.
    fmt::print("{}\n", to_json(args.model, info, fits).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return {};
  }
  std::vector<std::string> dims, ops;
  for (const DimInfo& d : info.dims) dims.push_back(dim_text(d));
  int nodes = 0;
  for (const OpCount& c : info.op_counts) {
    ops.push_back(fmt::format("{} x{}", c.op, c.count));
    nodes += c.count;
  }
  // Names from the file are printed through printable(): one line each, no terminal controls.
  const auto names = [](const std::vector<std::string>& list) {
    std::vector<std::string> out;
    for (const std::string& n : list) out.push_back(printable(n));
    return out;
  };
  fmt::print("model    {} ({}), compiled from {}, layout {}\n", printable(args.model), human_bytes(info.file_bytes),
             printable(info.source), printable(info.layout));
  fmt::print("hash     {}\n", info.content_hash.empty() ? "none (written before tessera 0.2)" : info.content_hash);
  fmt::print("dims     {}\n", dims.empty() ? "none (static shapes)" : fmt::format("{}", fmt::join(dims, ", ")));
  for (const TensorInfo& t : info.inputs)
    fmt::print("input    {} [{}]\n", printable(t.name), fmt::join(names(t.axes), ", "));
  for (const TensorInfo& t : info.outputs)
    fmt::print("output   {} ({})\n", printable(t.name), fmt::join(names(t.axes), ", "));
  fmt::print("ops      {} nodes: {}\n", nodes, fmt::join(ops, ", "));
  double ratio = info.lower_bound_bytes > 0 ? 100.0 * info.arena_bytes / info.lower_bound_bytes : 100.0;
  fmt::print("memory   arena {} planned at the upper bound; lower bound {} (arena = {:.1f}% of it)\n",
             human_bytes(info.arena_bytes), human_bytes(info.lower_bound_bytes), ratio);
  fmt::print("weights  {}\n", human_bytes(info.weights_bytes));
  fmt::print("pixels   {}..{}\n", info.pixel_min, info.pixel_max);
  fmt::print("tiling   {}\n", tiling_text(info.tiling));
  const std::string automatic = auto_backend();
  for (const BackendFit& f : fits) {
    // The one --backend auto picks on this machine is marked "(auto)".
    const std::string name = f.name == automatic ? f.name + " (auto)" : f.name;
    if (!f.error.empty()) {
      fmt::print("backend  {}: unavailable: {}\n", name, printable(f.error));
      continue;
    }
    std::string ops = f.fallbacks.empty() ? "every node" : fmt::format("all but {} (reference kernels)", fmt::join(names(f.fallbacks), ", "));
    fmt::print("backend  {}: {}; arena {}, {} beyond it\n", name, ops, human_bytes(f.arena_bytes),
               human_bytes(f.extra_bytes));
  }
  return {};
}

}  // namespace

Command add_info(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub = app.add_subcommand("info", "describe a compiled model: dims, ops, memory plan, tiling");
  sub->add_option("model", args->model, "the .tsr file")->required();
  sub->add_flag("--json", args->json, "print machine-readable JSON");
  return [args] { return run_info(*args); };
}

}  // namespace tessera::cli
