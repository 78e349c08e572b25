#include "tiling/tile_plan.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <span>

#include "core/check.h"
#include "core/rational.h"
#include "ir/shape_inference.h"
#include "runtime/model_data.h"

namespace tessera::tiling {

namespace {

int64_t floor_to(int64_t v, int64_t g) { return floor_div(v, g) * g; }
int64_t ceil_to(int64_t v, int64_t g) { return ceil_div(v, g) * g; }

Status check_image_axis(const ir::DynamicDim& dim, const char* name, int64_t size) {
  TESSERA_CHECK(size >= dim.min, Error::InvalidArgument,
                "the image {} {} is below the model's minimum {} (dim '{}' is {}..{})", name, size, dim.min, printable(dim.name),
                dim.min, dim.max);
  TESSERA_CHECK(size % dim.multiple_of == 0, Error::InvalidArgument,
                "the image {} {} is not a multiple of {}, which the model needs (dim '{}')", name, size,
                dim.multiple_of, printable(dim.name));
  return {};
}

// An axis's tiling rules: the model's halos (at least a given one), its grid and its size range.
struct AxisRules {
  const AxisTiling& t;
  const ir::DynamicDim& dim;
  const char* name;
  int64_t grid, before, after;

  AxisRules(const AxisTiling& tiling, const ir::DynamicDim& d, const char* n, int64_t halo)
      : t(tiling), dim(d), name(n), grid(std::lcm(tiling.alignment, d.multiple_of)),
        before(std::max(tiling.halo_before, halo)), after(std::max(tiling.halo_after, halo)) {}

  // The span of the output core [out_begin, out_end) in an axis of `size` input pixels: its window is
  // the core's input plus the halos, rounded out to the grid, clipped to the image and widened inward
  // to the minimum. `core` and `fix` name the core size and the remedy when it exceeds the maximum.
  Result<Span> span(int64_t size, int64_t out_begin, int64_t out_end, const std::string& core,
                    const char* fix) const {
    const int64_t num = t.scale_num, den = t.scale_den;
    Span s;
    s.out_begin = out_begin;
    s.out_end = out_end;
    int64_t lo = floor_div(s.out_begin * den, num) + t.offset - before;
    int64_t hi = ceil_div(s.out_end * den, num) + t.offset - 1 + after;
    s.window_begin = std::max<int64_t>(0, floor_to(lo, grid));
    s.window_end = std::min(size, ceil_to(hi + 1, grid));
    if (s.window() < dim.min) {  // widen inward, never pad
      s.window_end = std::min(size, s.window_begin + ceil_to(dim.min, grid));
      if (s.window() < dim.min) s.window_begin = std::max<int64_t>(0, floor_to(s.window_end - dim.min, grid));
    }
    TESSERA_CHECK(s.window() <= dim.max, Error::InvalidArgument,
                  "{} needs {} windows of {} pixels (core, halo {}+{} and alignment), above the model's maximum {}; "
                  "{}",
                  core, name, s.window(), before, after, dim.max, fix);
    s.crop_begin = s.out_begin - s.window_begin * num / den;
    return s;
  }
};

// The spans of one axis of `size` input pixels and `out_size` output pixels.
Result<std::vector<Span>> plan_axis(const AxisTiling& t, const ir::DynamicDim& dim, const char* name, int64_t size,
                                    int64_t out_size, const TilePlanOptions& options, int64_t* core) {
  TESSERA_RETURN_IF_ERROR(check_image_axis(dim, name, size));
  const AxisRules rules(t, dim, name, options.halo);
  const int64_t grid = rules.grid;
  // A window spans the core, both halos, and up to grid-1 pixels of alignment at each end.
  const int64_t slack = rules.before + rules.after + 2 * (grid - 1);
  int64_t c = options.tile;
  if (c == 0) {
    c = floor_to(dim.upper() - slack, grid);
    TESSERA_CHECK(c >= grid, Error::InvalidArgument,
                  "the model's maximum {} {} leaves no room for a tile beside its halo {}+{}; compile it with a "
                  "larger --dim {}",
                  name, dim.max, rules.before, rules.after, printable(dim.name));
  }
  TESSERA_CHECK(c > 0 && c % grid == 0, Error::InvalidArgument,
                "--tile {} must be a positive multiple of {} (the model's alignment along its {})", c, grid, name);
  // Balanced cores: as many as tiles of c need, of nearly equal size on the grid (400 rows in
  // tiles of 128: four of 100, not three of 128 and one of 16). Never above c.
  const std::string given = fmt::format("--tile {}", c);
  c = std::min(c, ceil_to(ceil_div(size, ceil_div(size, c)), grid));
  *core = c;
  TESSERA_CHECK((c * t.scale_num) % t.scale_den == 0, Error::Internal, "tile {} maps to a fractional output", c);
  const int64_t core_out = c * t.scale_num / t.scale_den;

  std::vector<Span> spans;
  for (int64_t a = 0; a < out_size; a += core_out) {
    TESSERA_ASSIGN_OR_RETURN(Span s, rules.span(size, a, std::min(a + core_out, out_size), given, "use a smaller --tile"));
    spans.push_back(s);
  }
  return spans;
}

// The spans of one axis cut into cores of the given sizes (input pixels), in order; a core whose
// output is empty (past the end of a smaller output) gets an empty span.
Result<std::vector<Span>> axis_at_cores(const AxisTiling& t, const ir::DynamicDim& dim, const char* name, int64_t size,
                                        int64_t out_size, std::span<const int64_t> cores) {
  TESSERA_RETURN_IF_ERROR(check_image_axis(dim, name, size));
  const AxisRules rules(t, dim, name, 0);
  std::vector<Span> spans;
  int64_t begin = 0;
  for (size_t i = 0; i < cores.size(); ++i) {
    const int64_t end = begin + cores[i];
    TESSERA_CHECK(cores[i] > 0, Error::InvalidArgument, "a {} chunk of {} pixels: chunks must not be empty", name,
                  cores[i]);
    TESSERA_CHECK(end == size || end % rules.grid == 0, Error::InvalidArgument,
                  "a {} chunk ends at {}, off the model's grid of {} (alignment {}, multiple of {}); chunks must end "
                  "on multiples of {} (but the last)",
                  name, end, rules.grid, t.alignment, dim.multiple_of, rules.grid);
    const int64_t out_begin = std::min(out_size, begin * t.scale_num / t.scale_den);
    const int64_t out_end = end == size ? out_size : std::min(out_size, end * t.scale_num / t.scale_den);
    if (out_begin == out_end) {
      spans.push_back({0, 0, out_begin, out_end, 0});
    } else {
      TESSERA_ASSIGN_OR_RETURN(Span s, rules.span(size, out_begin, out_end,
                                                  fmt::format("a {} chunk of {} pixels", name, cores[i]),
                                                  "use smaller chunks"));
      spans.push_back(s);
    }
    begin = end;
  }
  TESSERA_CHECK(begin == size, Error::InvalidArgument, "the {} chunks add up to {}, not the image's {}", name, begin,
                size);
  return spans;
}

// The smallest tile along one axis: its minimum rounded up to the tiling grid.
int64_t smallest_axis_tile(const AxisTiling& t, const ir::DynamicDim& dim) {
  const int64_t grid = std::lcm(t.alignment, dim.multiple_of);
  return std::max(ceil_to(dim.min, grid), grid);
}

// A given --tile below the smallest the model takes: the message says the minimum and the grid.
Status check_tile_size(const TilingInfo& tiling, const ir::DynamicDim& height_dim, const ir::DynamicDim& width_dim,
                       int64_t tile) {
  const ir::DynamicDim* dims[2] = {&height_dim, &width_dim};
  const char* names[2] = {"height", "width"};
  int64_t smallest = 0;
  int worst = 0;
  for (int i = 0; i < 2; ++i) {
    int64_t s = smallest_axis_tile(tiling.axes[i], *dims[i]);
    if (s > smallest) {
      smallest = s;
      worst = i;
    }
  }
  const ir::DynamicDim& d = *dims[worst];
  TESSERA_CHECK(tile >= smallest, Error::InvalidArgument,
                "--tile {} is below the smallest tile the model takes, {}: its {} is at least {} (dim '{}' is {}..{}) "
                "on a grid of {} (alignment {}, multiple of {}); give --tile {} or more, or leave --tile out for the "
                "largest",
                tile, smallest, names[worst], d.min, printable(d.name), d.min, d.max,
                std::lcm(tiling.axes[worst].alignment, d.multiple_of), tiling.axes[worst].alignment, d.multiple_of,
                smallest);
  return {};
}

}  // namespace

std::vector<std::pair<int64_t, int64_t>> TilePlan::window_shapes() const {
  std::set<std::pair<int64_t, int64_t>> shapes;
  for (const Tile& t : tiles) shapes.insert({t.rows.window(), t.cols.window()});
  return {shapes.begin(), shapes.end()};
}

Result<TilePlan> plan_tiles(const TilingInfo& tiling, const ir::DynamicDim& height_dim, const ir::DynamicDim& width_dim,
                            int64_t height, int64_t width, int64_t out_height, int64_t out_width,
                            const TilePlanOptions& options) {
  TESSERA_CHECK(tiling.analysed && tiling.tileable && tiling.axes.size() == 2, Error::Unsupported,
                "the model cannot be tiled: {}", tiling.analysed ? tiling.reason : "it was compiled without tiling analysis");
  TESSERA_CHECK(options.tile >= 0 && options.halo >= 0, Error::InvalidArgument, "--tile and --halo must not be negative");
  if (options.tile > 0) TESSERA_RETURN_IF_ERROR(check_tile_size(tiling, height_dim, width_dim, options.tile));
  TilePlan plan;
  plan.out_height = out_height;
  plan.out_width = out_width;
  TESSERA_ASSIGN_OR_RETURN(std::vector<Span> rows,
                           plan_axis(tiling.axes[0], height_dim, "height", height, out_height, options, &plan.core_height));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Span> cols,
                           plan_axis(tiling.axes[1], width_dim, "width", width, out_width, options, &plan.core_width));
  for (const Span& r : rows)
    for (const Span& c : cols) plan.tiles.push_back({r, c});
  return plan;
}

namespace {

// A tileable model's height and width dims and its output size for an image of `height` x `width`.
struct ImageAxes {
  const ir::DynamicDim* height_dim;
  const ir::DynamicDim* width_dim;
  int64_t out_height, out_width;
};

Result<ImageAxes> image_axes(const Model& model, int64_t height, int64_t width) {
  const ir::Graph& g = model.data().graph;
  const TilingInfo& tiling = model.info().tiling;
  TESSERA_CHECK(tiling.analysed && tiling.tileable, Error::Unsupported, "the model cannot be tiled: {}",
                tiling.analysed ? tiling.reason : "it was compiled without tiling analysis");
  const auto& axes = g.values[g.inputs[0]].input_dims;
  TESSERA_RETURN_IF_ERROR(check_image_axis(g.dims[axes[2].dynamic], "height", height));
  TESSERA_RETURN_IF_ERROR(check_image_axis(g.dims[axes[3].dynamic], "width", width));
  std::vector<int64_t> dim_values = g.upper_dim_values();
  dim_values[axes[2].dynamic] = height;
  dim_values[axes[3].dynamic] = width;
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> shapes, ir::shapes_at(g, dim_values));
  const Shape& out = shapes[g.outputs[0]];
  return ImageAxes{&g.dims[axes[2].dynamic], &g.dims[axes[3].dynamic], out[2], out[3]};
}

}  // namespace

Result<TilePlan> plan_tiles(const Model& model, int64_t height, int64_t width, const TilePlanOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(ImageAxes a, image_axes(model, height, width));
  return plan_tiles(model.info().tiling, *a.height_dim, *a.width_dim, height, width, a.out_height, a.out_width,
                    options);
}

Result<TilePlan> plan_tiles_at(const Model& model, int64_t height, int64_t width, std::span<const int64_t> row_cores,
                               std::span<const int64_t> col_cores) {
  TESSERA_ASSIGN_OR_RETURN(ImageAxes a, image_axes(model, height, width));
  const TilingInfo& tiling = model.info().tiling;
  TilePlan plan;
  plan.out_height = a.out_height;
  plan.out_width = a.out_width;
  plan.core_height = row_cores.empty() ? 0 : *std::max_element(row_cores.begin(), row_cores.end());
  plan.core_width = col_cores.empty() ? 0 : *std::max_element(col_cores.begin(), col_cores.end());
  TESSERA_ASSIGN_OR_RETURN(std::vector<Span> rows,
                           axis_at_cores(tiling.axes[0], *a.height_dim, "height", height, a.out_height, row_cores));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Span> cols,
                           axis_at_cores(tiling.axes[1], *a.width_dim, "width", width, a.out_width, col_cores));
  for (const Span& r : rows)
    for (const Span& c : cols) plan.tiles.push_back({r, c});
  return plan;
}

Result<int64_t> smallest_tile(const Model& model) {
  const ir::Graph& g = model.data().graph;
  const TilingInfo& tiling = model.info().tiling;
  TESSERA_CHECK(tiling.analysed && tiling.tileable && tiling.axes.size() == 2, Error::Unsupported,
                "the model cannot be tiled: {}", tiling.analysed ? tiling.reason : "it was compiled without tiling analysis");
  const auto& axes = g.values[g.inputs[0]].input_dims;
  int64_t smallest = 0;
  for (int i = 0; i < 2; ++i) {
    TESSERA_CHECK(axes.size() == 4 && axes[2 + i].dynamic >= 0, Error::Unsupported,
                  "the model's input has no dynamic height and width to tile");
    smallest = std::max(smallest, smallest_axis_tile(tiling.axes[i], g.dims[axes[2 + i].dynamic]));
  }
  return smallest;
}

Result<int64_t> largest_tile(const Model& model, int64_t halo, int64_t* grid_out) {
  const ir::Graph& g = model.data().graph;
  const TilingInfo& tiling = model.info().tiling;
  TESSERA_RETURN_IF_ERROR(smallest_tile(model).status());  // tileable, with a dynamic height and width
  const auto& axes = g.values[g.inputs[0]].input_dims;
  int64_t largest = 0, step = 1;
  for (int i = 0; i < 2; ++i) {
    const AxisTiling& t = tiling.axes[i];
    const ir::DynamicDim& dim = g.dims[axes[2 + i].dynamic];
    const int64_t grid = std::lcm(t.alignment, dim.multiple_of);
    const int64_t slack = std::max(t.halo_before, halo) + std::max(t.halo_after, halo) + 2 * (grid - 1);
    const int64_t c = floor_to(dim.upper() - slack, grid);
    largest = i == 0 ? c : std::min(largest, c);
    step = std::lcm(step, grid);
  }
  if (grid_out) *grid_out = step;
  return floor_to(largest, step);
}

Result<TileOverhead> tile_overhead(const Model& model, int64_t tile, int64_t halo) {
  const ir::Graph& g = model.data().graph;
  const TilingInfo& tiling = model.info().tiling;
  TESSERA_ASSIGN_OR_RETURN(const int64_t smallest, smallest_tile(model));
  TESSERA_CHECK(tile > 0, Error::InvalidArgument, "--tile {} must be positive", tile);
  const auto& axes = g.values[g.inputs[0]].input_dims;
  TESSERA_ASSIGN_OR_RETURN(const int64_t largest, largest_tile(model, halo));
  TileOverhead out;
  struct Axis {
    int64_t grid, before, after, min, max;
  } ax[2];
  for (int i = 0; i < 2; ++i) {
    const AxisTiling& t = tiling.axes[i];
    const ir::DynamicDim& dim = g.dims[axes[2 + i].dynamic];
    const int64_t grid = std::lcm(t.alignment, dim.multiple_of);
    ax[i] = {grid, std::max(t.halo_before, halo), std::max(t.halo_after, halo), dim.min, dim.upper()};
    out.halo_before = std::max(out.halo_before, ax[i].before);
    out.halo_after = std::max(out.halo_after, ax[i].after);
  }
  // An interior window: the core and both halos, each halo rounded out to the grid, at least the minimum.
  auto ratio = [&](int64_t c) {
    double r = 1;
    for (const Axis& a : ax) {
      const int64_t core = ceil_to(c, a.grid);
      const int64_t window = std::max(core + ceil_to(a.before, a.grid) + ceil_to(a.after, a.grid), ceil_to(a.min, a.grid));
      r *= static_cast<double>(window) / static_cast<double>(core);
    }
    return r;
  };
  out.ratio = ratio(tile);
  int64_t step = std::lcm(ax[0].grid, ax[1].grid);
  for (int64_t c = ceil_to(smallest, step); c <= largest; c += step) {
    if (ratio(c) < 1.5) {
      out.tile_under_1_5x = c;
      break;
    }
  }
  return out;
}

Result<TilePlan> whole_image_plan(const Model& model, int64_t height, int64_t width) {
  const ir::Graph& g = model.data().graph;
  const auto& axes = g.values[g.inputs[0]].input_dims;
  TESSERA_CHECK(axes.size() == 4, Error::RankMismatch, "the model takes a rank-{} input, not a [N, C, H, W] image",
                axes.size());
  std::vector<int64_t> dim_values = g.upper_dim_values();
  const int64_t sizes[2] = {height, width};
  const char* names[2] = {"height", "width"};
  for (int i = 0; i < 2; ++i) {
    const ir::InputDim& axis = axes[2 + i];
    if (axis.dynamic < 0) {
      TESSERA_CHECK(sizes[i] == axis.fixed, Error::StaticDimMismatch, "the image {} is {}; the model takes only {}",
                    names[i], sizes[i], axis.fixed);
      continue;
    }
    const ir::DynamicDim& dim = g.dims[axis.dynamic];
    TESSERA_RETURN_IF_ERROR(check_image_axis(dim, names[i], sizes[i]));
    TESSERA_CHECK(sizes[i] <= dim.max, Error::DimOutOfRange,
                  "the image {} {} is above the model's maximum {} (dim '{}'); tile it (--tile) or compile the model "
                  "for a larger --dim {}",
                  names[i], sizes[i], dim.max, printable(dim.name), printable(dim.name));
    dim_values[axis.dynamic] = sizes[i];
  }
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> shapes, ir::shapes_at(g, dim_values));
  const Shape& out = shapes[g.outputs[0]];
  TESSERA_CHECK(out.rank() == 4, Error::Unsupported, "the model's output {} is not a [N, C, H, W] image",
                out.to_string());
  TilePlan plan;
  plan.out_height = out[2];
  plan.out_width = out[3];
  plan.core_height = height;
  plan.core_width = width;
  plan.tiles.push_back({Span{0, height, 0, out[2], 0}, Span{0, width, 0, out[3], 0}});
  return plan;
}

}  // namespace tessera::tiling
