"""A TF.js layers-model (model.json + float32 shards) as an ONNX model and as a PyTorch module, for the
peers: tessera reads model.json itself, ONNX Runtime and PyTorch need these. Covers the layers of the
UpscalerJS ESRGAN packages, with the meaning src/import/tfjs_layers.cpp gives them; NCHW in and out.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn
from torch.nn import functional as F


@dataclass
class Layer:
    name: str
    kind: str
    config: dict
    inputs: list
    weights: dict = field(default_factory=dict)  # "kernel" as OIHW, "bias"


def read(model_json):
    """Returns (layers in topological order, input name, output name) of a functional layers-model."""
    path = Path(model_json)
    spec = json.loads(path.read_text())
    weights = {}
    for group in spec["weightsManifest"]:
        data = b"".join((path.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w["dtype"] != "float32" or "quantization" in w:
                raise ValueError(f"{path}: weight {w['name']} is not plain float32")
            n = int(np.prod(w["shape"]))
            weights[w["name"]] = np.frombuffer(data, "<f4", n, offset).reshape(w["shape"])
            offset += 4 * n
    config = spec["modelTopology"]["model_config"]["config"]
    layers = []
    for entry in config["layers"]:
        name = entry["name"]
        inputs = [src[0] for src in entry["inbound_nodes"][0]] if entry["inbound_nodes"] else []
        layer = Layer(name, entry["class_name"], entry["config"], inputs)
        check(layer)
        if layer.kind == "Conv2D":
            layer.weights["kernel"] = weights[f"{name}/kernel"].transpose(3, 2, 0, 1).copy()  # HWIO -> OIHW
            if layer.config.get("use_bias", True):
                layer.weights["bias"] = weights[f"{name}/bias"].copy()
        layers.append(layer)
    (inp, *_), = config["input_layers"]
    (out, *_), = config["output_layers"]
    return layers, inp, out


def check(layer):
    """Refuses what the converters below do not cover (more than the ESRGAN models need is not here)."""
    c = layer.config
    kinds = ("InputLayer", "Conv2D", "Activation", "Add", "Concatenate", "UpSampling2D", "MultiplyBeta")
    if layer.kind not in kinds and not pixel_shuffle_scale(layer):
        raise ValueError(f"{layer.name}: layer class {layer.kind} is not supported")
    if c.get("activation", "linear") not in ("linear", "relu"):
        raise ValueError(f"{layer.name}: activation {c['activation']!r} is not supported (linear, relu)")
    if c.get("interpolation", "nearest") != "nearest" or c.get("axis", -1) not in (-1, 3):
        raise ValueError(f"{layer.name}: only nearest upsampling and channel concatenation are supported")


def conv_pads(layer):
    """Keras padding as ONNX pads [top, left, bottom, right]: 'same' (stride 1) puts the smaller half before."""
    c = layer.config
    if c.get("padding", "valid") == "valid":
        return [0, 0, 0, 0]
    if c.get("strides", [1, 1]) != [1, 1]:
        raise ValueError(f"{layer.name}: 'same' padding with strides {c['strides']} is not supported")
    totals = [d * (k - 1) for k, d in zip(c["kernel_size"], c.get("dilation_rate", [1, 1]))]
    return [t // 2 for t in totals] + [t - t // 2 for t in totals]


def pixel_shuffle_scale(layer):
    m = re.fullmatch(r"PixelShuffle(\d+)x", layer.kind)
    return int(m[1]) if m else None


def relu(layer):
    return layer.config.get("activation", "linear") == "relu"


def to_onnx(model_json, opset=13):
    """The ONNX model: input 'x' [1, C, height, width], output named after the last layer."""
    layers, inp, out = read(model_json)
    nodes, inits, names = [], [], {inp: "x"}

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, np.float32), name))
        return name

    for layer in layers:
        if layer.kind == "InputLayer":
            channels = layer.config["batch_input_shape"][3]
            continue
        x = [names[i] for i in layer.inputs]
        y = layer.name
        if layer.kind == "Conv2D":
            c = layer.config
            args = x + [const(f"{y}/kernel", layer.weights["kernel"])]
            if "bias" in layer.weights:
                args.append(const(f"{y}/bias", layer.weights["bias"]))
            conv_out = f"{y}/conv" if relu(layer) else y
            nodes.append(helper.make_node("Conv", args, [conv_out], pads=conv_pads(layer), strides=c["strides"],
                                          dilations=c["dilation_rate"], group=c.get("groups", 1),
                                          kernel_shape=c["kernel_size"]))
            if relu(layer):
                nodes.append(helper.make_node("Relu", [conv_out], [y]))
        elif layer.kind == "Activation":
            if relu(layer):
                nodes.append(helper.make_node("Relu", x, [y]))
            else:
                y = x[0]
        elif layer.kind == "Add":
            acc = x[0]  # left to right, as Keras adds
            for i, term in enumerate(x[1:], 1):
                target = y if i == len(x) - 1 else f"{y}/{i}"
                nodes.append(helper.make_node("Add", [acc, term], [target]))
                acc = target
        elif layer.kind == "Concatenate":
            nodes.append(helper.make_node("Concat", x, [y], axis=1))
        elif layer.kind == "UpSampling2D":
            sh, sw = layer.config.get("size", [2, 2])
            nodes.append(helper.make_node("Resize", [x[0], "", const(f"{y}/scales", [1, 1, sh, sw])], [y],
                                          mode="nearest", coordinate_transformation_mode="asymmetric",
                                          nearest_mode="floor"))
        elif layer.kind == "MultiplyBeta":
            nodes.append(helper.make_node("Mul", [x[0], const(f"{y}/beta", [layer.config.get("beta", 0.2)])], [y]))
        else:
            nodes.append(helper.make_node("DepthToSpace", x, [y], blocksize=pixel_shuffle_scale(layer), mode="DCR"))
        names[layer.name] = y
    graph = helper.make_graph(
        nodes, Path(model_json).parent.name, [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                            [1, channels, "height", "width"])],
        [helper.make_tensor_value_info(names[out], TensorProto.FLOAT, [1, None, None, None])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


class TfjsModule(nn.Module):
    """The model in eager PyTorch: one Conv2d per Conv2D layer, the rest as functions in forward."""

    def __init__(self, model_json):
        super().__init__()
        self.layers, self.inp, self.out = read(model_json)
        self.convs = nn.ModuleDict()
        for layer in self.layers:
            if layer.kind != "Conv2D":
                continue
            top, left, bottom, right = conv_pads(layer)
            if (top, left) != (bottom, right):
                raise ValueError(f"{layer.name}: asymmetric padding is not supported")
            kernel = torch.from_numpy(layer.weights["kernel"])
            conv = nn.Conv2d(kernel.shape[1] * layer.config.get("groups", 1), kernel.shape[0],
                             layer.config["kernel_size"], layer.config["strides"], (top, left),
                             layer.config["dilation_rate"], layer.config.get("groups", 1), "bias" in layer.weights)
            with torch.no_grad():
                conv.weight.copy_(kernel)
                if conv.bias is not None:
                    conv.bias.copy_(torch.from_numpy(layer.weights["bias"]))
            self.convs[layer.name] = conv
        # where each output is read last, so that forward frees it then, as a graph runtime would
        self.last_use = {src: i for i, layer in enumerate(self.layers) for src in layer.inputs}
        self.eval()

    def forward(self, x):
        values = {self.inp: x}
        for i, layer in enumerate(self.layers):
            if layer.kind == "InputLayer":
                continue
            x = [values[src] for src in layer.inputs]
            if layer.kind == "Conv2D":
                y = self.convs[layer.name](x[0])
                y = torch.relu(y) if relu(layer) else y
            elif layer.kind == "Activation":
                y = torch.relu(x[0]) if relu(layer) else x[0]
            elif layer.kind == "Add":
                y = x[0]
                for term in x[1:]:
                    y = y + term
            elif layer.kind == "Concatenate":
                y = torch.cat(x, 1)
            elif layer.kind == "UpSampling2D":
                y = F.interpolate(x[0], scale_factor=tuple(layer.config.get("size", [2, 2])), mode="nearest")
            elif layer.kind == "MultiplyBeta":
                y = x[0] * layer.config.get("beta", 0.2)
            else:
                y = depth_to_space_dcr(x[0], pixel_shuffle_scale(layer))
            values[layer.name] = y
            for src in layer.inputs:
                if self.last_use[src] == i:
                    values.pop(src, None)
        return values[self.out]


def depth_to_space_dcr(x, s):
    """ONNX DepthToSpace DCR (channels ordered row, column, channel); nn.PixelShuffle is CRD."""
    n, c, h, w = x.shape
    return x.reshape(n, s, s, c // (s * s), h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c // (s * s), h * s, w * s)
