"""From a source model to a .tsr file: compile an ONNX or TF.js file, or export a torch module."""

from __future__ import annotations

import inspect
import os
import tempfile
from typing import Optional

from . import _tessera
from ._module import Module, PathLike
from .errors import ArgumentError


class Dim:
    """A dynamic axis and the range it may take, as torch.export.Dim: Dim("height", min=256, max=1024).
    As in torch.export, `4 * Dim("height", min=64, max=256)` is the sizes 4 × (64..256): 256..1024 in
    steps of 4. tessera plans memory at the upper bound, so `max` is required."""

    def __init__(self, name: str, min: int = 1, max: Optional[int] = None, multiple_of: int = 1):
        if max is None:
            raise ArgumentError(f"Dim({name!r}) needs a max: tessera plans memory once, at the largest size; "
                                f"e.g. Dim({name!r}, min=16, max=1024)")
        if not all(isinstance(v, int) for v in (min, max, multiple_of)) or not (1 <= min <= max and multiple_of >= 1):
            raise ArgumentError(f"Dim({name!r}, min={min}, max={max}): need whole numbers with 1 <= min <= max")
        if max // multiple_of * multiple_of < min:
            raise ArgumentError(f"Dim({name!r}): no multiple of {multiple_of} lies in {min}..{max}")
        self.name, self.min, self.max, self.multiple_of = name, min, max, multiple_of

    def __rmul__(self, factor):
        if not isinstance(factor, int) or factor < 1:
            return NotImplemented
        return Dim(self.name, self.min * factor, self.max * factor, self.multiple_of * factor)

    def __repr__(self):
        step = f", multiple_of={self.multiple_of}" if self.multiple_of > 1 else ""
        return f"Dim({self.name!r}, min={self.min}, max={self.max}{step})"


def _as_dim(d):
    """A tessera Dim from a tessera Dim or a torch.export.Dim (which newer torch versions have)."""
    if isinstance(d, Dim):
        return d
    name = getattr(d, "__name__", None)
    if name is not None and hasattr(d, "min") and hasattr(d, "max"):
        return Dim(name, d.min, d.max)
    raise TypeError(f"{d!r} is not a tessera.Dim (nor a torch.export.Dim)")


def _dim_tuples(dims):
    if isinstance(dims, dict):
        dims = [Dim(name, *r) if isinstance(r, tuple) else _as_dim(r) for name, r in dims.items()]
    return [(d.name, d.min, d.max, d.multiple_of) for d in map(_as_dim, dims)]


def compile(source: PathLike, path: PathLike, dims, pixel_range: tuple = (0.0, 1.0), backend: str = "auto",
            threads: int = 1) -> Module:
    """Compiles an ONNX model (.onnx) or a TF.js layers-model (model.json) into `path` and loads it.

    dims: Dim objects, or {"height": (min, max[, multiple_of]), ...}, one for every dynamic dim.
    pixel_range: the values the model takes for black and white, (0, 1) or (0, 255); image files are
    converted to it.
    Errors raise with the compiler's message, e.g. "... try --dim height=32:256:4".
    """
    source, path = os.fspath(source), os.fspath(path)
    model = _tessera.compile(source, path, _dim_tuples(dims), float(pixel_range[0]), float(pixel_range[1]))
    return Module(model, backend, threads, name=os.path.basename(path))


def export(module, example_args, path: PathLike, dynamic_shapes, pixel_range: tuple = (0.0, 1.0),
           opset: int = 13) -> Module:
    """Exports a torch module with dynamic height and width into a .tsr file and loads it.

    dynamic_shapes is torch.export's structure: per input (by name or position) a {axis: Dim}.
    With torch 1.13 this goes through torch.onnx.export (dynamic_axes) and compiles in process.
    """
    import torch

    if not isinstance(example_args, tuple):
        example_args = (example_args,)
    names = list(inspect.signature(module.forward).parameters)[: len(example_args)]
    if isinstance(dynamic_shapes, (list, tuple)):
        dynamic_shapes = {names[i]: axes for i, axes in enumerate(dynamic_shapes) if axes}
    dynamic_axes, dims = {}, {}
    for key, axes in dynamic_shapes.items():
        name = names[key] if isinstance(key, int) else key
        if name not in names:
            raise ValueError(f"dynamic_shapes names '{key}', which is not an input of forward{tuple(names)}")
        dynamic_axes[name] = {}
        for axis, d in axes.items():
            d = _as_dim(d)
            if d.name in dims and vars(dims[d.name]) != vars(d):
                raise ValueError(f"dim '{d.name}' is given two ranges: {dims[d.name]} and {d}")
            dims[d.name] = d
            dynamic_axes[name][axis] = d.name
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, "model.onnx")
        module.eval()
        with torch.no_grad():
            torch.onnx.export(module, example_args, onnx_path, opset_version=opset, input_names=names,
                              dynamic_axes=dynamic_axes)
        return compile(onnx_path, path, list(dims.values()), pixel_range)
