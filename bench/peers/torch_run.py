#!/usr/bin/python3
"""Times PyTorch eager on one benchmark model and input: two warm-up runs, then up to REPEATS runs
(fewer once BUDGET seconds have gone, at least one). Prints {"ms": [...]}.
  torch_run.py MODEL IN.npy OUT.npy THREADS REPEATS BUDGET_S
"""

import json
import sys
import time

import numpy as np
import torch

from models import build_module


def main():
    name, in_path, out_path, threads, repeats, budget = sys.argv[1:]
    torch.set_num_threads(int(threads))
    module = build_module(name)
    x = torch.from_numpy(np.load(in_path))
    with torch.no_grad():
        for _ in range(2):
            y = module(x)
        ms = []
        start = time.perf_counter()
        while len(ms) < int(repeats) and (not ms or time.perf_counter() - start < float(budget)):
            t0 = time.perf_counter()
            y = module(x)
            ms.append((time.perf_counter() - t0) * 1e3)
    np.save(out_path, y.numpy())
    print(json.dumps({"ms": ms}))


if __name__ == "__main__":
    main()
