#!/usr/bin/python3
"""tessera.dask against one `tessera run` process: what running a model over a Zarr image block
by block on a Dask cluster costs and gains. Measures, on a synthetic 8-bit RGB image stored as a
Zarr array chunked at the model's planned block size:

1. `tessera.dask.run` + `tessera.dask.to_zarr` on a local cluster of W worker processes (one
   thread each, one block at a time per worker, threads=1 per block): time from the start of the
   compute to the store written (a fresh cluster per repeat, so every run includes each worker's
   model load, as a `tessera run` process includes its own; the cluster's start-up and the graph's
   construction are reported apart), input megapixels/s, and the speed-up against 1 worker;
2. the same pixels as a TIFF through one `tessera run MODEL in.tif out.tif --threads T` process
   with the same threads in all (T = the largest W), from its start to its exit with the file
   written, and the Dask path's overhead against it;
3. the scheduler's cost per task: a model that costs almost nothing (build/testdata/op_relu.tsr)
   over the image (its top-left 2048x2048 at most: --task-size) in many small blocks (64x64) on
   the largest cluster, (wall time − the blocks' own run time / W) per block and per task run,
   where the blocks' own run time is `tessera.dask`'s block function timed in this process; and
   the same pipeline with a no-op NumPy map_blocks instead of the model, the plain Dask baseline;
4. the halo's cost: the share of the pixels run that are halo (`tessera.dask.plan(...)
   .recomputed_fraction`) at block sizes 128, 256, 512 and 1024 (those the model takes).

Every output (each Dask run's Zarr store, the `tessera run` TIFF) is checked to be bit-identical
to the first; any difference stops the script with an error. Times are the minimum of --repeat
runs. Prints Markdown tables, with the machine and the date; progress goes to stderr.

    PYTHONPATH=build/python bench/dask_scale.py                       # 4096x4096, ESRGAN-slim x2
    PYTHONPATH=build/python bench/dask_scale.py --size 1024 --repeat 1  # a quick check
"""

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

import tessera
import tessera.dask as td
from tessera.dask import _worker

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.expanduser("~/.cache/tessera/esrgan-slim-x2.tsr")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def machine() -> str:
    """One line: the date, OS, CPU, CPUs this process may use, memory, load, commit and versions."""
    import dask
    import distributed
    import zarr

    def first(path, key):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return line.split("=" if "=" in line else ":", 1)[1].strip().strip('"')
        except OSError:
            pass
        return "?"

    mem_gib = int(first("/proc/meminfo", "MemTotal").split()[0]) / 2**20 if os.path.exists("/proc/meminfo") else 0
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        if subprocess.run(["git", "-C", REPO, "diff", "--quiet", "HEAD", "--", "src", "include", "python"]).returncode:
            commit += " (modified)"
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{now}, {first('/etc/os-release', 'PRETTY_NAME')}, {platform.machine()} "
            f"{first('/proc/cpuinfo', 'model name')}, {len(os.sched_getaffinity(0))} CPUs, {mem_gib:.0f} GiB, "
            f"load {os.getloadavg()[0]:.1f}; tessera {commit}, Dask {dask.__version__}, distributed "
            f"{distributed.__version__}, Zarr {zarr.__version__}, Python {platform.python_version()}")


def synthetic(size: int, kind: str, seed: int = 0) -> np.ndarray:
    """A size x size RGB uint8 image: uniform noise ('random'), or gradients and waves of a few
    pixels' amplitude of noise ('smooth', compressing more like a photo)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    image = np.empty((size, size, 3), np.uint8)
    y = np.arange(size, dtype=np.float32)[:, None]
    x = np.arange(size, dtype=np.float32)[None, :]
    for c in range(3):
        v = (127.5 + 50 * np.sin(2 * np.pi * y / (97 + 31 * c) + x / (211 + 17 * c))
             + 50 * np.cos(2 * np.pi * x / (151 + 23 * c) - y / (389 + 7 * c)))
        image[..., c] = np.clip(v + rng.integers(-3, 4, (size, size)), 0, 255).astype(np.uint8)
    return image


def write_zarr(x: np.ndarray, path: str, chunk: tuple):
    import zarr

    z = zarr.open(path, mode="w", shape=x.shape, chunks=chunk + x.shape[2:], dtype=x.dtype)
    z[:] = x


def open_array(path: str):
    """A Zarr store or a TIFF's first image as an array read lazily by slices."""
    import zarr

    if path.lower().endswith((".tif", ".tiff")):
        import tifffile
        z = zarr.open(tifffile.imread(path, aszarr=True), mode="r")
        return z[0] if isinstance(z, zarr.hierarchy.Group) else z
    return zarr.open(path, mode="r")


class Reference:
    """The first output of a measurement; every later one must be bit-identical to it."""

    def __init__(self, what: str):
        self.what, self.name, self.array = what, None, None

    def check(self, name: str, array):
        if self.array is None:
            self.name, self.array = name, array
            return
        a, b = self.array, array
        if a.shape != b.shape or a.dtype != b.dtype:
            raise SystemExit(f"FAIL {self.what}: {name} is {b.shape} {b.dtype}, {self.name} {a.shape} {a.dtype}")
        rows = max(1, (64 << 20) // max(1, a.size // a.shape[0] * a.dtype.itemsize))  # ~64 MiB a band
        for y in range(0, a.shape[0], rows):
            u, v = np.asarray(a[y:y + rows]), np.asarray(b[y:y + rows])
            if not np.array_equal(u, v):
                bad = np.argwhere(u != v)
                first = tuple(int(i) for i in bad[0])
                diff = np.abs(u.astype(np.float64) - v.astype(np.float64)).max()
                raise SystemExit(f"FAIL {self.what}: {name} differs from {self.name} in {len(bad)} values of rows "
                                 f"{y}..{y + len(u) - 1} (first at {(first[0] + y,) + first[1:]}, max |diff| {diff})")


def start_cluster(workers: int):
    """A local cluster of `workers` processes of one thread each, and the seconds it took to start."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(workers)
    return cluster, client, time.perf_counter() - start


def stop_cluster(cluster, client):
    client.close()
    cluster.close()


def build(model: str, image, **kwargs):
    """tessera.dask.run, failing if it had to rechunk (the inputs here are stored at planned chunks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", td.RechunkWarning)
        return td.run(model, image, **kwargs)


def measure_dask(args, in_zarr: str, work: str, reference: Reference, pixels: int) -> dict:
    """Measurement 1: per worker count, the minimum over repeats of start-up, graph and compute."""
    results = {}
    for workers in args.workers:
        best = None
        for r in range(args.repeat):
            cluster, client, startup = start_cluster(workers)
            try:
                start = time.perf_counter()
                y = build(args.model, td.open_image(in_zarr), threads=args.threads, backend=args.backend)
                graph = time.perf_counter() - start
                out = os.path.join(work, f"dask-{workers}-{r}.zarr")
                start = time.perf_counter()
                td.to_zarr(y, out)
                compute = time.perf_counter() - start
            finally:
                stop_cluster(cluster, client)
            reference.check(f"Dask, {workers} worker(s), run {r + 1}", open_array(out))
            if reference.name != f"Dask, {workers} worker(s), run {r + 1}":
                shutil.rmtree(out)
            log(f"  Dask {workers} worker(s), run {r + 1}: start-up {startup:.2f} s, graph {graph:.2f} s, "
                f"compute {compute:.2f} s ({y.npartitions} blocks)")
            run = dict(startup=startup, graph=graph, compute=compute, blocks=y.npartitions)
            best = run if best is None else {k: min(best[k], run[k]) for k in run}
        best["mps"] = pixels / 1e6 / best["compute"]
        results[workers] = best
    return results


def measure_cli(args, image: np.ndarray, work: str, reference: Reference, threads: int) -> float:
    """Measurement 2: one `tessera run` process over the image as a TIFF, the minimum over repeats."""
    import tifffile

    tessera_bin = os.path.join(args.build, "tessera")
    in_tif = os.path.join(work, "in.tif")
    tifffile.imwrite(in_tif, image, photometric="rgb")
    best = float("inf")
    for r in range(args.repeat):
        out_tif = os.path.join(work, f"cli-{r}.tif")
        command = [tessera_bin, "run", args.model, in_tif, out_tif, "--threads", str(threads), "--backend",
                   args.backend, "-q"]
        start = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - start
        if not os.path.exists(out_tif):
            raise SystemExit(f"FAIL: {' '.join(command)} wrote no {out_tif}")
        reference.check(f"tessera run --threads {threads}, run {r + 1}", open_array(out_tif))
        if reference.name != f"tessera run --threads {threads}, run {r + 1}":
            os.remove(out_tif)
        log(f"  tessera run --threads {threads}, run {r + 1}: {seconds:.2f} s")
        best = min(best, seconds)
    return best


def _noop(block):
    return block


def measure_tasks(args, image: np.ndarray, work: str) -> list:
    """Measurement 3: the cheap model and a NumPy no-op over small blocks on the largest cluster."""
    import dask
    import dask.array as da
    from distributed import get_task_stream

    b = args.task_block
    x = image[:args.task_size, :args.task_size]
    in_zarr = os.path.join(work, f"in-{b}.zarr")
    write_zarr(x, in_zarr, (b, b))

    # The blocks' own run time: tessera.dask's block function, timed around each call, over the
    # same blocks in this process (synchronous scheduler, from memory); the best of two passes
    # after a warm-up pass (which loads the model).
    own_times = []

    def timed_run_block(block, model, spec, block_info=None):
        start = time.perf_counter()
        y = _worker.run_block(block, model, spec, block_info=block_info)
        own_times.append(time.perf_counter() - start)
        return y

    td.run_block = timed_run_block  # tessera.dask.run maps the function of this name over the blocks
    try:
        y_local = build(args.task_model, da.from_array(x, chunks=(b, b, x.shape[2])), threads=1,
                        backend=args.backend)
    finally:
        td.run_block = _worker.run_block
    passes = []
    for _ in range(3):
        own_times.clear()
        local = y_local.compute(scheduler="synchronous")
        passes.append(sum(own_times))
    own = min(passes[1:])
    blocks = y_local.npartitions
    reference = Reference("the cheap model's outputs")
    reference.check("one process (synchronous scheduler)", local)
    noop_reference = Reference("the no-op's outputs")
    noop_reference.check("the input", x)

    workers = max(args.workers)
    cluster, client, _ = start_cluster(workers)
    rows = []
    try:
        for name, make, ref, own_seconds in (
                ("tessera.dask.run, op_relu" if os.path.basename(args.task_model) == "op_relu.tsr"
                 else f"tessera.dask.run, {os.path.basename(args.task_model)}",
                 lambda: build(args.task_model, td.open_image(in_zarr), threads=1, backend=args.backend),
                 reference, own),
                ("Dask + NumPy no-op (map_blocks)",
                 lambda: da.from_zarr(in_zarr).map_blocks(_noop, dtype=x.dtype), noop_reference, 0.0)):
            best = float("inf")
            tasks = 0
            for r in range(args.repeat + 1):  # the first run warms the workers up (model load) and counts tasks
                out = os.path.join(work, f"tasks-{len(rows)}-{r}.zarr")
                y = make()
                if r == 0:
                    with get_task_stream(client) as stream:
                        td.to_zarr(y, out)
                    tasks = len(stream.data)
                else:
                    start = time.perf_counter()
                    td.to_zarr(y, out)
                    best = min(best, time.perf_counter() - start)
                ref.check(f"{name} on {workers} workers, run {r}", open_array(out))
                shutil.rmtree(out)
            overhead = best - own_seconds / workers
            log(f"  {name}: {blocks} blocks, {tasks} tasks, wall {best:.3f} s, own {own_seconds:.3f} s")
            rows.append(dict(name=name, blocks=blocks, tasks=tasks, wall=best, own=own_seconds,
                             per_block=overhead / blocks * 1e3, per_task=overhead / tasks * 1e3))
    finally:
        stop_cluster(cluster, client)
    return rows


def halo_rows(args, model, shape) -> list:
    """Measurement 4: the plan at each block size (0: the planned default)."""
    rows = []
    for block in [0] + args.halo_blocks:
        try:
            p = td.plan(model, shape, None, block)
            rows.append((block, p.blocks, max(p.chunks[0]), p.depth[0], f"{100 * p.recomputed_fraction:.1f}%"))
        except tessera.Error as e:
            rows.append((block, None, None, None, f"not taken: {e}"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the compiled model (default: %(default)s)")
    parser.add_argument("--size", type=int, default=4096, help="the image's height and width (default %(default)s)")
    parser.add_argument("--image", choices=("smooth", "random"), default="smooth",
                        help="the synthetic image (default %(default)s)")
    parser.add_argument("--block", type=int, default=0, help="the Zarr input's chunks: blocks of at most this size "
                        "(default 0: the model's planned block)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes (default 1 2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per block's run (default 1)")
    parser.add_argument("--backend", default="auto", help="for the workers and `tessera run` (default auto)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the minimum is kept "
                        "(default %(default)s)")
    parser.add_argument("--build", default=os.path.join(REPO, "build"), help="the build with the tessera "
                        "command (default %(default)s)")
    parser.add_argument("--task-model", default=os.path.join(REPO, "build", "testdata", "op_relu.tsr"),
                        help="the cheap model for the cost per task (default %(default)s)")
    parser.add_argument("--task-block", type=int, default=64, help="block size for the cost per task (default 64)")
    parser.add_argument("--task-size", type=int, default=0, help="image size for the cost per task, at most --size "
                        "(default 2048: 1024 blocks of 64x64)")
    parser.add_argument("--halo-blocks", type=int, nargs="+", default=[128, 256, 512, 1024],
                        help="block sizes for the halo's share (default 128 256 512 1024)")
    parser.add_argument("--skip-dask", action="store_true", help="skip measurement 1")
    parser.add_argument("--skip-cli", action="store_true", help="skip measurement 2 (tessera run)")
    parser.add_argument("--skip-tasks", action="store_true", help="skip measurement 3 (cost per task)")
    parser.add_argument("--skip-halo", action="store_true", help="skip measurement 4 (halo)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    args.task_size = min(args.task_size or 2048, args.size)
    if not os.path.exists(args.model):
        parser.error(f"no model '{args.model}' (fetch ESRGAN-slim with scripts/fetch-models.sh, or give --model)")
    if args.repeat < 1 or min(args.workers) < 1:
        parser.error("--repeat and --workers must be at least 1")

    began = time.perf_counter()
    model = tessera.load(args.model)
    dims = model.method_meta().dims
    shape = (args.size, args.size, 3)
    planned = td.plan(model, shape, None, args.block)
    chunk = (max(planned.chunks[0]), max(planned.chunks[1]))
    pixels = args.size * args.size
    name = os.path.basename(args.model)
    dim_text = ", ".join(f"{d['name']} {d['min']}..{d['max']}" + (f" (×{d['multiple_of']})" if d["multiple_of"] > 1
                         else "") for d in dims)
    print(f"Machine: {machine()}")
    print()
    print(f"Model {name} ({dim_text}); image {args.size}x{args.size} RGB uint8 ({args.image}), Zarr chunks "
          f"{chunk[0]}x{chunk[1]}: {planned.describe()}; minimum of {args.repeat} run(s).")
    print()

    work = tempfile.mkdtemp(prefix="tessera-dask-scale-")
    try:
        log(f"image {args.size}x{args.size} in {work}")
        image = synthetic(args.size, args.image)
        in_zarr = os.path.join(work, "in.zarr")
        write_zarr(image, in_zarr, chunk)
        reference = Reference(f"{name}'s outputs")

        cli = None
        cli_threads = max(args.workers) * args.threads
        if not args.skip_cli:
            log("tessera run:")
            cli = measure_cli(args, image, work, reference, cli_threads)
        dask_results = {}
        if not args.skip_dask:
            log("Dask:")
            dask_results = measure_dask(args, in_zarr, work, reference, pixels)

        if dask_results or cli is not None:
            print(f"| {args.size}² {name}, {planned.blocks} blocks | cluster start-up | graph | compute → store "
                  f"written | input MP/s | speed-up |")
            print("|---|---|---|---|---|---|")
            one = dask_results.get(1)
            for workers, r in dask_results.items():
                speedup = f"{one['compute'] / r['compute']:.2f}×" if one else ""
                print(f"| tessera.dask, {workers} worker(s) × {args.threads} thread(s) | {r['startup']:.2f} s | "
                      f"{r['graph']:.2f} s | {r['compute']:.2f} s | {r['mps']:.2f} | {speedup} |")
            if cli is not None:
                print(f"| `tessera run` TIFF → TIFF, --threads {cli_threads} | | | {cli:.2f} s (process start to "
                      f"exit) | {pixels / 1e6 / cli:.2f} | |")
            if cli is not None and max(args.workers) in dask_results:
                w = max(args.workers)
                over = (dask_results[w]["compute"] / cli - 1) * 100
                print()
                print(f"tessera.dask on {w} workers against `tessera run --threads {cli_threads}`: {over:+.1f}% "
                      f"({dask_results[w]['compute']:.2f} s against {cli:.2f} s; with the graph's construction "
                      f"{(dask_results[w]['compute'] + dask_results[w]['graph']) / cli * 100 - 100:+.1f}%).")
            print(f"All {len(dask_results) * args.repeat + (0 if cli is None else args.repeat)} outputs "
                  f"bit-identical ({reference.name} as the reference).")
            print()

        if not args.skip_tasks:
            log("cost per task:")
            rows = measure_tasks(args, image, work)
            w = max(args.workers)
            print(f"| {args.task_size}² in {args.task_block}² blocks, {w} workers | blocks | tasks run | wall | "
                  f"blocks' own run time (1 process) | overhead per block | per task |")
            print("|---|---|---|---|---|---|---|")
            for r in rows:
                print(f"| {r['name']} | {r['blocks']} | {r['tasks']} | {r['wall']:.3f} s | {r['own'] * 1e3:.1f} ms | "
                      f"{r['per_block']:.2f} ms | {r['per_task']:.2f} ms |")
            print()
            print(f"Overhead = wall − own run time / {w}; tasks run counted by Dask's task stream (after "
                  f"fusion). Outputs bit-identical to the one-process run (the model) and to the input (no-op).")
            print()

        if not args.skip_halo:
            print(f"| {args.size}² {name}, block | blocks | largest chunk | overlap (before, after) | halo share of "
                  f"the pixels run |")
            print("|---|---|---|---|---|")
            for block, blocks, largest, depth, share in halo_rows(args, model, shape):
                label = f"planned (block=0)" if block == 0 else str(block)
                if blocks is None:
                    print(f"| {label} | | | | {share} |")
                else:
                    print(f"| {label} | {blocks} | {largest} | {depth[0]}+{depth[1]} | {share} |")
            print()
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"done in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
