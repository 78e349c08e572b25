#!/usr/bin/python3
"""What Python adds to one run: a model that costs almost nothing to run (one 1x1 convolution) at
64x64, so that the call's own cost shows, timed through `tessera bench` (C++ Session::run), through
the Python module (with and without out=), and through one `tessera run` process per call. Prints
a Markdown table of medians.

    PYTHONPATH=build/python bench/python_overhead.py [BUILD_DIR]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

import tessera

SIZE = 64


def median_us(f, calls=2000, rounds=7):
    f()
    per_call = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            f()
        per_call.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(per_call)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    work = tempfile.mkdtemp()
    net = torch.nn.Conv2d(1, 1, 1).eval()
    h, w = tessera.Dim("height", min=16, max=256), tessera.Dim("width", min=16, max=256)
    path = os.path.join(work, "small.tsr")
    tessera.export(net, (torch.randn(1, 1, SIZE, SIZE),), path, dynamic_shapes={"input": {2: h, 3: w}})

    bench = json.loads(subprocess.run([f"{build}/tessera", "bench", path, "--sizes", str(SIZE), "--full-only",
                                       "--threads", "1", "--json"], check=True, capture_output=True).stdout)
    cxx_us = statistics.median(bench["sizes"][0]["full_runs_ms"]) * 1e3
    m = tessera.load(path, threads=1)
    x = np.random.default_rng(0).random((1, 1, SIZE, SIZE), dtype=np.float32)
    out = np.empty_like(x)
    py_us = median_us(lambda: m(x))
    py_out_us = median_us(lambda: m(x, out=out))
    np.save(os.path.join(work, "in.npy"), x)
    cli = [f"{build}/tessera", "run", path, os.path.join(work, "in.npy"), os.path.join(work, "out.npy"), "-q",
           "--threads", "1"]
    cli_us = median_us(lambda: subprocess.run(cli, check=True), calls=5, rounds=5)

    print(f"| {SIZE}x{SIZE}, 1 thread, backend {m.backend} | per call | beyond Session::run |")
    print("|---|---|---|")
    print(f"| C++ Session::run (tessera bench, median of {len(bench['sizes'][0]['full_runs_ms'])}) | {cxx_us:.1f} µs | |")
    print(f"| Python m(x) | {py_us:.1f} µs | {py_us - cxx_us:+.1f} µs |")
    print(f"| Python m(x, out=y) | {py_out_us:.1f} µs | {py_out_us - cxx_us:+.1f} µs |")
    print(f"| one `tessera run` process (.npy in and out) | {cli_us / 1e3:.1f} ms | {(cli_us - cxx_us) / 1e3:+.1f} ms |")


if __name__ == "__main__":
    main()
