"""python3 -m tessera.dask MODEL IN OUT: a compiled model over a Zarr or TIFF image on a Dask cluster,
into a Zarr store or a tiled pyramidal TIFF. Without --scheduler it starts a local cluster."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings


def _parser():
    p = argparse.ArgumentParser(prog="python3 -m tessera.dask", description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="the compiled model (.tsr)")
    p.add_argument("input", help="a Zarr store or a TIFF/BigTIFF image, read lazily")
    p.add_argument("output", help="a Zarr store (a directory), or a .tif/.tiff: a tiled pyramidal BigTIFF")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://10.0.0.1:8786 "
                   "(default: a local cluster on this machine)")
    p.add_argument("--workers", type=int, default=0, metavar="N", help="the local cluster's worker processes "
                   "(default: the CPUs divided by --threads); not with --scheduler")
    p.add_argument("--threads", type=int, default=1, metavar="T", help="threads per block's run (default 1); a "
                   "local cluster's workers get one task at a time of T threads each")
    p.add_argument("--block", type=int, default=0, metavar="PIXELS", help="rechunk into blocks of at most this "
                   "size (default: keep the input's chunks when the model takes them, else the largest it takes)")
    p.add_argument("--backend", default="auto", help="auto, reference, xnnpack or onednn (default auto)")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="what convolutions multiply in "
                   "(default fp32; bf16 on onednn only: docs/precision.md)")
    p.add_argument("--send-model", action=argparse.BooleanOptionalAction, help="send the model's bytes to the "
                   "workers instead of its path (the default with --scheduler; --no-send-model when the workers "
                   "share the client's files)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    return p


def _client(args):
    from distributed import Client, LocalCluster

    if args.scheduler:
        return Client(args.scheduler), None
    workers = args.workers or max(1, (os.cpu_count() or 1) // args.threads)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    return Client(cluster), cluster


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from .. import errors
    from . import RechunkWarning, open_image, run, to_zarr, zarr_to_tiff
    from ._storage import remove_store

    if args.scheduler and args.workers:
        print("error: --workers sizes a local cluster; a running scheduler has its own workers", file=sys.stderr)
        return 2
    tiff = args.output.lower().endswith((".tif", ".tiff"))
    if os.path.exists(args.output) and not args.overwrite:
        print(f"error: '{args.output}' exists; remove it or give --overwrite", file=sys.stderr)
        return 2
    send = args.send_model if args.send_model is not None else bool(args.scheduler)
    try:
        image = open_image(args.input)
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always", RechunkWarning)
            y = run(args.model, image, block=args.block, threads=args.threads, backend=args.backend,
                    send_model=send, precision=args.precision)
        for note in notes:
            print(f"note: {note.message}", file=sys.stderr)
    except (errors.Error, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    # Written under a temporary name and renamed at the end, so a failure or Ctrl-C leaves nothing
    # behind; a store at a URL is written in place (an object store has no rename).
    local = "://" not in args.output
    zarr_path = args.output + ".zarr.part" if tiff else args.output + ".part" if local else args.output
    client, cluster = _client(args)
    start = time.perf_counter()
    try:
        print(f"{args.input} {image.shape} -> {args.output} {y.shape}: {y.npartitions} blocks on "
              f"{len(client.scheduler_info()['workers'])} workers", file=sys.stderr)
        future = client.compute(to_zarr(y, zarr_path, overwrite=args.overwrite or zarr_path != args.output,
                                        compute=False))
        if sys.stderr.isatty():
            from distributed import progress
            progress(future)
        future.result()
        if tiff:
            zarr_to_tiff(zarr_path, args.output)
        elif zarr_path != args.output:
            remove_store(args.output)  # --overwrite
            os.replace(zarr_path, args.output)
    except (errors.Error, OSError, ValueError) as e:  # ValueError: Zarr's "contains an array"
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: nothing written to {args.output}", file=sys.stderr)
        return 130
    finally:
        if zarr_path != args.output:
            remove_store(zarr_path)
        client.close()
        if cluster is not None:
            cluster.close()
    print(f"wrote {args.output} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
