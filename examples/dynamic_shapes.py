#!/usr/bin/python3
"""The dynamic-shapes demo in Python: a small conv net exported once for every size in 256..1024,
loaded once, run at 1024², 512² and 288², and at 1024² as 16 tiles of 256 that stitch to exactly
the whole-image output.

    PYTHONPATH=build/python /usr/bin/python3 examples/dynamic_shapes.py [--out DIR]
"""

import argparse
import os
import tempfile
import time

import numpy as np
import torch

import tessera


class SmallConvNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, x):
        return self.body(x)


def timed(f, *args, runs=3, **kwargs):
    """The result of f and its best time in ms over `runs` calls after one warm-up."""
    result = f(*args, **kwargs)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        f(*args, **kwargs)
        best = min(best, (time.perf_counter() - start) * 1e3)
    return result, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=tempfile.mkdtemp(), help="where model.tsr is written")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.tsr")

    h = tessera.Dim("height", min=256, max=1024)
    w = tessera.Dim("width", min=256, max=1024)
    tessera.export(SmallConvNet().eval(), (torch.randn(1, 1, 512, 512),), path, dynamic_shapes={"x": {2: h, 3: w}})
    m = tessera.load(path, threads=2)  # once: every size below runs on this one module

    rng = np.random.default_rng(0)
    x = rng.random((1, 1, 1024, 1024), dtype=np.float32)
    full, full_ms = timed(m, x)
    tiled, tiled_ms = timed(m.run_tiled, x, tile=256, halo=16)
    report = m.last_tiled_report
    others = []
    for size in (512, 288):
        _, ms = timed(m, rng.random((1, 1, size, size), dtype=np.float32))
        others.append(f"{size}x{size} {ms:.1f} ms")
    meta = m.method_meta()
    dims = ", ".join(f"{d['name']} {d['min']}..{d['max']}" for d in meta.dims)

    print("Test Results")
    print("============")
    print(f"Model file size:       {os.path.getsize(path) / 1024:.1f} KB ({path})")
    print(f"Dynamic range:         {dims}, one file, memory planned once at the upper bound")
    print(f"Backend:               {m.backend}, 2 threads")
    print(f"Full 1024x1024:        {full_ms:.1f} ms")
    print(f"Tiled 1024x1024:       {tiled_ms:.1f} ms ({report['tiles']} tiles of 256, halo 16)")
    print(f"Other sizes:           {', '.join(others)}")
    print(f"Tile shapes handled:   {', '.join(f'{a}x{b}' for a, b in report['tile_shapes'])}")
    print(f"Max difference:        {float(np.abs(full - tiled).max()):.2e}"
          f" ({'bit-identical' if np.array_equal(full, tiled) else 'NOT bit-identical'})")


if __name__ == "__main__":
    main()
