#!/usr/bin/env bash
# tessera's backends against PyTorch eager and ONNX Runtime, same models, inputs and threads, one run.
# Prints a Markdown table (see bench/peers/README.md).
#   bench/peers/run.sh BUILD_DIR [--sizes 256,512,1024] [--threads 2] [--backends reference,xnnpack,onednn]
#                      [--repeats 5] [--models unet,sr_pixelshuffle,sr_conv32] [--budget 10] [--max-run 30]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$here/../../out/peers  # git-ignored
if [ $# -lt 1 ]; then
  sed -n '4,5s/^# //p' "$0" >&2
  exit 2
fi

# ONNX Runtime's CPU library ships inside the npm package; its install script only fetches GPU
# binaries, so skip it.
if [ ! -d "$cache/node_modules/onnxruntime-node" ]; then
  mkdir -p "$cache"
  echo "installing onnxruntime-node into $cache/node_modules" >&2
  npm install --prefix "$cache" --ignore-scripts --no-audit --no-fund --silent onnxruntime-node@1.30.0 >&2
fi
NODE_PATH=$cache/node_modules node -e "require('onnxruntime-node')" ||
  { echo "onnxruntime-node's native binding does not load (see above)" >&2; exit 1; }

exec /usr/bin/python3 "$here/compare.py" "$@"
