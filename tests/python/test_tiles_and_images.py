"""Tiles and image files from Python: exact tiles, reports, progress, Ctrl-C, a real photo."""

import os
import signal
import threading

import numpy as np
import pytest
from PIL import Image

import tessera
from conftest import BACKENDS, TESTDATA, random_input

PHOTO = "/usr/lib/python3/dist-packages/skimage/data/coffee.png"  # 600x400 RGB, Debian's python3-skimage


@pytest.fixture(scope="module")
def sr(tmp_path_factory):
    """The x2 test model sr_pixelshuffle for 16..256."""
    path = tmp_path_factory.mktemp("sr") / "sr.tsr"
    tessera.compile(TESTDATA / "sr_pixelshuffle.onnx", path, {"height": (16, 256), "width": (16, 256)})
    return path


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiles_equal_the_whole_image_bit_for_bit(sr, backend):
    rng = np.random.default_rng(7)
    for threads in (1, 2):
        m = tessera.load(sr, backend=backend, threads=threads)
        for _ in range(3):
            h, w = (int(v) for v in rng.integers(40, 256, 2))
            tile = int(rng.integers(16, 96))
            x = random_input((1, 3, h, w), seed=h + w)
            report = m.verify(x, tile=tile)
            assert report["differing"] == 0 and report["max_difference"] == 0.0, report
            assert report["elements"] == 3 * 4 * h * w and report["tiles"] > 1
            assert np.array_equal(m.run_tiled(x, tile=tile), m(x))


@pytest.mark.skipif("onednn" not in BACKENDS, reason="bf16 runs on the onednn backend")
def test_bf16_tiles_exactly_and_stays_near_fp32(sr, tmp_path):
    m = tessera.load(sr, precision="bf16", threads=2)
    assert m.backend == "onednn" and m.precision == "bf16" and "onednn bf16" in repr(m)
    x = random_input((1, 3, 150, 97), seed=3)
    report = m.verify(x, tile=48)
    assert report["differing"] == 0 and report["tiles"] > 1, report
    assert np.array_equal(m.run_tiled(x, tile=48), m(x))
    exact = tessera.load(sr, backend="onednn")(x)
    error = np.abs(m(x) - exact).max()
    assert 0 < error <= 1e-2 * np.abs(exact).max()
    tessera.run_image(m, PHOTO, tmp_path / "bf16.png", tile=128)
    tessera.run_image(sr, PHOTO, tmp_path / "fp32.png", tile=128, backend="onednn")
    bf16, fp32 = (np.asarray(Image.open(tmp_path / f), dtype=np.int16) for f in ("bf16.png", "fp32.png"))
    assert bf16.shape == (800, 1200, 3) and np.abs(bf16 - fp32).max() <= 2


def test_run_tiled_above_the_models_maximum_with_progress(sr):
    m = tessera.load(sr, threads=2)
    calls = []
    y = m.run_tiled(random_input((1, 3, 300, 520)), progress=lambda done, total: calls.append((done, total)))
    assert y.shape == (1, 3, 600, 1040)
    report = m.last_tiled_report
    assert calls[-1] == (report["tiles"], report["tiles"]) and report["tiles"] >= 6
    assert all(h <= 256 and w <= 256 for h, w in report["tile_shapes"])


def test_progress_drives_a_tqdm_like_bar(sr):
    class Bar:  # what tqdm offers: total, n, update(k)
        total, n = None, 0

        def update(self, k):
            self.n += k

    bar = Bar()
    tessera.load(sr).run_tiled(random_input((1, 3, 200, 200)), tile=64, progress=bar)
    assert bar.total == 16 and bar.n == 16


def test_run_image_on_a_photo(sr, tmp_path):
    out = tmp_path / "coffee_x2.png"
    calls = []
    info = tessera.run_image(sr, PHOTO, out, tile=128, progress=lambda done, total: calls.append((done, total)))
    assert Image.open(out).size == (1200, 800)
    assert info["input_size"] == (600, 400) and info["output_size"] == (1200, 800) and info["tiled"]
    assert calls[-1] == (info["tiles"], info["tiles"])
    with pytest.raises(FileNotFoundError, match="no image file"):
        tessera.run_image(sr, tmp_path / "missing.png", tmp_path / "x.png")


def test_run_image_keeps_metadata_picks_bands_and_pads(sr, tmp_path):
    photo = tmp_path / "photo.jpg"
    pixels = np.random.default_rng(2).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    Image.fromarray(pixels).save(photo, exif=exif.tobytes(), dpi=(300, 300))
    info = tessera.run_image(sr, photo, tmp_path / "up.jpg", quality=90)
    out = Image.open(tmp_path / "up.jpg")
    assert out.size == (80, 120) and info["rotated"] and "EXIF" in info["kept"]
    assert out.getexif()[0x0112] == 1 and round(out.info["dpi"][0]) == 600
    stored = tessera.run_image(sr, photo, tmp_path / "stored.png", autorotate=False)
    assert Image.open(tmp_path / "stored.png").size == (120, 80) and not stored["rotated"]
    four = tmp_path / "four.tif"
    Image.fromarray(np.dstack([pixels, pixels[:, :, :1]]), "RGBA").save(four)
    info = tessera.run_image(sr, four, tmp_path / "picked.png", bands=(3, 2, 1))
    assert Image.open(tmp_path / "picked.png").mode == "RGBA"  # the alpha, not picked, goes beside them
    small = tmp_path / "small.png"
    Image.fromarray(pixels[:7, :10]).save(small)
    info = tessera.run_image(sr, small, tmp_path / "small_x2.png", pad="edge")
    assert Image.open(tmp_path / "small_x2.png").size == (20, 14) and info["output_size"] == (20, 14)
    with pytest.raises(tessera.ArgumentError, match="pad='reflect'"):
        tessera.run_image(sr, small, tmp_path / "x.png", pad="reflect")
    with pytest.raises(ValueError, match="--quality: .png files are lossless"):
        tessera.run_image(sr, photo, tmp_path / "x.png", quality=90)


def interrupt_soon(seconds=0.3):
    """Sends this process SIGINT (what Ctrl-C sends) after `seconds`."""
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_stops_an_image_run_and_leaves_nothing(sr, tmp_path):
    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (3000, 3000, 3), dtype=np.uint8)).save(big)
    out = tmp_path / "out.png"
    interrupt_soon()
    with pytest.raises(KeyboardInterrupt):
        tessera.run_image(tessera.load(sr, backend="reference"), big, out, tile=64, threads=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.png"]


def test_ctrl_c_stops_a_tiled_run(sr):
    m = tessera.load(sr, backend="reference")
    interrupt_soon()
    with pytest.raises(KeyboardInterrupt):
        m.run_tiled(random_input((1, 3, 2000, 2000)), tile=64)


def test_an_error_in_the_progress_callback_stops_the_run(sr):
    def progress(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        tessera.load(sr).run_tiled(random_input((1, 3, 300, 300)), tile=32, progress=progress)
