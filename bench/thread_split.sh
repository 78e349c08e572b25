#!/usr/bin/env bash
# How a tiled run should spend its threads: T tile workers of one thread each against fewer workers
# with more threads inside each session, in one session of measurements. `tessera bench --workers W`
# times each split on the same image and tiles (the workers' sessions kept from run to run); the
# images are several times the model's maximum, as in a long run.
# Prints a Markdown table.
#   bench/thread_split.sh [BUILD_DIR] [THREADS]    (default: build, 2)
set -euo pipefail
build=${1:-build}
threads=${2:-2}
out=out/bench-split
mkdir -p "$out"
tessera="$build/tessera"

for m in tiny unet; do /usr/bin/python3 tests/models/make_models.py "$out" --only "$m" > /dev/null; done
"$tessera" compile "$out/tiny.onnx" -o "$out/tiny.tsr" --dim height=64:1024 --dim width=64:1024 > /dev/null
"$tessera" compile "$out/unet.onnx" -o "$out/unet.tsr" --dim height=32:1024:4 --dim width=32:1024:4 > /dev/null
models="tiny unet"
if scripts/fetch-models.sh slim > /dev/null 2>&1; then
  "$tessera" compile .cache/models/esrgan-slim/models/x2/model.json -o "$out/esrgan-slim-x2.tsr" \
    --dim height=16:640 --dim width=16:640 --pixel-range 0:255 > /dev/null
  models="$models esrgan-slim-x2"
fi

splits=""
for ((w = threads; w >= 1; w--)); do ((threads % w == 0)) && splits="$splits $w"; done

header="| model | image | tile | backend |"
rule="|---|---|---|---|"
for w in $splits; do
  header="$header $w × $((threads / w)) |"
  rule="$rule---|"
done
echo "Tiled run time (median of 3, the workers' sessions kept between runs) by workers × threads per worker, $threads threads in all."
echo
echo "$header"
echo "$rule"
for model in $models; do
  case $model in
    esrgan-slim-x2) size=1536 tiles="128 256 512" ;;
    *) size=3072 tiles="128 256 512" ;;
  esac
  for tile in $tiles; do
    for backend in onednn xnnpack; do
      row="| $model | ${size}² | $tile | $backend |"
      for w in $splits; do
        ms=$("$tessera" bench "$out/$model.tsr" --sizes "$size" --tile "$tile" --threads "$threads" --workers "$w" \
          --backend "$backend" --repeats 3 --json |
          /usr/bin/python3 -c "import json, sys; print('%.1f ms' % json.load(sys.stdin)['sizes'][0]['tiled_ms'])")
        row="$row $ms |"
      done
      echo "$row"
    done
  done
done
