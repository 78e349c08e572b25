"""What runs on the workers: a model loaded once per worker process (cached by its hash) and the
function that runs one block."""

from __future__ import annotations

import hashlib
import os
import queue
import tempfile
import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import _tessera
from ..errors import InvalidModelError, MissingFileError


def file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelRef:
    """A .tsr as a worker finds it: by path on a shared file system, or by its bytes (sent once per
    worker as one key of the graph). `sha256` names it in the workers' cache and checks the path."""

    sha256: str
    path: Optional[str] = None
    data: Optional[bytes] = None

    @staticmethod
    def of(path: str, send_bytes: bool) -> "ModelRef":
        if not os.path.exists(path):
            raise MissingFileError(f"no model file '{path}'; compile one with tessera.compile or 'tessera compile'")
        if send_bytes:
            with open(path, "rb") as f:
                data = f.read()
            return ModelRef(hashlib.sha256(data).hexdigest(), data=data)
        return ModelRef(file_hash(path), path=os.path.abspath(path))

    def __repr__(self):  # in Dask's task names and errors: never the bytes
        return f"ModelRef(sha256={self.sha256[:12]}, {'path=' + self.path if self.path else f'{len(self.data)} bytes'})"

    def local_path(self) -> str:
        """A file with this model on this machine: the shared path (checked against the hash once per
        process), or the bytes written once under the temporary directory."""
        if self.path is not None:
            if not os.path.exists(self.path):
                raise MissingFileError(f"no model file '{self.path}' on this worker; share the file system, or "
                                       f"send the model's bytes (send_model=True, --send-model)")
            if file_hash(self.path) != self.sha256:
                raise InvalidModelError(f"the model file '{self.path}' on this worker differs from the client's; "
                                        f"send the model's bytes (send_model=True, --send-model)")
            return self.path
        path = os.path.join(tempfile.gettempdir(), f"tessera-model-{self.sha256}.tsr")
        if not os.path.exists(path):
            fd, part = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".part")
            with os.fdopen(fd, "wb") as f:
                f.write(self.data)
            os.replace(part, path)  # atomic: another process of this machine may be writing it too
        return path


# Per worker process: the loaded models by hash, and idle runners (one session each) per
# (hash, backend, threads, precision), so blocks on several worker threads do not wait for one session.
_models: dict = {}
_runners: dict = {}
_lock = threading.Lock()


def _take_runner(ref: ModelRef, backend: str, threads: int, precision: str):
    with _lock:
        if ref.sha256 not in _models:
            _models[ref.sha256] = _tessera.Model.load(ref.local_path())
        idle = _runners.setdefault((ref.sha256, backend, threads, precision), queue.SimpleQueue())
    try:
        return idle.get_nowait(), idle
    except queue.Empty:  # a session of its own for this thread, made outside the lock
        return _tessera.Runner(_models[ref.sha256], backend, threads, precision), idle


def cached_models() -> list:
    """The hashes of the models this process has loaded (what a worker's cache holds)."""
    return sorted(_models)


def to_model_values(pixels: np.ndarray, pixel_range) -> np.ndarray:
    """8- or 16-bit pixels as the model's float values: PixelScale's arithmetic (src/io/pixel_scale.h),
    in float32 step by step, so the values are those `tessera run` feeds the model."""
    top = np.float32(65535 if pixels.dtype == np.uint16 else 255)
    lo, hi = np.float32(pixel_range[0]), np.float32(pixel_range[1])
    table = np.arange(int(top) + 1, dtype=np.float32) * ((hi - lo) / top) + lo
    return table[pixels]


def to_pixels(values: np.ndarray, pixel_range, dtype) -> np.ndarray:
    """The model's values as pixels, clamped and rounded to the nearest (PixelScale::to_pixel)."""
    top = np.float32(65535 if dtype == np.uint16 else 255)
    lo, hi = np.float32(pixel_range[0]), np.float32(pixel_range[1])
    v = (values - lo) * (top / (hi - lo))
    v = np.where(v > 0, np.minimum(v, top), np.float32(0))  # NaN too becomes 0
    return np.rint(v).astype(dtype)


def run_block(block: np.ndarray, model: ModelRef, spec: dict, block_info=None) -> np.ndarray:
    """Runs one block: `block` is the chunk with its overlap (Dask's, boundary 'none'); the model runs
    on the planned window inside it and the block's output core is cropped out."""
    i, j = (block_info[0]["chunk-location"][a] for a in spec["spatial"])
    rows, cols = spec["rows"][i], spec["cols"][j]
    out_shape = list(spec["out_block"])
    out_shape[spec["spatial"][0]], out_shape[spec["spatial"][1]] = rows[3] - rows[2], cols[3] - cols[2]
    if rows[1] == rows[0] or cols[1] == cols[0]:  # past the end of an output smaller than the input
        return np.empty(out_shape, spec["out_dtype"])
    # Where the block starts in the image: its chunk's start less the overlap, clipped at 0.
    y0 = max(0, spec["row_starts"][i] - spec["depth"][0][0])
    x0 = max(0, spec["col_starts"][j] - spec["depth"][1][0])
    window = (slice(rows[0] - y0, rows[1] - y0), slice(cols[0] - x0, cols[1] - x0))
    if block.ndim == 4:
        x = block[:, :, window[0], window[1]]
    else:
        x = (block[window] if block.ndim == 3 else block[window][..., None]).transpose(2, 0, 1)[None]
    x = to_model_values(x, spec["pixel_range"]) if x.dtype != np.float32 else x
    runner, idle = _take_runner(model, spec["backend"], spec["threads"], spec["precision"])
    try:
        y = runner.run([np.ascontiguousarray(x)], None)[0]
    finally:
        idle.put(runner)
    y = y[:, :, rows[4]:rows[4] + rows[3] - rows[2], cols[4]:cols[4] + cols[3] - cols[2]]
    if block.ndim != 4:
        y = y[0].transpose(1, 2, 0)
        y = y[..., 0] if block.ndim == 2 else y
    if spec["out_dtype"] != np.float32:
        y = to_pixels(y, spec["pixel_range"], spec["out_dtype"])
    return np.ascontiguousarray(y, dtype=spec["out_dtype"])
