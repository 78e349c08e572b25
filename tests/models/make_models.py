#!/usr/bin/python3
"""Export the tessera test models from PyTorch, with inputs and PyTorch's expected outputs.

Usage: /usr/bin/python3 tests/models/make_models.py OUT_DIR [--verbose] [--nodes] [--only SUBSTR]

Writes OUT_DIR/manifest.json, OUT_DIR/<name>.onnx and OUT_DIR/<name>/{in,out}_<H>x<W>.npy.
Needs Debian's python3-torch (1.13), python3-onnx (1.12) and numpy; no onnxruntime.
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

import handmade_models  # noqa: E402
import op_models  # noqa: E402
import whole_models  # noqa: E402
from common import randomize, seed_of  # noqa: E402
from onnx_export import check, describe, export, op_types  # noqa: E402


def all_specs():
    specs = whole_models.specs() + op_models.specs() + handmade_models.specs()
    names = [s.name for s in specs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate model names: {sorted(duplicates)}")
    return specs


def make_input(spec, h, w):
    rng = np.random.default_rng([seed_of(spec.name), h, w])
    lo, hi = spec.in_range
    return rng.uniform(lo, hi, (1, spec.in_ch, h, w)).astype(np.float32)


def save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))
    return path.stat().st_size


def build(spec):
    """Returns (onnx model, run(x: ndarray) -> ndarray, export warnings)."""
    torch.manual_seed(seed_of(spec.name))
    if spec.handmade:
        model, reference = spec.build()
        return model, reference, []
    module = spec.build()
    randomize(module)
    module.eval()

    def run(x):
        with torch.no_grad():
            xt = torch.from_numpy(x)
            y = module(xt)
            if spec.torch_ref is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # e.g. padding="same" with an even kernel
                    y_ref = spec.torch_ref(module, xt)
                if y.shape != y_ref.shape or not torch.allclose(y, y_ref, atol=1e-5, rtol=1e-5):
                    raise AssertionError("module output differs from its eager reference")
            return y.numpy()

    sizes = spec.case_sizes()
    h, w = next((s for s in sizes if s[0] != s[1]), sizes[0])
    example = torch.from_numpy(make_input(spec, h, w))
    model, messages = export(module, example, spec.opset)
    return model, run, messages


def write_model(spec, out_dir, args):
    model, run, messages = build(spec)
    cases, nbytes = [], 0
    out_ch = None
    for h, w in spec.case_sizes():
        x = make_input(spec, h, w)
        y = run(x)
        if y.dtype != np.float32 or y.ndim != 4 or y.shape[0] != 1 or min(y.shape) < 1:
            raise AssertionError(f"bad output {y.dtype} {y.shape} for input {h}x{w}")
        if not np.isfinite(y).all():
            raise AssertionError(f"non-finite output for input {h}x{w}")
        if out_ch not in (None, y.shape[1]):
            raise AssertionError("output channel count depends on the input size")
        out_ch = y.shape[1]
        case = {"input": f"{spec.name}/in_{h}x{w}.npy", "expected": f"{spec.name}/out_{h}x{w}.npy"}
        nbytes += save(out_dir / case["input"], x) + save(out_dir / case["expected"], y)
        cases.append(case)
    check(model, spec.in_ch, out_ch, spec.opset)
    onnx_path = out_dir / f"{spec.name}.onnx"
    onnx.save(model, str(onnx_path))
    nbytes += onnx_path.stat().st_size

    dims = [spec.dims.text("height"), spec.dims.text("width")]
    print(f"{spec.name:38s} {spec.kind:5s} opset {spec.opset:2d}  {dims[0]:>16s}  "
          f"{len(cases)} cases  {nbytes / 1e6:6.2f} MB", flush=True)
    if args.verbose or args.nodes:
        print("    ops: " + " ".join(op_types(model)))
        for m in messages:
            print("    warning: " + m)
    if args.nodes:
        print("\n".join(describe(model)))
    entry = {"name": spec.name, "onnx": onnx_path.name, "dims": dims, "kind": spec.kind,
             "tileable": spec.tileable, "cases": cases}
    return entry, nbytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--verbose", action="store_true", help="print each model's ONNX op types")
    parser.add_argument("--nodes", action="store_true", help="print every node with attributes")
    parser.add_argument("--only", help="only models whose name contains this (debugging)")
    args = parser.parse_args()

    start = time.monotonic()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    out_dir = args.out_dir
    manifest = out_dir / "manifest.json"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if manifest.exists():
            manifest.unlink()  # never leave a manifest that does not match the data
        specs = [s for s in all_specs() if not args.only or args.only in s.name]
    except (OSError, ValueError) as e:
        print(f"make_models: {e}", file=sys.stderr)
        return 1
    if not specs:
        print(f"make_models: no model matches --only {args.only!r}", file=sys.stderr)
        return 1
    entries, total = [], 0
    for spec in specs:
        try:
            entry, nbytes = write_model(spec, out_dir, args)
        except Exception as e:  # noqa: BLE001 -- report which model failed, then exit non-zero
            print(f"make_models: model {spec.name!r} failed: {type(e).__name__}: {e}",
                  file=sys.stderr)
            return 1
        entries.append(entry)
        total += nbytes

    tmp = manifest.with_name("manifest.json.tmp")
    tmp.write_text(json.dumps({"models": entries}, indent=1) + "\n")
    os.replace(tmp, manifest)
    print(f"wrote {len(entries)} models, {total / 1e6:.1f} MB to {out_dir} "
          f"in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
