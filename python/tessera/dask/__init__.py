"""tessera on Dask: a compiled model over a Dask array, block by block across a cluster, with the
output bit-identical to `tessera run` on one machine.

    import tessera.dask as td
    y = td.run("model.tsr", td.open_image("slide.tif"))   # lazy: a Dask array of the output
    td.to_zarr(y, "out.zarr")                             # computed, written chunk by chunk

Each block is a chunk of the input with the overlap its window needs from its neighbours (Dask's
overlap with boundary 'none': clipped at the image's border, never padded, as tessera's tiles are);
the model runs on the window and the block keeps its core of the output. Chunks are planned on the
model's grid within its size range (see plan). Workers load each model once, by path or by bytes.
"""

from __future__ import annotations

import os
import warnings
from typing import Optional, Union

import numpy as np

from .. import _tessera
from ..errors import ArgumentError, ShapeError
from ._plan import BlockPlan, Layout, plan
from ._storage import open_image, to_zarr, zarr_to_tiff
from ._worker import ModelRef, cached_models, run_block

__all__ = ["run", "plan", "BlockPlan", "RechunkWarning", "open_image", "to_zarr", "zarr_to_tiff", "cached_models"]


class RechunkWarning(UserWarning):
    """The input's chunks did not fit the model, so it was rechunked: the message says how and why."""


def _check_batch_and_channels(native, batch: int, channels: int):
    """Whether the model takes `batch` images of `channels` channels: before any block runs."""
    axes = native.describe()["inputs"][0]["axes"]
    if axes[1].isdigit() and int(axes[1]) != channels:
        raise ShapeError(f"the image has {channels} channels; the model takes {axes[1]}")
    if axes[0].isdigit() and int(axes[0]) != batch:
        raise ShapeError(f"a batch of {batch}; the model takes {axes[0]} at a time: split the batch")


def run(model: Union[str, "os.PathLike[str]"], x, block: int = 0, threads: int = 1, backend: str = "auto",
        send_model: bool = False, precision: str = "fp32"):
    """Runs a compiled model over `x`, a Dask array (or a NumPy one): an (H, W) or (H, W, C) image, or
    an (N, C, H, W) tensor. Returns a Dask array of the output, in the same layout, chunked by block.

    8- and 16-bit images are scaled to the model's pixel range and back, as `tessera run` does;
    float32 arrays go in as they are. x's chunks are kept when the model takes them; otherwise it is
    rechunked in blocks of at most `block` pixels (0: the largest the model takes), with a
    RechunkWarning saying so. threads: each block's run; send_model: send the .tsr's bytes to the
    workers (once each) instead of its path, for workers that do not share the client's files;
    precision: what convolutions multiply in, "fp32" or "bf16" (onednn only; docs/precision.md).
    Errors (a missing model file, a model that cannot be tiled, an image it cannot take) are raised
    here, before any work is scheduled."""
    import dask.array as da
    from dask.base import tokenize

    ref = ModelRef.of(os.fspath(model), send_model)
    native = _tessera.Model.load(os.fspath(model))
    x = x if isinstance(x, da.Array) else da.from_array(x)
    layout = Layout.of(x.shape)
    if x.dtype not in (np.uint8, np.uint16, np.float32):
        raise ShapeError(f"an array of {x.dtype}: tessera.dask takes 8- or 16-bit images or float32; convert it "
                         f"with x.astype(numpy.float32)")
    if backend != "auto" and backend not in _tessera.available_backends():
        raise ArgumentError(f"backend '{backend}' is not built into this tessera; give auto or one of "
                            f"{', '.join(_tessera.available_backends())}")
    if threads < 1:
        raise ArgumentError(f"threads={threads}: give 1 or more threads per block")
    _tessera.check_precision(backend, precision)
    meta = native.describe()
    if not meta["tileable"]:
        raise ShapeError(f"the model cannot be tiled, so it cannot run in blocks: {meta['not_tileable_because']}")
    hy, wx = layout.spatial
    p = plan(native, x.shape, (x.chunks[hy], x.chunks[wx]), block)
    if p.rechunked:
        warnings.warn(f"rechunked to {p.describe()}: {p.reason}", RechunkWarning, stacklevel=2)
    n, c = (x.shape[0] if layout.ndim == 4 else 1), p.out_channels
    _check_batch_and_channels(native, n, layout.channels(x.shape))
    whole = {a: -1 for a in range(x.ndim) if a not in layout.spatial}
    x = x.rechunk({**whole, hy: tuple(p.chunks[0]), wx: tuple(p.chunks[1])})
    # Dask's overlap (map_overlap's first half, boundary 'none'); a model without a halo needs none.
    overlapped = da.overlap.overlap(x, depth={hy: p.depth[0], wx: p.depth[1]}, boundary="none") if any(
        p.depth[0] + p.depth[1]) else x
    out_dtype = np.dtype(x.dtype)  # pixels come back as pixels of the same depth
    spatial_chunks = p.out_chunks
    if layout.ndim == 4:
        chunks, out_block = ((n,), (c,)) + spatial_chunks, (n, c, 0, 0)
    elif layout.ndim == 3:
        chunks, out_block = spatial_chunks + ((c,),), (0, 0, c)
    else:
        if c != 1:
            raise ShapeError(f"the model gives {c} channels from one: give the image as (H, W, 1)")
        chunks, out_block = spatial_chunks, (0, 0)
    starts = [np.cumsum((0,) + tuple(ch))[:-1].tolist() for ch in p.chunks]
    spec = dict(spatial=layout.spatial, rows=p.rows, cols=p.cols, row_starts=starts[0], col_starts=starts[1],
                depth=p.depth, out_block=out_block, out_dtype=out_dtype, pixel_range=meta["pixel_range"],
                backend=backend, threads=threads, precision=precision)
    model_arg = ref
    if ref.data is not None:  # one key in the graph, sent to each worker once, not with every block
        import dask
        model_arg = dask.delayed(ref, pure=True, traverse=False)
    return overlapped.map_blocks(run_block, model_arg, spec, chunks=chunks, dtype=out_dtype,
                                 name=f"tessera-run-{tokenize(overlapped.name, ref.sha256, spec)}",
                                 meta=np.empty((0,) * x.ndim, out_dtype))
