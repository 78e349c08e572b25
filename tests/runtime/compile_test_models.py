#!/usr/bin/python3
"""Compiles every exported test model with `tessera compile` into TESTDATA/compiled/, and records the
reference backend's output on every case input beside it: the files the runtime tests
(tests/runtime/) load, on this CPU and on others (make test-arm64 runs them on aarch64 and compares
with the bits recorded here).

    compile_test_models.py TESSERA_CLI TESTDATA

<name>.tsr is compiled for the manifest's dims; a tileable model also gets <name>.wide.tsr, for
images up to 4 x max + 64 (at most 1400: the tiled runs' whole-image comparison). manifest.json is
written last, naming the machine: its presence means the rest is complete.
"""
import json
import os
import platform
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def wide_dims(dims):
    """'height=5:64[:M]' -> 'height=5:320[:M]'."""
    out = []
    for d in dims:
        name, rng = d.split("=")
        parts = rng.split(":")
        parts[1] = str(min(4 * int(parts[1]) + 64, 1400))
        out.append(f"{name}={':'.join(parts)}")
    return out


def main():
    cli, testdata = sys.argv[1], os.path.abspath(sys.argv[2])
    out = os.path.join(testdata, "compiled")
    os.makedirs(out, exist_ok=True)
    stamp = os.path.join(out, "manifest.json")
    if os.path.exists(stamp):
        os.remove(stamp)
    with open(os.path.join(testdata, "manifest.json")) as f:
        models = json.load(f)["models"]

    def run(args):
        r = subprocess.run([cli, *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"compile_test_models.py: tessera {' '.join(args)} failed:\n{r.stderr}")

    def compile_model(m):
        source = os.path.join(testdata, m["onnx"])
        variants = [("", m["dims"])] + ([(".wide", wide_dims(m["dims"]))] if m["tileable"] else [])
        for suffix, dims in variants:
            args = ["compile", source, "-o", os.path.join(out, m["name"] + suffix + ".tsr")]
            for d in dims:
                args += ["--dim", d]
            run(args)
        model = os.path.join(out, m["name"] + ".tsr")
        for c in m["cases"]:
            record = os.path.join(out, c["input"][: -len(".npy")] + ".reference.npy")
            os.makedirs(os.path.dirname(record), exist_ok=True)
            run(["run", model, os.path.join(testdata, c["input"]), record, "--backend", "reference",
                 "--threads", "1", "--no-tile", "--quiet"])

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(compile_model, models))
    with open(stamp, "w") as f:
        json.dump({"machine": platform.machine(), "models": len(models)}, f)


if __name__ == "__main__":
    main()
