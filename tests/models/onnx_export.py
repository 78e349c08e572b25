"""Export a torch module to ONNX with dynamic H/W, and check the result against the contract."""

import io
import warnings

import onnx
import torch
from onnx import TensorProto, helper, numpy_helper


class ContractError(Exception):
    pass


def export(module, example, opset):
    """torch.onnx.export: input "x" [1,C,height,width], output "y"; returns (model, warnings)."""
    buf = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(
            module, example, buf, opset_version=opset, input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {2: "height", 3: "width"}, "y": {2: "out_height", 3: "out_width"}},
            do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    messages = sorted({str(w.message).strip().splitlines()[0] for w in caught})
    return onnx.load_from_string(buf.getvalue()), messages


def check(model, in_ch, out_ch, opset):
    """onnx.checker plus the contract: one input x [1,C,"height","width"] float, one output y."""
    onnx.checker.check_model(model)
    versions = {o.domain: o.version for o in model.opset_import}
    if versions.get("", versions.get("ai.onnx")) != opset:
        raise ContractError(f"opset {versions} != {opset}")
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    if [i.name for i in inputs] != ["x"]:
        raise ContractError(f"graph inputs {[i.name for i in inputs]} != ['x']")
    t = inputs[0].type.tensor_type
    dims = [d.dim_param or d.dim_value for d in t.shape.dim]
    if t.elem_type != TensorProto.FLOAT or dims != [1, in_ch, "height", "width"]:
        raise ContractError(f"input x: type {t.elem_type}, dims {dims}")
    if [o.name for o in graph.output] != ["y"]:
        raise ContractError(f"graph outputs {[o.name for o in graph.output]} != ['y']")
    out_dims = graph.output[0].type.tensor_type.shape.dim
    if len(out_dims) != 4:
        raise ContractError(f"output y has rank {len(out_dims)}")
    if out_dims[1].dim_value and out_dims[1].dim_value != out_ch:
        raise ContractError(f"output y channels {out_dims[1].dim_value} != torch's {out_ch}")


def op_types(model):
    """Op types in graph order, without repeats."""
    seen = []
    for node in model.graph.node:
        if node.op_type not in seen:
            seen.append(node.op_type)
    return seen


def _short(value):
    if isinstance(value, onnx.TensorProto):
        value = numpy_helper.to_array(value).tolist()
    if isinstance(value, bytes):
        value = value.decode()
    return value


def describe(model):
    """Readable lines: output dims, initializers, then each node with inputs and attributes."""
    g = model.graph
    out = g.output[0].type.tensor_type.shape.dim
    lines = ["    y dims: " + str([d.dim_param or d.dim_value for d in out]),
             "    initializers: " + str([(i.name, list(i.dims)) for i in g.initializer])]
    for n in g.node:
        attrs = {a.name: _short(helper.get_attribute_value(a)) for a in n.attribute}
        args = ", ".join(repr(i) for i in n.input)
        lines.append(f"    {n.op_type}({args}) -> {', '.join(n.output)} {attrs}")
    return lines
