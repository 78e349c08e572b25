"""The block plan: a Dask chunking of an image on the model's tiling grid, and per block the window
the model runs and the core it keeps, from the same planner as tiled runs (tessera/tiling.h)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import _tessera
from ..errors import ArgumentError, ShapeError


@dataclass(frozen=True)
class Layout:
    """Where an array keeps its height, width and channels: (H, W) and (H, W, C) images, as TIFF and
    Zarr images are stored, or (N, C, H, W) tensors."""

    ndim: int

    @property
    def spatial(self) -> tuple:
        return (2, 3) if self.ndim == 4 else (0, 1)

    def channels(self, shape) -> int:
        return shape[1] if self.ndim == 4 else (shape[2] if self.ndim == 3 else 1)

    @staticmethod
    def of(shape) -> "Layout":
        if len(shape) not in (2, 3, 4):
            raise ShapeError(f"an array of shape {tuple(shape)}: tessera.dask takes (H, W) or (H, W, C) images, "
                             f"or (N, C, H, W) tensors")
        return Layout(len(shape))


@dataclass(frozen=True)
class BlockPlan:
    """How an image is cut into blocks for a model.

    chunks: the input chunks along (height, width); rechunked: whether they differ from the array's
    own (and why, in `reason`); depth: the overlap each block borrows from its neighbours per axis,
    (before, after); rows, cols: per chunk (window_begin, window_end, out_begin, out_end, crop_begin)
    in pixels; out_size: the output's (height, width); out_channels: its channels.
    """

    chunks: tuple
    rechunked: bool
    reason: str
    depth: tuple
    rows: list
    cols: list
    out_size: tuple
    out_channels: int

    @property
    def blocks(self) -> int:
        return len(self.rows) * len(self.cols)

    @property
    def out_chunks(self) -> tuple:
        return tuple(tuple(s[3] - s[2] for s in axis) for axis in (self.rows, self.cols))

    @property
    def recomputed_fraction(self) -> float:
        """The share of the pixels run that are halo (run by two blocks or more), not core."""
        run = sum((r[1] - r[0]) * (c[1] - c[0]) for r in self.rows for c in self.cols if r[1] > r[0] and c[1] > c[0])
        core = sum(self.chunks[0]) * sum(self.chunks[1])
        return 1 - core / run if run else 0.0

    def describe(self) -> str:
        shape = "x".join(str(max(c)) for c in self.chunks)
        (top, bottom), (left, right) = self.depth
        return f"{self.blocks} blocks of up to {shape} pixels, overlapping by {top}+{bottom} rows and {left}+{right} columns"


def _depth(spans, chunks) -> tuple:
    """The overlap (before, after) that gives every block its whole window."""
    before, after, begin = 0, 0, 0
    for (wb, we, ob, oe, _), size in zip(spans, chunks):
        if we > wb:
            before, after = max(before, begin - wb), max(after, we - begin - size)
        begin += size
    return before, after


def _plan(model, height, width, chunks, block):
    p = _tessera.plan_blocks(model, height, width, list(chunks[0]) if chunks else [], list(chunks[1]) if chunks else [],
                             block)
    depth = (_depth(p["rows"], p["chunks"][0]), _depth(p["cols"], p["chunks"][1]))
    # Dask's overlap takes a block's overlap from its next neighbours only.
    for axis, name in ((0, "height"), (1, "width")):
        smallest = min(p["chunks"][axis])
        if len(p["chunks"][axis]) > 1 and max(depth[axis]) > smallest:
            raise ShapeError(f"a {name} chunk of {smallest} pixels is smaller than the model's overlap "
                             f"{max(depth[axis])}; use larger chunks")
    return p, depth


def plan(model, shape, chunks=None, block: int = 0) -> BlockPlan:
    """Plans the blocks for an array of `shape` (see Layout) with its chunks along height and width
    (None: plan them). The array's chunks are kept when the model takes them (on its grid, windows
    within its maximum, not smaller than its overlap); otherwise the image is rechunked in blocks of
    at most `block` pixels (0: the largest the model takes), balanced on the model's grid. Errors
    (a model that cannot be tiled, an image outside its range) come before any work is scheduled."""
    native = model._model if hasattr(model, "_model") else model
    layout = Layout.of(shape)
    height, width = (shape[a] for a in layout.spatial)
    reason = ""
    if chunks is not None and not block:
        try:
            p, depth = _plan(native, height, width, chunks, 0)
            return BlockPlan(tuple(tuple(c) for c in p["chunks"]), False, "", depth, p["rows"], p["cols"], p["out_size"],
                             p["out_channels"])
        except ArgumentError as e:
            reason = str(e)
    elif chunks is not None:
        reason = f"block={block} was given"
    p, depth = _plan(native, height, width, None, block)
    return BlockPlan(tuple(tuple(c) for c in p["chunks"]), chunks is not None and tuple(map(tuple, chunks)) != tuple(
        map(tuple, p["chunks"])), reason, depth, p["rows"], p["cols"], p["out_size"], p["out_channels"])
