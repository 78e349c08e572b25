"""tessera from Python: export, load, run at any size, NumPy and torch, out=, errors, threads."""

import pickle
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

import tessera
from conftest import BACKENDS, TESTDATA, random_input


@pytest.mark.parametrize("backend", BACKENDS)
def test_export_matches_pytorch_at_every_size(small, backend):
    _, net, path = small
    m = tessera.load(path, backend=backend, threads=2)
    assert m.backend == backend
    for h, w in [(128, 128), (64, 100), (16, 17), (36, 128)]:
        x = random_input((1, 1, h, w), seed=h * w)
        expected = net(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(m(x), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_test_models_match_pytorch(manifest, backend, tmp_path):
    for name in ["sr_pixelshuffle", "unet", "valid_convs"]:
        entry = next(m for m in manifest["models"] if m["name"] == name)
        dims = {d.split("=")[0]: tuple(int(v) for v in d.split("=")[1].split(":")) for d in entry["dims"]}
        m = tessera.compile(TESTDATA / f"{name}.onnx", tmp_path / f"{name}.tsr", dims, backend=backend)
        for case in entry["cases"][:2]:
            expected = np.load(TESTDATA / case["expected"])
            # The C++ tests' bound: |tessera - PyTorch| <= 1e-4 relative to the output's scale.
            scale = max(float(np.abs(expected).max()), 1e-2)
            assert np.abs(m(np.load(TESTDATA / case["input"])) - expected).max() <= 1e-4 * scale


def test_torch_in_torch_out_and_run_method(small):
    module, net, _ = small
    x = torch.rand(1, 1, 32, 48)
    y = module(x)
    assert isinstance(y, torch.Tensor)
    assert torch.equal(y, torch.from_numpy(module(x.numpy())))
    outputs = module.run_method("forward", (x,))
    assert isinstance(outputs, list) and torch.equal(outputs[0], y)
    with pytest.raises(ValueError, match="one method, 'forward'"):
        module.run_method("backward", (x,))


def test_method_meta(small):
    meta = small[0].method_meta()
    assert meta.dims == [{"name": "height", "min": 16, "max": 128, "multiple_of": 4},
                         {"name": "width", "min": 16, "max": 128, "multiple_of": 1}]
    assert meta.inputs == [{"name": "x", "axes": ["1", "1", "height", "width"]}]
    assert meta.tileable and meta.tiling[0]["halo_before"] == 3 and meta.tiling[0]["scale"] == (1, 1)
    assert meta.content_hash.startswith("sha256:") and meta.arena_bytes > 0


def test_dims_as_torch_export_has_them():
    h = tessera.Dim("height", min=64, max=256)
    assert vars(4 * h) == {"name": "height", "min": 256, "max": 1024, "multiple_of": 4}
    with pytest.raises(tessera.ArgumentError, match=r"Dim\('height'\) needs a max"):
        tessera.Dim("height")
    with pytest.raises(ValueError, match="need whole numbers with 1 <= min <= max"):
        tessera.Dim("height", min=256, max=32)
    with pytest.raises(ValueError, match="no multiple of 8 lies in 5..7"):
        tessera.Dim("height", min=5, max=7, multiple_of=8)


def test_out_writes_into_the_callers_array(small):
    module = small[0]
    x = random_input((1, 1, 64, 64))
    out = np.full((1, 1, 64, 64), np.nan, dtype=np.float32)
    assert module(x, out=out) is out
    assert np.array_equal(out, module(x))
    with pytest.raises(tessera.ArgumentError, match=r"out\[0\] has shape \[1, 1, 64, 60\]; this output is \[1, 1, 64, 64\]"):
        module(x, out=np.empty((1, 1, 64, 60), np.float32))
    out_t = torch.empty(1, 1, 64, 64)
    assert module(torch.from_numpy(x), out=out_t) is out_t
    assert torch.equal(out_t, torch.from_numpy(module(x)))


def test_input_is_read_in_place(small):
    """A C-contiguous float32 input is not copied: the call allocates its output, and no more."""
    module = small[0]
    x = random_input((1, 1, 128, 128))
    module(x)  # the session sets itself up for this shape first
    tracemalloc.start()
    module(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < x.nbytes * 1.5, f"peak {peak} bytes for a {x.nbytes}-byte input and output"


def test_an_unpickled_input_runs(small):
    """An array unpickled (as on a Dask worker) has a float32 dtype equal to numpy's but not the same object."""
    x = random_input((1, 1, 64, 64))
    copy = pickle.loads(pickle.dumps(x))
    assert copy.dtype == np.float32 and copy.dtype is not np.dtype(np.float32)
    assert np.array_equal(small[0](copy), small[0](x))


def test_errors_name_the_problem(small, tmp_path):
    module = small[0]
    cases = [
        (random_input((1, 64, 64)), tessera.ShapeError, r"has rank 3 \(shape \[1, 64, 64\]\); the model takes rank 4"),
        (random_input((1, 1, 200, 64)), tessera.ShapeError, r"axis 2 \(height\) is 200; the model takes height in 16..128"),
        (random_input((1, 1, 62, 64)), tessera.ShapeError, "not a multiple of 4"),
        (random_input((1, 2, 64, 64)), tessera.ShapeError, "axis 1 is 2"),
        (random_input((1, 1, 64, 64)).astype(np.float64), tessera.ShapeError, "float64; tessera computes in float32"),
        (random_input((1, 1, 64, 64)).astype(">f4"), tessera.ShapeError, ">f4; tessera computes in float32"),
        (random_input((1, 1, 64, 128))[:, :, :, ::2], tessera.ArgumentError, "not C-contiguous"),
    ]
    for x, error, message in cases:
        with pytest.raises(error, match=message):
            module(x)
        assert issubclass(error, ValueError) and issubclass(error, tessera.Error)
    with pytest.raises(TypeError, match="is a list; pass a numpy.ndarray"):
        module([1.0, 2.0])
    with pytest.raises(tessera.ShapeError, match=r"torch.float64; tessera computes in float32: convert it with x.float\(\)"):
        module(torch.zeros(1, 1, 64, 64, dtype=torch.float64))
    with pytest.raises(TypeError, match="takes its inputs as a tuple or list"):
        module.run_method("forward", random_input((1, 1, 64, 64)))
    with pytest.raises(FileNotFoundError, match="no model file"):
        tessera.load(tmp_path / "missing.tsr")
    corrupt = tmp_path / "corrupt.tsr"
    corrupt.write_bytes(small[2].read_bytes()[:500])
    with pytest.raises(tessera.InvalidModelError, match="truncated or corrupt"):
        tessera.load(corrupt)
    with pytest.raises(tessera.ArgumentError, match="unknown backend 'gpu'"):
        tessera.load(small[2], backend="gpu")
    with pytest.raises(tessera.ArgumentError, match="unknown precision 'fp16': use fp32 or bf16"):
        tessera.load(small[2], precision="fp16")
    with pytest.raises(tessera.ArgumentError, match="precision bf16 runs on the onednn backend only, not on 'reference'"):
        tessera.load(small[2], backend="reference", precision="bf16")


def test_compile_errors_carry_the_compilers_hint(tmp_path):
    with pytest.raises(tessera.ArgumentError, match="try --dim height=32:256:4"):
        tessera.compile(TESTDATA / "unet.onnx", tmp_path / "unet.tsr", {"height": (30, 256), "width": (32, 256, 4)})


def test_the_gil_is_released_during_a_run(tmp_path):
    """While another thread runs a model for a while, this thread keeps running Python: the longest
    pause between two of its steps stays far below the run's length (it would be the whole run if the
    run held the GIL)."""
    net = torch.nn.Sequential(*[torch.nn.Conv2d(16, 16, 3, padding=1) for _ in range(4)]).eval()
    h, w = tessera.Dim("height", min=16, max=512), tessera.Dim("width", min=16, max=512)
    tessera.export(net, (torch.randn(1, 16, 32, 32),), tmp_path / "slow.tsr", dynamic_shapes={"input": {2: h, 3: w}})
    module = tessera.load(tmp_path / "slow.tsr", backend="reference")
    x = random_input((1, 16, 256, 256))
    worker = threading.Thread(target=module, args=(x,))
    start = last = time.perf_counter()
    longest = 0.0
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    run_time = time.perf_counter() - start
    assert run_time > 0.2, "the run was too short to tell"
    assert longest < run_time / 4, f"this thread stood still for {longest:.3f} s of a {run_time:.3f} s run"


def test_one_module_from_several_threads(small):
    module = small[0]
    inputs = [random_input((1, 1, 16 * (i + 1), 64), seed=i) for i in range(6)]
    expected = [module(x) for x in inputs]
    results = [None] * len(inputs)

    def run(i):
        for _ in range(5):
            results[i] = module(inputs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        assert np.array_equal(got, want)


def whole_model_specs():
    """The project's tileable test models (tests/models/whole_models.py), as make_models.py builds them."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
    import whole_models
    return [s for s in whole_models.specs() if s.tileable]


@pytest.mark.parametrize("spec", whole_model_specs(), ids=lambda s: s.name)
def test_export_of_the_test_models_matches_pytorch(spec, tmp_path):
    from common import randomize, seed_of
    torch.manual_seed(seed_of(spec.name))
    net = spec.build().eval()
    randomize(net)
    d = spec.dims
    h = tessera.Dim("height", min=d.lo, max=d.hi, multiple_of=d.mult)
    w = tessera.Dim("width", min=d.lo, max=d.hi, multiple_of=d.mult)
    example = torch.rand(1, spec.in_ch, d.lo, d.lo)
    tessera.export(net, (example,), tmp_path / "m.tsr", dynamic_shapes=[{2: h, 3: w}])
    mid = (d.lo + d.hi) // 2 // d.mult * d.mult
    for backend in BACKENDS:
        m = tessera.load(tmp_path / "m.tsr", backend=backend, threads=2)
        for size in [(d.lo, d.lo), (mid, d.lo + d.mult), (d.hi // 2 // d.mult * d.mult, d.hi // 4 // d.mult * d.mult)]:
            x = random_input((1, spec.in_ch) + size, seed=size[0])
            with torch.no_grad():
                expected = net(torch.from_numpy(x)).numpy()
            # The C++ tests' bound: |tessera - PyTorch| <= 1e-4 relative to the output's scale.
            scale = max(float(np.abs(expected).max()), 1e-2)
            assert np.abs(m(x) - expected).max() <= 1e-4 * scale, (backend, size)
