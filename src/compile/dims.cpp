#include "compile/dims.h"

#include <algorithm>
#include <charconv>
#include <numeric>

#include "core/check.h"
#include "ir/shape_inference.h"
#include "ir/validate.h"

namespace tessera {

namespace {

bool parse_int(std::string_view s, int64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string dim_flag(const ir::DynamicDim& d) {
  return d.multiple_of > 1 ? fmt::format("--dim {}={}:{}:{}", d.name, d.min, d.max, d.multiple_of)
                           : fmt::format("--dim {}={}:{}", d.name, d.min, d.max);
}

// Of the values that fail, finds the multiple and minimum under which the most values pass.
std::string suggestion(const ir::DynamicDim& d, const std::vector<bool>& passes) {
  auto ok = [&](int64_t v) { return passes[v - d.min]; };
  ir::DynamicDim best = d;
  int64_t best_count = 0;
  for (int64_t m = d.multiple_of; m <= d.multiple_of * 64; m *= 2) {
    // The smallest start from which every multiple of m up to max passes.
    int64_t start = -1;
    for (int64_t v = d.max / m * m; v >= d.min && ok(v); v -= m) start = v;
    int64_t count = start > 0 ? (d.max / m * m - start) / m + 1 : 0;
    if (count > best_count) {
      best_count = count;
      best.min = start;
      best.multiple_of = m;
    }
  }
  if (best_count == 0) return fmt::format("no value of {} in {}..{} gives a valid graph", d.name, d.min, d.max);
  std::string what = best.multiple_of > d.multiple_of ? fmt::format("{} must be a multiple of {}", d.name, best.multiple_of)
                                                      : fmt::format("{} must be at least {}", d.name, best.min);
  return fmt::format("{}; try {}", what, dim_flag(best));
}

// A range holds at least one size and stays within what a .tsr may declare; `what` starts the message.
Status check_range(const ir::DynamicDim& d, const std::string& what) {
  TESSERA_CHECK(d.min >= 1 && d.max >= d.min && d.multiple_of >= 1, Error::InvalidArgument,
                "{}: need 1 <= MIN <= MAX and MULTIPLE >= 1", what);
  TESSERA_CHECK(d.max <= ir::kMaxAttribute && d.multiple_of <= ir::kMaxAttribute, Error::InvalidArgument,
                "{}: MAX and MULTIPLE may be at most {}", what, ir::kMaxAttribute);
  TESSERA_CHECK(d.upper() >= d.min, Error::InvalidArgument, "{}: no multiple of {} lies in {}..{}", what,
                d.multiple_of, d.min, d.max);
  return {};
}

}  // namespace

Result<DimInfo> parse_dim(const std::string& text) {
  auto bad = [&]() {
    return Status(Error::InvalidArgument,
                  fmt::format("bad --dim '{}': expected NAME=MIN:MAX or NAME=MIN:MAX:MULTIPLE, e.g. height=256:1024:8",
                              text));
  };
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return bad();
  ir::DynamicDim d;
  d.name = text.substr(0, eq);
  std::vector<int64_t> parts;
  std::string_view rest(text);
  rest.remove_prefix(eq + 1);
  while (true) {
    size_t colon = rest.find(':');
    int64_t v;
    if (!parse_int(rest.substr(0, colon), &v)) return bad();
    parts.push_back(v);
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (parts.size() < 2 || parts.size() > 3) return bad();
  d.min = parts[0];
  d.max = parts[1];
  d.multiple_of = parts.size() == 3 ? parts[2] : 1;
  TESSERA_RETURN_IF_ERROR(check_range(d, fmt::format("bad --dim '{}'", text)));
  return d;
}

Status bind_dims(ir::Graph& graph, const std::vector<DimInfo>& bindings) {
  for (size_t i = 0; i < bindings.size(); ++i) {
    const DimInfo& b = bindings[i];
    for (size_t j = 0; j < i; ++j)
      TESSERA_CHECK(bindings[j].name != b.name, Error::InvalidArgument,
                    "--dim {} is given twice ({}:{} and {}:{}); give each dim once", b.name, bindings[j].min,
                    bindings[j].max, b.min, b.max);
    auto it = std::find_if(graph.dims.begin(), graph.dims.end(), [&](const ir::DynamicDim& d) { return d.name == b.name; });
    if (it == graph.dims.end()) {
      std::string names;
      for (const auto& d : graph.dims) names += (names.empty() ? "" : ", ") + d.name;
      return Status(Error::InvalidArgument,
                    fmt::format("--dim {}: the model has no dynamic dim '{}' (its dynamic dims: {})", b.name, b.name,
                                names.empty() ? "none" : names));
    }
    static_cast<DimInfo&>(*it) = b;
    TESSERA_RETURN_IF_ERROR(check_range(*it, fmt::format("dim {} {}..{} (multiples of {})", b.name, b.min, b.max,
                                                         b.multiple_of)));
  }
  for (const ir::DynamicDim& d : graph.dims)
    TESSERA_CHECK(d.max > 0, Error::InvalidArgument,
                  "dynamic dim '{}' has no range; bind it with --dim {}=MIN:MAX[:MULTIPLE]", d.name, d.name);
  return {};
}

Status check_dims(const ir::Graph& graph) {
  std::vector<int64_t> upper = graph.upper_dim_values();
  TESSERA_ASSIGN_OR_RETURN(std::vector<Shape> upper_shapes, ir::shapes_at_dims(graph, upper));
  // Before trying every value: a model too large at its upper bound is refused at once.
  TESSERA_RETURN_IF_ERROR(ir::check_value_sizes(graph, upper_shapes, upper));
  for (size_t k = 0; k < graph.dims.size(); ++k) {
    const ir::DynamicDim& d = graph.dims[k];
    std::vector<bool> passes(d.max - d.min + 1, false);
    Status first_failure;
    int64_t failing_value = 0;
    for (int64_t v = d.min; v <= d.max; ++v) {
      if (!d.accepts(v)) continue;
      std::vector<int64_t> values = upper;
      values[k] = v;
      Result<std::vector<Shape>> shapes = ir::shapes_at(graph, values);
      if (!shapes.ok()) {
        if (first_failure.ok()) {
          first_failure = shapes.status();
          failing_value = v;
        }
        continue;
      }
      passes[v - d.min] = true;
      for (size_t i = 0; i < shapes->size(); ++i)
        TESSERA_CHECK((*shapes)[i].element_count() <= upper_shapes[i].element_count(), Error::Unsupported,
                      "value '{}' is larger at {}={} than at the upper bound; tessera plans memory at the upper bound",
                      graph.values[i].name, d.name, v);
    }
    if (!first_failure.ok())
      return Status(Error::InvalidArgument,
                    fmt::format("{} does not fit the model: at {}={}, {}. {}", dim_flag(d), d.name, failing_value,
                                first_failure.message(), suggestion(d, passes)));
  }
  return {};
}

}  // namespace tessera
