#include "import/onnx_fold.h"

#include <fmt/format.h>
#include <numeric>
#include <set>

namespace tessera::onnx_import {

namespace {

const std::set<std::string>& foldable_ops() {
  static const std::set<std::string> ops = {"ConstantOfShape", "Concat", "Reshape", "Slice", "Transpose",
                                            "Cast", "Unsqueeze", "Squeeze", "Identity"};
  return ops;
}

Status fold_error(const onnx::NodeProto& node, const std::string& what) {
  return Status(Error::Unsupported,
                fmt::format("node '{}' ({}) on constants: {}", Context::node_name(node), node.op_type(), what));
}

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.rank(), 1);
  for (int i = s.rank() - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// Every element of an output of `shape`, as its multi-index, in row-major order.
template <typename F>
void for_each_index(const Shape& shape, F f) {
  int64_t n = shape.element_count();
  std::vector<int64_t> idx(shape.rank(), 0);
  for (int64_t e = 0; e < n; ++e) {
    f(idx);
    for (int a = shape.rank() - 1; a >= 0; --a) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
}

// Builds the output by picking elements of `in` (the inputs' data, concatenated) at `picks`.
ConstantTensor gather(const std::vector<const ConstantTensor*>& in, const Shape& shape, const std::vector<int64_t>& picks) {
  ConstantTensor out;
  out.shape = shape;
  out.is_float = in[0]->is_float;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  for (const ConstantTensor* t : in) {
    floats.insert(floats.end(), t->floats.begin(), t->floats.end());
    ints.insert(ints.end(), t->ints.begin(), t->ints.end());
  }
  for (int64_t p : picks) {
    if (out.is_float) out.floats.push_back(floats[p]);
    else out.ints.push_back(ints[p]);
  }
  return out;
}

Result<ConstantTensor> fold_concat(const onnx::NodeProto& node, const std::vector<const ConstantTensor*>& in) {
  int rank = in[0]->shape.rank();
  int64_t axis = attr_int(node, "axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return fold_error(node, "bad axis");
  Shape shape = in[0]->shape;
  shape[static_cast<int>(axis)] = 0;
  std::vector<int64_t> base;  // where each input starts in the concatenated data
  int64_t offset = 0;
  for (const ConstantTensor* t : in) {
    if (t->shape.rank() != rank || t->is_float != in[0]->is_float) return fold_error(node, "inputs differ in rank or type");
    base.push_back(offset);
    offset += t->shape.element_count();
    shape[static_cast<int>(axis)] += t->shape[static_cast<int>(axis)];
  }
  std::vector<int64_t> picks;
  for_each_index(shape, [&](const std::vector<int64_t>& idx) {
    int64_t along = idx[axis];
    size_t k = 0;
    while (along >= in[k]->shape[static_cast<int>(axis)]) along -= in[k++]->shape[static_cast<int>(axis)];
    std::vector<int64_t> st = strides_of(in[k]->shape);
    int64_t flat = base[k];
    for (int a = 0; a < rank; ++a) flat += (a == axis ? along : idx[a]) * st[a];
    picks.push_back(flat);
  });
  return gather(in, shape, picks);
}

Result<ConstantTensor> fold_reshape(const onnx::NodeProto& node, const ConstantTensor& x, const ConstantTensor& target) {
  Shape shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.ints.size(); ++i) {
    int64_t d = target.ints[i];
    if (d == 0 && static_cast<int>(i) < x.shape.rank()) d = x.shape[static_cast<int>(i)];
    if (d == -1) {
      infer = static_cast<int>(i);
      d = 1;
    } else {
      known *= d;
    }
    if (shape.rank() == kMaxRank) return fold_error(node, "rank too large");
    shape.push_back(d);
  }
  if (infer >= 0 && known > 0) shape[infer] = x.shape.element_count() / known;
  if (shape.element_count() != x.shape.element_count()) return fold_error(node, "reshape changes the element count");
  ConstantTensor out = x;
  out.shape = shape;
  return out;
}

Result<ConstantTensor> fold_slice(const onnx::NodeProto& node, const ConstantTensor& x,
                                  const std::vector<std::optional<ConstantTensor>>& args) {
  int rank = x.shape.rank();
  const std::vector<int64_t>& starts = args[0]->ints;
  const std::vector<int64_t>& ends = args[1]->ints;
  std::vector<int64_t> axes(starts.size()), steps(starts.size(), 1);
  std::iota(axes.begin(), axes.end(), 0);
  if (args[2]) axes = args[2]->ints;
  if (args[3]) steps = args[3]->ints;
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return fold_error(node, "starts, ends, axes and steps differ in length");
  std::vector<int64_t> first(rank, 0), step(rank, 1);
  Shape shape = x.shape;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank || steps[i] == 0) return fold_error(node, "bad axis or step");
    int64_t dim = x.shape[static_cast<int>(a)];
    auto clamp = [&](int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(hi, v)); };
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? (ends[i] < -dim ? -1 : ends[i] + dim) : ends[i];
    if (steps[i] > 0) {
      s = clamp(s, 0, dim);
      e = clamp(e, 0, dim);
      shape[static_cast<int>(a)] = std::max<int64_t>(0, (e - s + steps[i] - 1) / steps[i]);
    } else {
      s = clamp(s, 0, dim - 1);
      e = clamp(e, -1, dim - 1);
      shape[static_cast<int>(a)] = std::max<int64_t>(0, (s - e - steps[i] - 1) / -steps[i]);
    }
    first[a] = s;
    step[a] = steps[i];
  }
  std::vector<int64_t> st = strides_of(x.shape), picks;
  for_each_index(shape, [&](const std::vector<int64_t>& idx) {
    int64_t flat = 0;
    for (int a = 0; a < rank; ++a) flat += (first[a] + idx[a] * step[a]) * st[a];
    picks.push_back(flat);
  });
  return gather({&x}, shape, picks);
}

Result<ConstantTensor> fold_transpose(const onnx::NodeProto& node, const ConstantTensor& x) {
  int rank = x.shape.rank();
  std::vector<int64_t> perm = attr_ints(node, "perm");
  if (perm.empty())
    for (int a = rank - 1; a >= 0; --a) perm.push_back(a);
  if (static_cast<int>(perm.size()) != rank) return fold_error(node, "perm does not match the rank");
  Shape shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank) return fold_error(node, "bad perm");
    shape.push_back(x.shape[static_cast<int>(p)]);
  }
  std::vector<int64_t> st = strides_of(x.shape), picks;
  for_each_index(shape, [&](const std::vector<int64_t>& idx) {
    int64_t flat = 0;
    for (int a = 0; a < rank; ++a) flat += idx[a] * st[perm[a]];
    picks.push_back(flat);
  });
  return gather({&x}, shape, picks);
}

Result<ConstantTensor> fold_cast(const onnx::NodeProto& node, ConstantTensor x) {
  int64_t to = attr_int(node, "to", onnx::TensorProto::FLOAT);
  bool to_float = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE || to == onnx::TensorProto::FLOAT16;
  if (to_float == x.is_float) return x;
  if (to_float) {
    x.floats.assign(x.ints.begin(), x.ints.end());
    x.ints.clear();
  } else {
    for (float f : x.floats) x.ints.push_back(static_cast<int64_t>(f));
    x.floats.clear();
  }
  x.is_float = to_float;
  return x;
}

// Unsqueeze inserts axes of size 1, Squeeze removes them (all of size 1 when no axes are given);
// the axes come from an attribute before opset 13, from an input since.
Result<ConstantTensor> fold_squeeze(const Context& ctx, const onnx::NodeProto& node, ConstantTensor x,
                                    const std::optional<ConstantTensor>& axes_input) {
  bool unsqueeze = node.op_type() == "Unsqueeze";
  std::vector<int64_t> axes = ctx.opset >= 13 ? (axes_input ? axes_input->ints : std::vector<int64_t>())
                                              : attr_ints(node, "axes");
  // Negative axes count from the end of the output (Unsqueeze) or of the input (Squeeze).
  int rank = x.shape.rank() + (unsqueeze ? static_cast<int>(axes.size()) : 0);
  if (rank > kMaxRank) return fold_error(node, "rank too large");
  std::set<int64_t> picked;
  for (int64_t a : axes) picked.insert(a < 0 ? a + rank : a);
  Shape shape;
  for (int a = 0, src = 0; a < rank; ++a) {
    if (unsqueeze) shape.push_back(picked.count(a) ? 1 : x.shape[src++]);
    else if (!(picked.count(a) || (axes.empty() && x.shape[a] == 1))) shape.push_back(x.shape[a]);
  }
  if (shape.element_count() != x.shape.element_count()) return fold_error(node, "bad axes");
  x.shape = shape;
  return x;
}

Result<ConstantTensor> fold_constant_of_shape(const onnx::NodeProto& node, const ConstantTensor& shape_in) {
  ConstantTensor out;
  for (int64_t d : shape_in.ints) {
    if (d < 0 || out.shape.rank() == kMaxRank) return fold_error(node, "bad shape");
    out.shape.push_back(d);
  }
  if (out.shape.element_count() > (1 << 20)) return fold_error(node, "too large");
  ConstantTensor fill;
  fill.floats = {0.0f};
  if (const auto* v = find_attr(node, "value"); v && v->has_t()) {
    TESSERA_ASSIGN_OR_RETURN(fill, decode_tensor(v->t(), "."));
  }
  out.is_float = fill.is_float;
  if (fill.is_float) out.floats.assign(out.shape.element_count(), fill.floats.empty() ? 0.0f : fill.floats[0]);
  else out.ints.assign(out.shape.element_count(), fill.ints.empty() ? 0 : fill.ints[0]);
  return out;
}

}  // namespace

bool can_fold(const Context& ctx, const onnx::NodeProto& node) {
  if (!foldable_ops().count(node.op_type()) || node.input_size() == 0) return false;
  for (const std::string& in : node.input())
    if (!in.empty() && !ctx.constants.count(in)) return false;
  return true;
}

Status fold_node(Context& ctx, const onnx::NodeProto& node) {
  std::vector<std::optional<ConstantTensor>> in;
  for (const std::string& name : node.input())
    in.push_back(name.empty() ? std::nullopt : std::optional<ConstantTensor>(ctx.constants.at(name)));
  while (in.size() < 5) in.push_back(std::nullopt);
  const std::string& op = node.op_type();
  auto need_ints = [&](size_t i) { return in[i] && !in[i]->is_float; };
  Result<ConstantTensor> out = fold_error(node, "unexpected inputs");
  if (op == "Identity") {
    out = *in[0];
  } else if (op == "ConstantOfShape" && need_ints(0)) {
    out = fold_constant_of_shape(node, *in[0]);
  } else if (op == "Concat") {
    std::vector<const ConstantTensor*> parts;
    for (int i = 0; i < node.input_size(); ++i) parts.push_back(&*in[i]);
    out = fold_concat(node, parts);
  } else if (op == "Reshape" && need_ints(1)) {
    out = fold_reshape(node, *in[0], *in[1]);
  } else if (op == "Slice" && need_ints(1) && need_ints(2)) {
    out = fold_slice(node, *in[0], {in[1], in[2], in[3], in[4]});
  } else if (op == "Transpose") {
    out = fold_transpose(node, *in[0]);
  } else if (op == "Cast") {
    out = fold_cast(node, *in[0]);
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    out = fold_squeeze(ctx, node, *in[0], in[1]);
  }
  if (!out.ok()) return out.status();
  ctx.constants[node.output(0)] = std::move(out).value();
  return {};
}

}  // namespace tessera::onnx_import
