#!/usr/bin/env bash
# The main job on the default model: export a model from PyTorch with dynamic H and W, compile it
# once for 256..1024, then run three sizes from the one loaded model.
set -euo pipefail
build=${1:-build}
out=out/demo
mkdir -p "$out"

echo "== export the tiny model from PyTorch (dynamic height and width)"
/usr/bin/python3 tests/models/make_models.py "$out" --only tiny > /dev/null
echo "== compile it once for every size in 256..1024"
"$build/tessera" compile "$out/tiny.onnx" -o "$out/tiny.tsr" --dim height=256:1024 --dim width=256:1024
"$build/tessera" info "$out/tiny.tsr"
echo "== run 1024x1024, 512x512 and 288x288 from the one loaded model"
"$build/tessera_dynamic_shapes" "$out/tiny.tsr" 1024x1024 512x512 288x288
echo "== tiles of varying size stitched to exactly the full image (--tile 256 --halo 16)"
"$build/tessera" verify "$out/tiny.tsr" "$out/tiny/in_1024x1024.npy" --tile 256 --halo 16 --threads 2
echo "== the same model through the CLI, checked against PyTorch"
"$build/tessera" run "$out/tiny.tsr" "$out/tiny/in_288x288.npy" "$out/tiny_288x288.npy"
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
ours, torch = np.load(f"{out}/tiny_288x288.npy"), np.load(f"{out}/tiny/out_288x288.npy")
print(f"max |tessera - PyTorch| = {abs(ours - torch).max():.3g}")
PY
