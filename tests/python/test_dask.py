"""tessera.dask on a local cluster of 2 worker processes (1 thread each, loopback only): blocks
bit-identical to one process, images and TIFFs as `tessera run` writes them, the workers' model
cache, a worker killed mid-run, and the errors raised before any work is scheduled."""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import dask.array as da
import distributed
import numpy as np
import pytest
import tifffile
import zarr

import tessera
import tessera.dask as td
from conftest import TESTDATA

# A same-size model, the U-Net (alignment 4), a x2 super-resolution one, and one of "valid" convs
# whose output is smaller and offset.
MODELS = ["dense_residual", "unet", "sr_pixelshuffle", "valid_convs"]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def model(name):
    """A test model as the build compiled it (tests/runtime/compile_test_models.py)."""
    return str(TESTDATA / "compiled" / f"{name}.tsr")


def bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def image(shape, seed=0):
    return (np.random.default_rng(seed).random(shape) * 256).astype(np.uint8)


@pytest.mark.parametrize("name", MODELS)
def test_blocks_on_two_workers_equal_one_process_bit_for_bit(client, name):
    x = np.random.default_rng(1).random((1, 3, 512, 448), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", td.RechunkWarning)  # 128-pixel chunks suit every model here
        y = td.run(model(name), da.from_array(x, chunks=(1, 3, 128, 128)))
    assert y.numblocks[2] * y.numblocks[3] >= 16
    expected = tessera.load(model(name)).run_tiled(x)
    out = y.compute()
    assert out.shape == expected.shape and out.dtype == np.float32
    assert np.array_equal(bits(out), bits(expected))


@pytest.mark.skipif("onednn" not in tessera.backends()[0], reason="bf16 runs on the onednn backend")
def test_bf16_blocks_equal_one_process_in_bf16(client):
    x = np.random.default_rng(2).random((1, 3, 256, 192), dtype=np.float32)
    y = td.run(model("sr_pixelshuffle"), da.from_array(x, chunks=(1, 3, 64, 64)), precision="bf16")
    expected = tessera.load(model("sr_pixelshuffle"), precision="bf16").run_tiled(x)
    assert np.array_equal(bits(y.compute()), bits(expected))


def test_a_model_without_halo_runs_its_chunks_as_they_are(client):
    x = np.random.default_rng(9).random((1, 3, 200, 150), dtype=np.float32)
    y = td.run(model("op_relu"), da.from_array(x, chunks=(1, 3, 50, 50)))
    assert not any("overlap" in str(k) for k in dict(y.__dask_graph__()))
    assert np.array_equal(bits(y.compute()), bits(tessera.load(model("op_relu")).run_tiled(x)))


@pytest.mark.parametrize("name", ["unet", "sr_pixelshuffle"])
def test_tiff_to_zarr_equals_tessera_run_on_the_image(client, tmp_path, name):
    pixels = image((600, 520, 3), seed=2)
    tifffile.imwrite(tmp_path / "in.tif", pixels, tile=(128, 128), photometric="rgb")
    tessera.run_image(model(name), tmp_path / "in.tif", tmp_path / "expected.tif")
    x = td.open_image(tmp_path / "in.tif")
    assert x.chunks[0][0] == 128 and x.dtype == np.uint8  # read lazily, by the file's tiles
    y = td.run(model(name), x)
    td.to_zarr(y, tmp_path / "out.zarr")
    out = zarr.open(str(tmp_path / "out.zarr"), mode="r")
    assert out.chunks[:2] == tuple(c[0] for c in y.chunks[:2])  # one block per Zarr chunk
    assert np.array_equal(out[:], tifffile.imread(tmp_path / "expected.tif"))


def test_zarr_stores_by_url_through_fsspec(client, tmp_path):
    pixels = image((512, 384, 3), seed=8)
    zarr.save_array(str(tmp_path / "in.zarr"), pixels, chunks=(128, 128, 3))
    y = td.run(model("sr_pixelshuffle"), td.open_image(f"file://{tmp_path}/in.zarr"))
    td.to_zarr(y, f"file://{tmp_path}/out.zarr")
    with pytest.raises(ValueError, match="contains an array"):  # a URL's store refuses to be overwritten
        td.to_zarr(y, f"file://{tmp_path}/out.zarr")
    expected = td.run(model("sr_pixelshuffle"), da.from_array(pixels, chunks=(256, 192, 3))).compute()
    assert np.array_equal(zarr.open(str(tmp_path / "out.zarr"), "r")[:], expected)


def test_16_bit_and_grey_images_keep_their_type(client, tmp_path):
    pixels = (np.random.default_rng(3).random((512, 640)) * 65536).astype(np.uint16)
    grey = tmp_path / "grey.tif"
    tifffile.imwrite(grey, pixels, tile=(256, 256))
    tessera.run_image(model("tiny"), grey, tmp_path / "expected.tif")  # one channel
    y = td.run(model("tiny"), td.open_image(grey))
    assert y.shape == pixels.shape and y.dtype == np.uint16
    assert np.array_equal(y.compute(), tifffile.imread(tmp_path / "expected.tif"))


def test_input_chunks_the_model_cannot_take_are_rechunked_and_reported():
    x = da.zeros((1, 3, 520, 460), dtype=np.float32, chunks=(1, 3, 248, 460))
    with pytest.warns(td.RechunkWarning, match=r"rechunked to \d+ blocks .*above the model's maximum 256"):
        y = td.run(model("unet"), x)
    assert all(c % 4 == 0 for c in y.chunks[2][:-1])
    p = td.plan(tessera.load(model("unet")), x.shape, (x.chunks[2], x.chunks[3]))
    assert p.rechunked and "above the model's maximum" in p.reason and p.blocks == y.npartitions
    kept = td.plan(tessera.load(model("unet")), x.shape, ((128,) * 4 + (8,), (128,) * 3 + (76,)))
    assert not kept.rechunked or "smaller than the model's overlap" in kept.reason


def test_block_sets_the_block_size():
    p = td.plan(tessera.load(model("dense_residual")), (512, 512, 3), None, block=64)
    assert max(p.chunks[0]) <= 64 and p.blocks == 64
    assert 0 < p.recomputed_fraction < td.plan(tessera.load(model("dense_residual")), (512, 512, 3), None,
                                               block=32).recomputed_fraction


def test_each_worker_loads_the_model_once_by_path_or_by_bytes(client, tmp_path):
    x = da.from_array(np.random.default_rng(4).random((1, 3, 512, 512), dtype=np.float32),
                      chunks=(1, 3, 128, 128))
    by_path = td.run(model("dense_residual"), x).compute()
    by_bytes_run = td.run(model("dense_residual"), x, send_model=True)
    graph = dict(by_bytes_run.__dask_graph__())
    assert sum(isinstance(v, td._worker.ModelRef) for v in graph.values()) == 1  # one key holds the bytes
    assert np.array_equal(bits(by_bytes_run.compute()), bits(by_path))
    digest = td._worker.file_hash(model("dense_residual"))
    caches = client.run(td.cached_models)
    assert len(caches) == 2 and all(c.count(digest) == 1 for c in caches.values())


def test_a_model_file_that_differs_on_the_workers_is_an_error(client, tmp_path):
    path = tmp_path / "m.tsr"
    path.write_bytes(Path(model("dense_block")).read_bytes())  # a model no worker has loaded yet
    y = td.run(path, da.zeros((1, 3, 64, 64), dtype=np.float32, chunks=(1, 3, 32, 32)))
    path.write_bytes(Path(model("unet")).read_bytes())
    with pytest.raises(tessera.InvalidModelError, match="differs from the client's.*send the model's bytes"):
        y.compute()


def test_a_worker_killed_mid_run_leaves_the_output_unchanged(client, tmp_path):
    x = da.from_array(np.random.default_rng(5).random((1, 3, 1024, 1024), dtype=np.float32),
                      chunks=(1, 3, 128, 128))
    y = td.run(model("dense_residual"), x, backend="reference")  # slow enough to kill one worker mid-run
    td.to_zarr(y, tmp_path / "clean.zarr")
    future = client.compute(td.to_zarr(y, tmp_path / "faulty.zarr", compute=False))
    chunks_dir = tmp_path / "faulty.zarr"
    while len([f for f in os.listdir(chunks_dir) if not f.startswith(".")]) < 8:  # some blocks done
        time.sleep(0.01)
    assert not future.done()
    victim, pid = next(iter(client.run(os.getpid).items()))
    os.kill(pid, signal.SIGKILL)
    future.result(timeout=300)
    assert victim not in client.scheduler_info()["workers"] or client.run(os.getpid).get(victim) != pid
    clean, faulty = zarr.open(str(tmp_path / "clean.zarr"), "r"), zarr.open(str(tmp_path / "faulty.zarr"), "r")
    assert np.array_equal(bits(clean[:]), bits(faulty[:]))


def test_errors_come_before_any_work_is_scheduled(tmp_path):
    x = da.zeros((1, 3, 256, 256), dtype=np.float32, chunks=(1, 3, 128, 128))
    with pytest.raises(tessera.MissingFileError, match="no model file"):
        td.run(tmp_path / "missing.tsr", x)
    with pytest.raises(tessera.ShapeError, match="cannot be tiled"):
        td.run(model("se_block"), x)
    with pytest.raises(tessera.ArgumentError, match="width 333 is not a multiple of 4"):
        td.run(model("unet"), da.zeros((256, 333, 3), dtype=np.uint8))
    with pytest.raises(tessera.ArgumentError, match="below the model's minimum"):
        td.run(model("unet"), da.zeros((16, 64, 3), dtype=np.uint8))
    with pytest.raises(tessera.ShapeError, match="float64.*astype"):
        td.run(model("unet"), da.zeros((64, 64, 3)))
    with pytest.raises(tessera.ShapeError, match="has 4 channels; the model takes 3"):
        td.run(model("unet"), da.zeros((64, 64, 4), dtype=np.uint8))
    with pytest.raises(tessera.ArgumentError, match="backend 'gpu' is not built into this tessera"):
        td.run(model("unet"), x, backend="gpu")
    with pytest.raises(tessera.ArgumentError, match="threads=0: give 1 or more"):
        td.run(model("unet"), x, threads=0)
    with pytest.raises(tessera.ArgumentError, match="unknown precision 'fp16'"):
        td.run(model("unet"), x, precision="fp16")
    with pytest.raises(tessera.ArgumentError, match="bf16 runs on the onednn backend only, not on 'reference'"):
        td.run(model("unet"), x, backend="reference", precision="bf16")
    with pytest.raises(tessera.ShapeError, match="a batch of 2; the model takes 1 at a time"):
        td.run(model("unet"), da.zeros((2, 3, 64, 64), dtype=np.float32))
    with pytest.raises(tessera.ShapeError, match=r"\(H, W\) or \(H, W, C\) images"):
        td.run(model("unet"), da.zeros((64,), dtype=np.uint8))
    with pytest.raises(tessera.MissingFileError, match="no image"):
        td.open_image(tmp_path / "missing.tif")


def test_zarr_to_tiff_writes_a_tiled_pyramid(tmp_path):
    pixels = image((700, 600, 3), seed=6)
    zarr.save_array(str(tmp_path / "in.zarr"), pixels, chunks=(256, 256, 3))
    td.zarr_to_tiff(tmp_path / "in.zarr", tmp_path / "out.tif", tile=256)
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        levels = tif.series[0].levels
        assert tif.is_bigtiff and tif.pages[0].is_tiled
        assert [level.shape for level in levels] == [(700, 600, 3), (350, 300, 3), (175, 150, 3)]
        assert np.array_equal(levels[0].asarray(), pixels)
        halved = np.round(pixels.astype(np.float32).reshape(350, 2, 300, 2, 3).mean(axis=(1, 3))).astype(np.uint8)
        assert np.abs(levels[1].asarray().astype(int) - halved).max() <= 1
    assert not (tmp_path / "out.tif.part").exists()


def test_command_runs_a_tiff_into_a_pyramidal_tiff_on_a_local_cluster(tmp_path):
    pixels = image((300, 280, 3), seed=7)
    tifffile.imwrite(tmp_path / "in.tif", pixels, rowsperstrip=32, photometric="rgb")
    tessera.run_image(model("sr_pixelshuffle"), tmp_path / "in.tif", tmp_path / "expected.tif")
    command = [sys.executable, "-m", "tessera.dask", model("sr_pixelshuffle"), str(tmp_path / "in.tif"),
               str(tmp_path / "out.tif"), "--workers", "2"]
    r = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "note: rechunked to" in r.stderr and "on 2 workers" in r.stderr
    assert np.array_equal(tifffile.imread(tmp_path / "out.tif"), tifffile.imread(tmp_path / "expected.tif"))
    assert not list(tmp_path.glob("*.part"))
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "exists; remove it or give --overwrite" in again.stderr
    bad = subprocess.run(command[:3] + [str(tmp_path / "none.tsr"), command[4], str(tmp_path / "x.zarr")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "no model file" in bad.stderr and not (tmp_path / "x.zarr").exists()


def test_command_writes_zarr_under_a_temporary_name_and_ctrl_c_leaves_nothing(tmp_path):
    zarr.save_array(str(tmp_path / "in.zarr"), image((1024, 1024, 3), seed=10), chunks=(128, 128, 3))
    command = [sys.executable, "-m", "tessera.dask", model("dense_residual"), str(tmp_path / "in.zarr"),
               str(tmp_path / "out.zarr"), "--workers", "2", "--backend", "reference"]
    run = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    while not (tmp_path / "out.zarr.part").exists() and run.poll() is None:
        time.sleep(0.01)
    time.sleep(0.5)  # some blocks written
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130 and "interrupted: nothing written" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zarr"]
    done = subprocess.run(command[:-2] + ["--overwrite"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zarr", "out.zarr"]
