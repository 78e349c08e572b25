#!/usr/bin/env bash
# Tiled against whole-image runs of one model, in one session of measurements: wall time and the
# peak RSS of each run's process (GNU time). Prints a Markdown table.
#   bench/tiled_vs_full.sh [BUILD_DIR] [SIZES...]
set -euo pipefail
build=${1:-build}
shift || true
sizes=${*:-"512 1024 2048"}
out=out/bench
mkdir -p "$out"
tessera="$build/tessera"

/usr/bin/python3 tests/models/make_models.py "$out" --only unet > /dev/null
max=$(echo "$sizes" | tr ' ' '\n' | sort -n | tail -1)
"$tessera" compile "$out/unet.onnx" -o "$out/unet_full.tsr" --dim height=32:$max:4 --dim width=32:$max:4 > /dev/null
"$tessera" compile "$out/unet.onnx" -o "$out/unet_tiles.tsr" --dim height=32:256:4 --dim width=32:256:4 > /dev/null

measure() {  # prints "seconds peak_kib" of one command
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > /dev/null
  cat "$out/time.txt"
}

echo "| image | full (1 thread) | tiled, 1 thread | tiled, 2 threads | tiles |"
echo "|---|---|---|---|---|"
for s in $sizes; do
  /usr/bin/python3 -c "import numpy as np; np.save('$out/in.npy', np.random.RandomState(0).rand(1, 3, $s, $s).astype(np.float32))"
  read -r full_s full_kib < <(measure "$tessera" run "$out/unet_full.tsr" "$out/in.npy" "$out/full.npy" --no-tile)
  row="| ${s}x${s} | ${full_s} s, $((full_kib / 1024)) MiB |"
  for threads in 1 2; do
    read -r tiled_s tiled_kib < <(measure "$tessera" run "$out/unet_tiles.tsr" "$out/in.npy" "$out/tiled.npy" --threads $threads)
    cmp -s "$out/full.npy" "$out/tiled.npy" || { echo "tiled and full outputs differ at $s" >&2; exit 1; }
    row="$row ${tiled_s} s, $((tiled_kib / 1024)) MiB |"
  done
  tiles=$("$tessera" run "$out/unet_tiles.tsr" "$out/in.npy" "$out/tiled.npy" | sed -E 's/.*\(([0-9]+) tiles.*/\1/')
  echo "$row $tiles |"
done
