#!/usr/bin/env bash
# The main job on real data: a pretrained super-resolution model (ESRGAN-slim x2 from npm, MIT;
# tessera models fetch puts it in the model cache, ~/.cache/tessera) compiled once for every size in
# 16..640, run at several sizes from the one loaded model, checked tiled against whole on a real
# photograph (coffee.png from Debian's python3-skimage), and the photograph upscaled with tiles into
# out/demo/.
#   scripts/demo.sh [BUILD_DIR]      MODEL=esrgan-medium-x2 PHOTO=path/to/photo.png to change either
set -euo pipefail
build=${1:-build}
model=${MODEL:-esrgan-slim-x2}
photo=${PHOTO:-/usr/lib/python3/dist-packages/skimage/data/coffee.png}
out=out/demo
mkdir -p "$out"
name=$(basename "${photo%.*}")
scale=${model##*-x}

echo "== fetch $model from npm and compile it once for every size in 16..640, into the model cache"
# 16..640 rather than the cache's default 16..512: the photograph (600 wide) also runs whole, for verify.
"$build/tessera" models fetch "$model" --dim height=16:640 --dim width=16:640
tsr=$("$build/tessera" models path "$model")
"$build/tessera" info "$tsr"
echo "== one loaded model, three sizes: no reload, no padding, no new allocation"
"$build/tessera_dynamic_shapes" "$tsr" 512x512 288x272 128x128
echo "== $name: tiles of 128 against the whole image, bit for bit"
"$build/tessera" verify "$tsr" "$photo" --tile 128 --threads 2
echo "== $name upscaled x$scale, streamed through tiles"
"$build/tessera" run "$tsr" "$photo" "$out/${name}_x$scale.png" --tile 128 --threads 2
echo "wrote $out/${name}_x$scale.png"
