#!/usr/bin/env bash
# An app's view of tessera: install the build into a temporary prefix, build examples/ as a CMake
# project of its own with find_package(tessera), run both examples on a model compiled by the
# installed command, and check that the runtime-only example links nothing of the compiler's or the
# image library's dependencies.
#   tests/outside_project.sh BUILD_DIR EXAMPLES_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
examples=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$examples" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" \
  > "$work/configure.log" || { cat "$work/configure.log"; fail "configuring examples/ against the installed tessera"; }
cmake --build "$work/build" > "$work/build.log" || { cat "$work/build.log"; fail "building examples/"; }

# A x2 super-resolution model, compiled by the installed command for 16..96.
"$work/prefix/bin/tessera" compile "$build/testdata/sr_pixelshuffle.onnx" -o "$work/sr.tsr" \
  --dim height=16:96 --dim width=16:96 > /dev/null

out=$("$work/build/dynamic_shapes" "$work/sr.tsr" 96x96 40x72)
echo "$out"
grep -q "backend reference" <<< "$out" || fail "the runtime-only example should run on the reference backend"
grep -q "96x96    -> \[1, 3, 192, 192\]" <<< "$out" || fail "dynamic_shapes: no 96x96 -> 192x192 run"
"$work/build/dynamic_shapes" "$work/sr.tsr" --backend xnnpack 64x64 2> "$work/err.txt" &&
  fail "the runtime-only example ran a backend it does not link"
grep -q "backend 'xnnpack' is not linked into this program .*link tessera::xnnpack" "$work/err.txt" ||
  fail "a backend that is not linked: $(cat "$work/err.txt")"
if [ -x "$work/build/dynamic_shapes_xnnpack" ]; then
  "$work/build/dynamic_shapes_xnnpack" "$work/sr.tsr" 64x64 | grep -q "backend xnnpack" ||
    fail "linking tessera::xnnpack should register the XNNPACK backend"
fi

# An image larger than the model's maximum (96): tiled by the public image API.
/usr/bin/python3 -c "
import numpy as np; from PIL import Image
Image.fromarray(np.random.default_rng(1).integers(0, 256, (150, 230, 3), dtype=np.uint8)).save('$work/in.png')"
"$work/build/upscale_image" "$work/sr.tsr" "$work/in.png" "$work/out.png" 2 2> /dev/null | tee "$work/upscale.txt"
size=$(/usr/bin/python3 -c "from PIL import Image; print('%dx%d' % Image.open('$work/out.png').size)")
[ "$size" = "460x300" ] || fail "upscale_image wrote $size, expected 460x300"
grep -qE "in [0-9]+ tiles" "$work/upscale.txt" || fail "upscale_image printed no tile count"

# pkg-config, for builds without CMake: the runtime-only example again, and the one on images.
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/$(gcc -print-multiarch)/pkgconfig"
g++ -std=c++20 -O2 "$examples/dynamic_shapes.cpp" -o "$work/dynamic_shapes_pc" $(pkg-config --cflags --libs tessera) ||
  fail "building dynamic_shapes with pkg-config --libs tessera"
"$work/dynamic_shapes_pc" "$work/sr.tsr" 32x48 | grep -q "32x48    -> \[1, 3, 64, 96\]" || fail "dynamic_shapes built with pkg-config"
g++ -std=c++20 -O2 "$examples/upscale_image.cpp" -o "$work/upscale_pc" $(pkg-config --cflags --libs tessera-images) ||
  fail "building upscale_image with pkg-config --libs tessera-images"

# What the runtime-only example links: none of protobuf, ONNX, libvips, glib, oneDNN or XNNPACK.
needed=$(readelf -d "$work/build/dynamic_shapes" | grep NEEDED || true)
echo "$needed"
if grep -qiE "protobuf|onnx|vips|glib|gobject|dnnl|XNNPACK|gomp" <<< "$needed"; then
  fail "dynamic_shapes needs a library the runtime must not depend on"
fi
if nm -C "$work/build/dynamic_shapes" | grep -qE "google::protobuf|onnx::|vips_|g_object|dnnl_|xnn_"; then
  fail "dynamic_shapes holds symbols of the compiler's or the images library's dependencies"
fi
strip -o "$work/stripped" "$work/build/dynamic_shapes"
echo "dynamic_shapes (runtime + reference backend), stripped: $(stat -c %s "$work/stripped") bytes"
echo "outside project: OK"
