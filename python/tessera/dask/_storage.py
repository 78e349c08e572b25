"""Storage for blocks: images read lazily from Zarr stores and (Big)TIFF files, outputs written to
Zarr chunk by chunk, and a finished Zarr turned into a tiled pyramidal TIFF."""

from __future__ import annotations

import os
import shutil

import numpy as np

from ..errors import MissingFileError, ShapeError

_TIFF = (".tif", ".tiff", ".btf", ".tf8", ".svs")


class _TiffPages:
    """A TIFF's first image as a lazily read array for Dask: a tile or strip is read when a block
    asks for it. Pickles as its path, so each worker opens the file itself."""

    def __init__(self, path: str):
        import tifffile
        import zarr
        self.path = path
        store = tifffile.imread(path, aszarr=True)
        z = zarr.open(store, mode="r")
        self._array = z[0] if isinstance(z, zarr.hierarchy.Group) else z  # a pyramid: its full resolution
        self.shape, self.dtype, self.chunks = self._array.shape, self._array.dtype, self._array.chunks
        self.ndim = len(self.shape)

    def __getitem__(self, key):
        return self._array[key]

    def __reduce__(self):
        return _TiffPages, (self.path,)


def _is_url(path: str) -> bool:
    return "://" in path


def open_image(path, chunks=None):
    """A Dask array over an image, read lazily: a Zarr store (a directory, or a URL such as
    s3://bucket/scan.zarr through fsspec; its first array when a group) or a TIFF/BigTIFF file (its
    full resolution, by tile or strip). (H, W) or (H, W, C) as stored. chunks: Dask's chunks to read
    in (default: the store's own)."""
    import dask.array as da
    import zarr

    path = os.fspath(path)
    if not _is_url(path) and not os.path.exists(path):
        raise MissingFileError(f"no image '{path}'")
    if path.lower().endswith(_TIFF) and not _is_url(path):
        pages = _TiffPages(path)
        # lock: one read at a time per process; a TIFF's file handle is not for concurrent readers.
        return da.from_array(pages, chunks=chunks or pages.chunks, lock=True,
                             name=f"tiff-{os.path.abspath(path)}-{os.path.getmtime(path)}")
    if _is_url(path) or os.path.isdir(path):
        z = zarr.open(path, mode="r")
        if isinstance(z, zarr.hierarchy.Group):
            names = sorted(z.array_keys())
            if not names:
                raise ShapeError(f"the Zarr group '{path}' holds no array")
            z = z[names[0]]
        return da.from_zarr(z, chunks=chunks) if chunks else da.from_zarr(z)
    raise ShapeError(f"'{path}' is neither a Zarr store (a directory or a URL) nor a TIFF ({', '.join(_TIFF)}); "
                     f"for other images use 'tessera run', or convert them with tifffile or libvips")


def _regular(chunks: tuple) -> bool:
    """Zarr's chunking: all chunks of an axis equal but the last, which may be smaller."""
    return all(len(set(c[:-1])) <= 1 and (len(c) < 2 or c[-1] <= c[0]) for c in chunks)


def to_zarr(y, path, overwrite: bool = False, compute: bool = True):
    """Writes a Dask array to a Zarr store (a directory, or a URL through fsspec), one Dask chunk per
    Zarr chunk: no two tasks write the same chunk, and a recomputed block rewrites its chunk whole
    (a directory store replaces each chunk file atomically). Blocks whose output sizes are not
    Zarr-regular are regrouped first."""
    import dask.array as da

    path = os.fspath(path)
    if not overwrite and not _is_url(path) and os.path.exists(path):  # a URL's store says so itself
        raise FileExistsError(f"'{path}' exists; remove it or pass overwrite=True (--overwrite)")
    if not _regular(y.chunks):
        y = y.rechunk(tuple(max(c) for c in y.chunks))
    return da.to_zarr(y, path, overwrite=overwrite, compute=compute)


def _downsample(level, factor: int):
    """The mean of each factor x factor square, rounded for integer images."""
    import dask.array as da

    axes = {0: factor, 1: factor}
    mean = da.coarsen(np.mean, level.astype(np.float32), axes, trim_excess=True)
    return mean if level.dtype == np.float32 else da.round(mean).astype(level.dtype)


def zarr_to_tiff(zarr_path, tiff_path, tile: int = 256, levels: int = 0, compression: str = "zlib"):
    """Turns a finished Zarr image ((H, W) or (H, W, C)) into a tiled pyramidal BigTIFF: the full
    resolution and `levels` halvings as sub-resolutions (0: until the image fits one tile), written
    band of tiles by band of tiles, so memory stays at one band. Written to a temporary name and
    renamed, so a failure leaves no partial file."""
    import dask.array as da
    import tifffile
    import zarr

    z = zarr.open(os.fspath(zarr_path), mode="r")
    image = da.from_zarr(z)
    if image.ndim not in (2, 3):
        raise ShapeError(f"a Zarr array of shape {image.shape}: a TIFF takes (H, W) or (H, W, C) images")
    if tile % 16:
        raise ShapeError(f"tile={tile}: TIFF tiles are multiples of 16")
    if levels == 0:
        while max(image.shape[:2]) >> levels > tile:
            levels += 1
    pyramid = [image] + [_downsample(image, 2 ** k) for k in range(1, levels + 1)]
    photometric = "rgb" if image.ndim == 3 and image.shape[2] in (3, 4) else "minisblack"
    part = os.fspath(tiff_path) + ".part"
    with tifffile.TiffWriter(part, bigtiff=True) as tif:
        for k, level in enumerate(pyramid):
            tif.write(_tiles(level, tile), shape=level.shape, dtype=level.dtype, tile=(tile, tile),
                      photometric=photometric, compression=compression, subifds=levels if k == 0 else None,
                      subfiletype=1 if k else 0, extrasamples=("unassalpha",) if photometric == "rgb" and
                      image.shape[-1] == 4 else None)
    os.replace(part, tiff_path)


def _tiles(level, tile: int):
    """The level's tiles in TIFF order (row by row), computing one band of tile rows at a time."""
    height, width = level.shape[:2]
    for y in range(0, height, tile):
        band = np.asarray(level[y:y + tile].compute())
        for x in range(0, width, tile):
            t = band[:, x:x + tile]
            if t.shape[:2] != (tile, tile):  # edge tiles are padded to the tile size
                padded = np.zeros((tile, tile) + t.shape[2:], t.dtype)
                padded[:t.shape[0], :t.shape[1]] = t
                t = padded
            yield t


def remove_store(path):
    """Removes a Zarr store (a directory) if it exists."""
    shutil.rmtree(os.fspath(path), ignore_errors=True)
