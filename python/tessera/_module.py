"""A loaded model as a module: load once, call at any size in range."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

from . import _tessera
from .errors import MissingFileError, ShapeError

PathLike = Union[str, "os.PathLike[str]"]
Progress = Optional[Union[Callable[[int, int], None], object]]  # a callable(done, total) or a tqdm bar


@dataclass(frozen=True)
class MethodMeta:
    """What a model takes and gives, as ExecuTorch's method_meta tells it."""

    inputs: list          # [{"name", "axes"}]: per axis a size or a dim name
    outputs: list
    dims: list            # [{"name", "min", "max", "multiple_of"}]
    tiling: list          # per spatial axis {"halo_before", "halo_after", "alignment", "scale", "offset"}
    tileable: bool
    arena_bytes: int      # the memory one session plans at the dims' upper bounds
    content_hash: str     # "sha256:..." of what determines the outputs; None for files older than 0.2
    pixel_range: tuple


def _as_array(x, what="the input"):
    """A NumPy view of a torch CPU tensor (no copy), or x itself; and whether x was a torch tensor."""
    if type(x).__module__.startswith("torch"):
        if x.device.type != "cpu":
            raise TypeError(f"{what} is on {x.device}; tessera runs on the CPU: pass x.cpu()")
        if str(x.dtype) != "torch.float32":
            raise ShapeError(f"{what} is {x.dtype}; tessera computes in float32: convert it with x.float()")
        return x.detach().numpy(), True
    return x, False


def _progress_callback(progress):
    """A callable(done, total) from a callable, a tqdm-like bar (update, total, n) or None."""
    if progress is None or not hasattr(progress, "update"):
        return progress
    bar = progress

    def update(done, total):
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    return update


def run_image(model: Union[PathLike, "Module"], input: PathLike, output: PathLike, tile: int = 0,
              threads: Optional[int] = None, halo: int = 0, backend: str = "auto", progress: Progress = None,
              bands: Sequence[int] = (), pad: Optional[str] = None, autorotate: bool = True,
              quality: int = 0, precision: Optional[str] = None) -> dict:
    """Runs a model (a path or a loaded Module) over an image file and writes an image file,
    streamed band by band: memory depends on the tile size and the image width, not its height.
    Larger images than the model's maximum are tiled; the output (format from its extension, libvips
    options as in "out.jpg[Q=95]", or quality=1..100) is written to a temporary name and renamed at
    the end, so an error or Ctrl-C leaves nothing behind. EXIF, ICC, XMP, resolution and GeoTIFF
    georeferencing are carried over, scaled with the model. bands=(3, 2, 1) picks the file's bands
    (from 1) fed to the model; pad='mirror'|'edge'|'zero' pads an image below the model's minimum or
    off its multiple and crops the output back; autorotate=False keeps the pixels as stored instead
    of applying the EXIF orientation; precision='fp32'|'bf16' (default: the Module's). Returns a dict
    with the sizes, the tiles and the metadata kept and dropped."""
    if not isinstance(model, Module):
        model = load(model)
    native, threads = model._model, threads or model._threads
    backend = model._backend if backend == "auto" else backend
    precision = precision or model._precision
    if not os.path.exists(os.fspath(input)):
        raise MissingFileError(f"no image file '{os.fspath(input)}'")
    return _tessera.run_image(native, os.fspath(input), os.fspath(output), tile, halo, threads, backend,
                              _progress_callback(progress), list(bands), pad or "", autorotate, quality,
                              precision)


class Module:
    """A compiled model, loaded once; every call runs any input size in the model's range.

    Inputs are float32 NumPy arrays or torch CPU tensors, read in place when C-contiguous.
    Outputs are NumPy arrays for NumPy inputs and torch tensors for torch inputs.
    """

    def __init__(self, model: _tessera.Model, backend: str = "auto", threads: int = 1, name: str = "",
                 precision: str = "fp32"):
        """Made by tessera.load, compile and export."""
        self._model, self._name = model, name
        self._runner = _tessera.Runner(model, backend, threads, precision)
        self._meta = model.describe()
        self._backend, self._threads, self._precision = backend, threads, precision

    @property
    def backend(self) -> str:
        """The backend that runs this module ("auto" resolved)."""
        return self._runner.backend

    @property
    def precision(self) -> str:
        """What convolutions multiply in: "fp32" or "bf16"."""
        return self._precision

    def forward(self, *inputs, out=None):
        """Runs the model; returns its output (a tuple for several), or fills `out` (an array, or a
        sequence with one array per output) without allocating."""
        arrays, torch_in = zip(*(_as_array(x, f"input {i}") for i, x in enumerate(inputs))) if inputs else ((), ())
        targets = None if out is None else ([out] if not isinstance(out, (list, tuple)) else list(out))
        if targets is not None:
            self._runner.run(list(arrays), [_as_array(t, f"out[{i}]")[0] for i, t in enumerate(targets)])
            return targets[0] if len(targets) == 1 else tuple(targets)
        results = self._runner.run(list(arrays), None)
        if any(torch_in):
            import torch
            results = [torch.from_numpy(r) for r in results]
        return results[0] if len(results) == 1 else tuple(results)

    __call__ = forward

    def run_tiled(self, x, tile: int = 0, threads: Optional[int] = None, workers: int = 0, halo: int = 0,
                  progress: Progress = None):
        """Runs x ([N, C, H, W], of any size, above the model's maximum too) in tiles whose stitched
        output equals the whole-image output bit for bit. tile: the core size (0: the largest that
        fits); workers: tile workers sharing `threads` (0: chosen); progress: called with
        (tiles done, tiles) or a tqdm bar. Ctrl-C stops the run (KeyboardInterrupt)."""
        array, torch_in = _as_array(x)
        out, self.last_tiled_report = _tessera.run_tiled(self._model, array, tile, halo, threads or self._threads,
                                                         workers, self._backend, _progress_callback(progress),
                                                         self._precision)
        if torch_in:
            import torch
            return torch.from_numpy(out)
        return out

    def verify(self, x, tile: int = 0, threads: Optional[int] = None, workers: int = 0, halo: int = 0) -> dict:
        """Runs x whole and in tiles and compares them: a dict with max_difference, differing (of
        elements), tiles, tile_shapes, core, workers, full_ms, tiled_ms and the arenas' bytes."""
        array, _ = _as_array(x)
        return _tessera.verify(self._model, array, tile, halo, threads or self._threads, workers, self._backend,
                               self._precision)

    def run_method(self, name: str, inputs: Sequence) -> list:
        """ExecuTorch's spelling: run_method("forward", (x,)) returns a list of outputs."""
        if name != "forward":
            raise ValueError(f"a tessera model has one method, 'forward'; got '{name}'")
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"run_method takes its inputs as a tuple or list, e.g. run_method('forward', (x,)); "
                            f"got a {type(inputs).__name__}")
        result = self.forward(*inputs)
        return list(result) if isinstance(result, tuple) else [result]

    def method_meta(self, name: str = "forward") -> MethodMeta:
        """The inputs, outputs, dims with their ranges, tiling, arena size and content hash."""
        if name != "forward":
            raise ValueError(f"a tessera model has one method, 'forward'; got '{name}'")
        m = self._meta
        return MethodMeta(m["inputs"], m["outputs"], m["dims"], m["tiling"], m["tileable"], m["arena_bytes"],
                          m["content_hash"], m["pixel_range"])

    def __repr__(self):
        dims = ", ".join(f"{d['name']} {d['min']}..{d['max']}" for d in self._meta["dims"])
        on = self.backend if self._precision == "fp32" else f"{self.backend} {self._precision}"
        return f"<tessera.Module {self._name or self._meta['source']} ({dims}) on {on}>"


def backends() -> tuple[list[str], str]:
    """The backends built into this tessera, and the one "auto" picks on this CPU: (names, auto)."""
    return _tessera.available_backends(), _tessera.auto_backend()


def load(path: PathLike, backend: str = "auto", threads: int = 1, precision: str = "fp32") -> Module:
    """Loads a .tsr file once (mapped and verified) for a module that runs every size in its range.

    backend: "auto", "reference", "xnnpack" or "onednn"; threads: threads inside each run;
    precision: what convolutions multiply in, "fp32" or "bf16" (onednn only; docs/precision.md).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MissingFileError(f"no model file '{path}'; compile one with tessera.compile or tessera.export")
    return Module(_tessera.Model.load(path), backend, threads, name=os.path.basename(path), precision=precision)
