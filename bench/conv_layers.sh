#!/usr/bin/env bash
# Per-layer convolution throughput of the oneDNN backend, against this machine's FMA peak: runs
# `tessera bench` with ONEDNN_VERBOSE=1 and takes, per convolution layer, the median of its timed
# executions. Prints a Markdown table. PRECISION=bf16 runs the convolutions in bf16 (GFLOP/s can then
# pass the fp32 peak) and adds the rows of the bf16 copies of their inputs, each layer's extra cost.
#   [PRECISION=bf16] bench/conv_layers.sh [BUILD_DIR] [MODEL.tsr] [SIZES...]    (default: sr_conv32 at 512 and 1024)
set -euo pipefail
build=${1:-build}
model=${2:-}
sizes=${*:3}
sizes=${sizes:-"512 1024"}
out=out/bench-layers
mkdir -p "$out"
tessera="$build/tessera"
precision=${PRECISION:-fp32}
if [ -z "$model" ]; then
  /usr/bin/python3 - "$out" <<'PY'
import sys
import onnx
import torch
sys.path.insert(0, "bench/peers")
from models import build_module, export
model, _ = export(build_module("sr_conv32"), torch.rand(1, 3, 64, 64), 13)
onnx.save(model, sys.argv[1] + "/sr_conv32.onnx")
PY
  "$tessera" compile "$out/sr_conv32.onnx" -o "$out/sr_conv32.tsr" --dim height=256:1024 --dim width=256:1024 \
    > /dev/null
  model=$out/sr_conv32.tsr
fi
peak=$("$tessera" bench "$model" --sizes 256 --full-only --threads 2 --repeats 1 --json --backend onednn |
  /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['fma_peak_gflops'])")

printf "FMA peak (tessera bench probe, 2 threads): %.0f GFLOP/s; precision %s\n" "$peak" "$precision"
echo
echo "| layer | size | median ms | GFLOP/s | % of peak |"
echo "|---|---|---|---|---|"
for s in $sizes; do
  ONEDNN_VERBOSE=1 "$tessera" bench "$model" --sizes "$s" --full-only --threads 2 --repeats 5 --backend onednn \
    --precision "$precision" |
    grep -E '^onednn_verbose,exec,cpu,(convolution|reorder.*dst_bf16::blocked:acdb)' |
    /usr/bin/python3 -c "
import re, statistics, sys
times = {}
for line in sys.stdin:
    f = line.strip().split(',')
    times.setdefault(f[-2], []).append(float(f[-1]))
for problem, ms in times.items():
    if problem.count('x') == 3:  # a reorder's dims NxCxHxW: the bf16 copy of a convolution's input
        print(f\"| copy to bf16 {problem.split('x')[1]} ch | {'x'.join(problem.split('x')[2:])} | {statistics.median(ms):.1f} | | |\")
        continue
    d = dict((k, int(v)) for k, v in re.findall(r'([a-z]+)(\d+)', problem))
    flop = 2 * d['mb'] * d['ic'] * d['oc'] * d['oh'] * d['ow'] * d['kh'] * d['kw']
    m = statistics.median(ms)
    gflops = flop / m / 1e6
    print(f\"| {d['ic']}->{d['oc']} {d['kh']}x{d['kw']} | {d['oh']}x{d['ow']} | {m:.1f} | {gflops:.0f} | {100 * gflops / $peak:.0f}% |\")
"
done
