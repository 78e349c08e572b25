"""Single-op models torch cannot emit, built with onnx.helper; expected outputs come from numpy."""

import numpy as np
import torch
from onnx import TensorProto, helper

from common import Dims, Spec

OPSET = 13


def _graph_model(nodes, in_ch, out_ch, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, in_ch, "height", "width"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                      [1, out_ch, "out_height", "out_width"])
    graph = helper.make_graph(nodes, name, [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="tessera-tests")
    model.ir_version = 7  # what torch 1.13 writes
    return model


def depth_to_space(x, b, mode):
    """numpy DepthToSpace: y[n,c,h*b+i,w*b+j] = x[n,(i*b+j)*C+c,h,w] for DCR,
    x[n,c*b*b+i*b+j,h,w] for CRD (C = output channels)."""
    n, cin, h, w = x.shape
    c = cin // (b * b)
    if mode == "DCR":
        t = x.reshape(n, b, b, c, h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        t = x.reshape(n, c, b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return np.ascontiguousarray(t.reshape(n, c, h * b, w * b))


def _self_test():
    """The numpy reference against the index formula and against torch's pixel_shuffle (CRD)."""
    b, c = 2, 3
    x = np.random.default_rng(0).uniform(-1, 1, (1, b * b * c, 3, 5)).astype(np.float32)
    y = depth_to_space(x, b, "DCR")
    for ch in range(c):
        for i in range(b):
            for j in range(b):
                if not np.array_equal(y[0, ch, i::b, j::b], x[0, (i * b + j) * c + ch]):
                    raise AssertionError("DCR numpy reference disagrees with the ONNX formula")
    crd = torch.nn.functional.pixel_shuffle(torch.from_numpy(x), b).numpy()
    if not np.array_equal(depth_to_space(x, b, "CRD"), crd):
        raise AssertionError("CRD numpy reference disagrees with torch pixel_shuffle")


def depth_to_space_dcr():
    _self_test()
    node = helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode="DCR")
    return _graph_model([node], 12, 3, "depth_to_space_dcr"), lambda x: depth_to_space(x, 2, "DCR")


def identity_relu():
    nodes = [helper.make_node("Identity", ["x"], ["t"]), helper.make_node("Relu", ["t"], ["y"])]
    return _graph_model(nodes, 5, 5, "identity_relu"), lambda x: np.maximum(x, 0.0)


def _constant(name, dtype, dims, values):
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, dtype, dims, values))


def pad_from_folded_constants():
    """Pads that reach Pad through Unsqueeze and Squeeze of constants (opset 13: axes as inputs),
    which the importer folds."""
    nodes = [
        _constant("pads", TensorProto.INT64, [8], [0, 0, 1, 2, 0, 0, 3, 1]),
        _constant("axes", TensorProto.INT64, [1], [0]),
        helper.make_node("Unsqueeze", ["pads", "axes"], ["pads_2d"]),
        helper.make_node("Squeeze", ["pads_2d", "axes"], ["pads_1d"]),
        _constant("value", TensorProto.FLOAT, [], [0.5]),
        helper.make_node("Pad", ["x", "pads_1d", "value"], ["y"], mode="constant"),
    ]

    def expected(x):
        return np.pad(x, ((0, 0), (0, 0), (1, 3), (2, 1)), constant_values=0.5)

    return _graph_model(nodes, 3, 3, "pad_from_folded_constants"), expected


def specs():
    d = Dims(5, 64)
    return [
        Spec("op_depthtospace_dcr", "op", d, 12, depth_to_space_dcr, handmade=True, opset=OPSET),
        Spec("op_identity", "op", d, 5, identity_relu, handmade=True, opset=OPSET),
        Spec("op_pad_folded_constants", "op", d, 3, pad_from_folded_constants, handmade=True, opset=OPSET),
    ]
