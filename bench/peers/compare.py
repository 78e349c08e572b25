#!/usr/bin/python3
"""tessera's backends against PyTorch eager and ONNX Runtime: same models, inputs and threads.

Prints a Markdown table (progress on stderr). Entry point: bench/peers/run.sh, which installs
onnxruntime-node first.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import onnx
import torch

from models import SPECS, TFJS, build_module, conv_flops, export, make_input
from tfjs_convert import to_onnx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = ROOT / "out" / "peers"
CHECK_SIZE = (40, 56)  # small, and not square so that swapped height and width would show
TOLERANCE = 1e-4  # largest allowed difference between any two candidates' outputs, over the output's scale
BF16_TOLERANCE = 1e-2  # a bf16 candidate's from PyTorch's (docs/precision.md)


class Failed(Exception):
    pass


def timed(cmd, env=None):
    """Runs cmd under GNU time; returns (stdout, peak RSS in MiB); raises Failed on a non-zero exit."""
    rss_file = WORK / "rss.txt"
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *map(str, cmd)],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        raise Failed((proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1])
    return proc.stdout, int(rss_file.read_text().split()[-1]) / 1024


def run_tessera(args, candidate, tsr, x_path, estimate_ms=None):
    """One `tessera bench` process: a warm-up, then timed runs in one session, as for the peers; as many
    as fit the round's share of the budget (by `estimate_ms` a run), at least one, at most --repeats.
    Then one `tessera run` process on the same input, timed from its start to its exit: the one-shot.
    `candidate`: a backend, with ":bf16" for that precision."""
    backend, _, precision = candidate.partition(":")
    out = WORK / "out_tessera.npy"
    repeats = args.repeats
    if estimate_ms:
        repeats = max(1, min(repeats, int(args.budget / args.rounds * 1e3 / estimate_ms)))
    stdout, _ = timed([args.tessera, "bench", tsr, "--input", x_path, "--output", out, "--full-only",
                         "--json", "--backend", backend, "--precision", precision or "fp32", "--threads", args.threads,
                         "--repeats", repeats])
    size = json.loads(stdout)["sizes"][0]
    if not size["full_runs_ms"]:  # bench skips a full run that the model's dims do not allow, and writes no output
        raise Failed(f"tessera bench made no full run of {x_path.name}")
    start = time.monotonic()
    summary, _ = timed([args.tessera, "run", tsr, x_path, WORK / "out_tessera_run.npy", "--backend", backend,
                        "--precision", precision or "fp32", "--threads", args.threads])
    # Whole, or in tiles when the default --memory budget asks for them: run's summary says which.
    how = re.search(r"\((whole image|\d+ tiles of \d+x\d+)", summary)
    one_shot = ((time.monotonic() - start) * 1e3, how.group(1) if how else "?")
    # The peak RSS that bench took after the timed runs: a bf16 candidate's fp32 run for its error comes later.
    return size["full_runs_ms"], size["peak_rss_bytes"] / 2**20, np.load(out), one_shot


def run_torch(args, name, x_path, _estimate_ms=None):
    out = WORK / "out_torch.npy"
    stdout, rss = timed([sys.executable, HERE / "torch_run.py", name, x_path, out,
                         args.threads, args.repeats, args.budget / args.rounds])
    return json.loads(stdout)["ms"], rss, np.load(out), None


def run_ort(args, onnx_path, x_path, _estimate_ms=None):
    out = WORK / "out_ort.f32"
    env = dict(os.environ, NODE_PATH=str(WORK / "node_modules"))
    stdout, rss = timed(["node", HERE / "ort_run.js", onnx_path, x_path, out,
                         args.threads, args.repeats, args.budget / args.rounds], env)
    result = json.loads(stdout)
    # In the process, without node's start or reading the input.
    one_shot = (result["load_ms"] + result["first_ms"], "whole image")
    return result["ms"], rss, np.fromfile(out, np.float32).reshape(result["shape"]), one_shot


def prepare(args, name, module):
    """Makes the peers' ONNX model (exported, or converted from TF.js) and compiles tessera's from the
    same source (for TF.js, model.json itself) for the sizes and the check size; returns the paths."""
    spec = SPECS[name]
    lo, hi = min(*args.sizes, *CHECK_SIZE), max(*args.sizes, *CHECK_SIZE)
    onnx_path, tsr = WORK / f"{name}.onnx", WORK / f"{name}.tsr"
    dim = f"{lo}:{hi}" + (f":{spec.dims.mult}" if spec.dims.mult > 1 else "")
    compile_args = ["--dim", f"height={dim}", "--dim", f"width={dim}"]
    if name in TFJS:
        model, source = to_onnx(TFJS[name]), TFJS[name]
        compile_args += ["--pixel-range", "%g:%g" % spec.in_range]
    else:
        model, _ = export(module, torch.from_numpy(make_input(spec, lo, lo)), spec.opset)
        source = onnx_path
    onnx.save(model, str(onnx_path))
    subprocess.run([args.tessera, "compile", source, "-o", tsr, *compile_args], check=True, stdout=subprocess.DEVNULL)
    return onnx_path, tsr


def check(name, runners, notes):
    """Runs every candidate on a small input (timings unused); exits when any two fp32 outputs differ by more
    than TOLERANCE times the largest |value| of PyTorch's output, or a bf16 one from PyTorch's by more than
    BF16_TOLERANCE. Notes each one's distance from PyTorch."""
    h, w = CHECK_SIZE
    x_path = WORK / f"in_{name}_check.npy"
    np.save(x_path, make_input(SPECS[name], h, w))
    outputs = {}
    for label, runner in runners.items():
        try:
            outputs[label] = runner(x_path)[2]
        except Failed as e:
            if "unknown backend" not in str(e):  # an unknown one is noted by measure()
                sys.exit(f"{name} check at {h}x{w}: {label} failed: {e}")
    shapes = {label: y.shape for label, y in outputs.items()}
    if len(set(shapes.values())) > 1:
        sys.exit(f"{name} check at {h}x{w}: output shapes differ: {shapes}")
    scale = np.abs(outputs["PyTorch"]).max()
    fp32 = [y for label, y in outputs.items() if not label.endswith("bf16")]
    worst = max(np.abs(a - b).max() for a, b in combinations(fp32, 2)) / scale
    bf16 = {label: np.abs(y - outputs["PyTorch"]).max() / scale
            for label, y in outputs.items() if label.endswith("bf16")}
    distances = ", ".join(f"{label} {np.abs(y - outputs['PyTorch']).max() / scale:.1e}"
                          for label, y in outputs.items() if label != "PyTorch")
    note = (f"{name} check at {h}x{w}: distance from PyTorch over its largest |value| ({scale:.3g}): {distances}; "
            f"largest between any two fp32 candidates {worst:.1e} (limit {TOLERANCE:.0e}"
            + (f"; bf16 from PyTorch: limit {BF16_TOLERANCE:.0e})" if bf16 else ")"))
    print(note, file=sys.stderr)
    if not (worst <= TOLERANCE and all(d <= BF16_TOLERANCE for d in bf16.values())):
        sys.exit(f"outputs disagree: {note}")
    notes.append(note)


def measure(args, notes):
    """Returns rows (model, size, conv FLOPs, {candidate: result}), in order."""
    rows, unknown = [], set()
    for name in args.models:
        module = build_module(name)
        onnx_path, tsr = prepare(args, name, module)
        runners = {f"tessera {b.replace(':', ' ')}": (lambda *a, b=b: run_tessera(args, b, tsr, *a))
                   for b in args.backends}
        runners["PyTorch"] = lambda *a: run_torch(args, name, *a)
        runners["ORT"] = lambda *a: run_ort(args, onnx_path, *a)
        check(name, runners, notes)
        previous = {}  # candidate -> median ms per pixel at the last size
        for s in args.sizes:
            results = measure_size(args, name, s, runners, previous, unknown, notes)
            rows.append((name, s, conv_flops(name, module, s, s), results))
    return rows


def measure_size(args, name, s, runners, previous, unknown, notes):
    """Times every candidate at size s in --rounds rounds, each running every candidate once in turn, so
    that a drift of the machine's speed reaches all alike; returns {candidate: result}."""
    x_path = WORK / f"in_{name}_{s}.npy"
    np.save(x_path, make_input(SPECS[name], s, s))
    rounds = {}  # candidate -> one {"ms", "rss", "y"} per round
    for done in range(args.rounds):
        for label, runner in runners.items():
            if label in unknown or len(rounds.get(label, [])) < done:
                continue  # unknown, or failed in an earlier round
            if label in previous and previous[label] * s * s > args.max_run * 1e3:
                if done == 0:
                    notes.append(f"{name} {s}x{s}: {label} skipped, estimated "
                                 f"{previous[label] * s * s / 1e3:.0f} s a run > --max-run {args.max_run:g} s")
                continue
            earlier = rounds.get(label)
            estimate = (statistics.median(earlier[-1]["ms"]) if earlier
                        else previous[label] * s * s if label in previous else None)
            try:
                ms, rss, y, one_shot = runner(x_path, estimate)
            except Failed as e:
                if "unknown backend" in str(e):
                    unknown.add(label)
                    notes.append(f"{label}: not in this build ({e})")
                else:
                    notes.append(f"{name} {s}x{s}: {label} failed: {e}")
                continue
            rounds.setdefault(label, []).append({"ms": ms, "rss": rss, "y": y, "one_shot": one_shot})
            print(f"{name} {s}x{s} {label}: {statistics.median(ms):.1f} ms ({len(ms)} runs)", file=sys.stderr)
    results = {}
    for label, rs in rounds.items():
        ms = [t for r in rs for t in r["ms"]]
        previous[label] = statistics.median(ms) / (s * s)
        one_shots = [r["one_shot"] for r in rs if r["one_shot"] is not None]
        results[label] = {"ms": statistics.median(ms), "runs": len(ms), "rss": max(r["rss"] for r in rs),
                          "y": rs[-1]["y"], "round_ms": [statistics.median(r["ms"]) for r in rs],
                          "one_shot": one_shots}
    return results


def ratio(results, peer, label):
    if peer not in results or peer == label:
        return ""
    return f"{results[peer]['ms'] / results[label]['ms']:.3g}x"


def ratio_range(results, peer, label):
    """The lowest and highest of the peer's median over this candidate's, round by round."""
    if peer not in results or peer == label:
        return ""
    pairs = zip(results[peer]["round_ms"], results[label]["round_ms"])
    ratios = [p / c for p, c in pairs]
    return f"{min(ratios):.3g}–{max(ratios):.3g}" if len(ratios) > 1 else ""


def print_header(*columns):
    """A Markdown table's header and its separator, one cell per column."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def print_table(rows):
    print_header("model", "size", "conv GFLOP", "candidate", "median ms", "runs", "GFLOP/s", "ORT/this",
                 "ORT/this by round", "PyTorch/this", "peak RSS MiB", "max abs diff vs PyTorch")
    for name, s, flops, results in rows:
        reference = results.get("PyTorch", {}).get("y")
        for label, r in results.items():
            diff = ""
            if reference is not None and label != "PyTorch":
                diff = (f"{np.abs(r['y'] - reference).max():.1e}" if r["y"].shape == reference.shape
                        else f"shape {r['y'].shape} != {reference.shape}")
            print(f"| {name} | {s}x{s} | {flops / 1e9:.2f} | {label} | {r['ms']:.1f} | {r['runs']} "
                  f"| {flops / r['ms'] / 1e6:.1f} | {ratio(results, 'ORT', label)} | {ratio_range(results, 'ORT', label)} "
                  f"| {ratio(results, 'PyTorch', label)} | {r['rss']:.0f} | {diff} |")


def print_one_shot_table(rows):
    """A fresh process per round: tessera's `tessera run` on the .npy from its start to its exit, ONNX
    Runtime's session creation and first run inside node."""
    print_header("model", "size", "candidate", "one-shot median ms", "min ms", "steady median ms", "one-shot/steady",
                 "ORT one-shot/this", "ran as")
    for name, s, _, results in rows:
        ort = results.get("ORT", {}).get("one_shot")
        for label, r in results.items():
            if not r["one_shot"]:
                continue
            times = [ms for ms, _ in r["one_shot"]]
            mid = statistics.median(times)
            versus = f"{statistics.median(ms for ms, _ in ort) / mid:.3g}x" if ort and label != "ORT" else ""
            how = ", ".join(sorted({how for _, how in r["one_shot"]}))
            print(f"| {name} | {s}x{s} | {label} | {mid:.1f} | {min(times):.1f} | {r['ms']:.1f} "
                  f"| {mid / r['ms']:.2f}x | {versus} | {how} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("--sizes", default="256,512,1024", help="square input sizes, comma-separated")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backends", default="reference,xnnpack,onednn",
                        help="tessera backends; BACKEND:bf16 for that precision (onednn:bf16)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per candidate, size and round, at most")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per size, each running every candidate once in turn; medians pool the rounds")
    parser.add_argument("--models", default="unet,sr_pixelshuffle,sr_conv32", help=f"of {', '.join(SPECS)}")
    parser.add_argument("--budget", type=float, default=10,
                        help="seconds of timed runs per candidate and size (shared by the rounds); fewer repeats "
                             "past it (at least 1)")
    parser.add_argument("--max-run", type=float, default=30,
                        help="skip a candidate at a size where its estimated run (from the last size) exceeds this")
    args = parser.parse_args()
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    args.backends = args.backends.split(",")
    args.models = args.models.split(",")
    if not (args.build_dir / "tessera").exists():
        sys.exit(f"{args.build_dir / 'tessera'} not found: build first (make build)")
    for name in args.models:
        if name not in SPECS:
            sys.exit(f"unknown model {name!r}; known: {', '.join(SPECS)}")
        if name in TFJS and not TFJS[name].exists():
            sys.exit(f"{TFJS[name]} not found: run scripts/fetch-models.sh {name.split('-')[1]}")
        if any(s % SPECS[name].dims.mult for s in [*args.sizes, *CHECK_SIZE]):
            sys.exit(f"{name} takes sizes that are multiples of {SPECS[name].dims.mult}; got {args.sizes}")
    WORK.mkdir(parents=True, exist_ok=True)
    args.tessera = WORK / "tessera"  # a copy, so that a rebuild during the run cannot disturb it
    shutil.copy2(args.build_dir / "tessera", args.tessera)
    torch.set_num_threads(args.threads)

    start, load_before = time.monotonic(), os.getloadavg()[0]
    notes = []
    rows = measure(args, notes)
    ort_version = json.loads((WORK / "node_modules/onnxruntime-node/package.json").read_text())["version"]
    revision = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    print(f"Peers, {args.threads} thread(s), median of up to {args.repeats} runs in each of {args.rounds} rounds "
          f"({time.strftime('%Y-%m-%d')}; tessera {revision}, PyTorch {torch.__version__}, "
          f"ONNX Runtime {ort_version} (onnxruntime-node); {os.cpu_count()} CPUs, "
          f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
          f"{time.monotonic() - start:.0f} s in all)\n")
    print_table(rows)
    print(f"\nOne-shot: a fresh process in each round, {args.rounds} in all (tessera: `tessera run MODEL IN.npy OUT.npy` "
          "from its start to its exit; ORT: creating its session and the first run, timed inside node)\n")
    print_one_shot_table(rows)
    if notes:
        print()
        for note in notes:
            print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
