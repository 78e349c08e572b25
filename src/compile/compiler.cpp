#include "compile/compiler.h"

#include <cmath>
#include <filesystem>

#include "compile/dims.h"
#include "compile/passes.h"
#include "compile/tiling_analysis.h"
#include "core/check.h"
#include "format/writer.h"
#include "import/onnx_import.h"
#include "import/tfjs_import.h"
#include "ir/shape_inference.h"
#include "ir/validate.h"

namespace tessera {

Result<ir::Graph> import_model(const std::string& path) {
  auto ends_with = [&](const std::string& ext) {
    return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends_with(".onnx")) return import_onnx(path);
  if (ends_with(".json")) return import_tfjs(path);
  return Status(Error::InvalidArgument,
                fmt::format("'{}': unknown source model format; tessera compiles ONNX models (.onnx) and TF.js "
                            "layers-models (model.json)",
                            path));
}

Result<ModelFile> compile(ir::Graph graph, const CompileOptions& options) {
  TESSERA_CHECK(std::isfinite(options.pixel_min) && std::isfinite(options.pixel_max) &&
                    options.pixel_min < options.pixel_max,
                Error::InvalidArgument, "bad --pixel-range {}:{}: MIN and MAX must be finite numbers, MIN below MAX",
                options.pixel_min, options.pixel_max);
  TESSERA_RETURN_IF_ERROR(ir::validate_nodes(graph));
  TESSERA_RETURN_IF_ERROR(bind_dims(graph, options.dims));
  flatten_channel_concats(graph);
  fold_channel_affine_into_conv(graph);
  fold_skip_into_conv(graph);
  split_conv_over_concat(graph);
  remove_unused_values(graph);
  TESSERA_RETURN_IF_ERROR(check_dims(graph));
  // What Model::load checks, so that the compiler never writes a file the loader refuses.
  TESSERA_RETURN_IF_ERROR(ir::validate(graph));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> upper_shapes, ir::shapes_at(graph, graph.upper_dim_values()));
  ModelFile out;
  TESSERA_ASSIGN_OR_RETURN(out.plan, plan_memory(graph, upper_shapes));
  // The terms of each sum early where that plans a smaller arena.
  run_sum_terms_early(graph, [&](const ir::Graph& early) {
    Result<MemoryPlan> plan = plan_memory(early, upper_shapes);
    if (!plan.ok() || plan->arena_bytes >= out.plan.arena_bytes) return false;
    out.plan = std::move(plan).value();
    return true;
  });
  TESSERA_RETURN_IF_ERROR(ir::check_arena_bytes(graph, out.plan.arena_bytes));
  out.tiling = tiling::analyse_tiling(graph);
  out.graph = std::move(graph);
  out.pixel_min = options.pixel_min;
  out.pixel_max = options.pixel_max;
  return out;
}

Result<ModelFile> compile_file(const std::string& source, const std::string& output, const CompileOptions& options) {
  std::error_code ec;
  TESSERA_CHECK(!std::filesystem::equivalent(source, output, ec), Error::InvalidArgument,
                "the output '{}' is the source model; choose another output path", output);
  TESSERA_ASSIGN_OR_RETURN(ir::Graph graph, import_model(source));
  TESSERA_ASSIGN_OR_RETURN(ModelFile model, compile(std::move(graph), options));
  model.source = source.substr(source.rfind('/') == std::string::npos ? 0 : source.rfind('/') + 1);
  TESSERA_RETURN_IF_ERROR(write_tsr(model, output));
  return model;
}

Result<std::shared_ptr<const Model>> compile_model(const std::string& source, const std::string& output,
                                                   const CompileOptions& options) {
  TESSERA_RETURN_IF_ERROR(compile_file(source, output, options).status());
  return Model::load(output);
}

}  // namespace tessera
