#!/usr/bin/env bash
# The configurations an embedded user picks configure and build: the runtime alone (the reference
# backend), and the runtime with XNNPACK and the command, which then runs .npy tensors without the
# compiler and images libraries; a full build without oneDNN and one without the compiler, images,
# command and tests configure.
#   tests/build_options.sh SOURCE_DIR
set -euo pipefail
source=$(cd "$1" && pwd)
# In the current folder (ctest's: the build folder), so that .ci/run's compiler cache, which hashes
# paths relative to the build, finds these builds again; and the second finds the runtime the first compiled.
work=$(mktemp -d "$PWD/build-options.XXXXXX")
trap 'rm -rf "$work"' EXIT

configure() {  # NAME OPTIONS...: configures into $work/NAME, printing the log on failure
  local name=$1
  shift
  cmake -S "$source" -B "$work/$name" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" > "$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; echo "FAILED: configuring $name ($*)"; exit 1; }
}
build() {
  ninja -C "$work/$1" > "$work/$1.build.log" 2>&1 || { tail -30 "$work/$1.build.log"; echo "FAILED: building $1"; exit 1; }
  echo "$1: configures and builds: $(cd "$work/$1" && ls ./*.a | xargs -n1 basename | tr '\n' ' ')"
}
lean=(-DTESSERA_BUILD_COMPILER=OFF -DTESSERA_BUILD_IMAGES=OFF -DTESSERA_BUILD_CLI=OFF -DTESSERA_BUILD_PYTHON=OFF
      -DTESSERA_BUILD_TESTS=OFF)

configure runtime-only -DTESSERA_WITH_XNNPACK=OFF -DTESSERA_WITH_ONEDNN=OFF "${lean[@]}"
build runtime-only
configure runtime-xnnpack -DTESSERA_WITH_ONEDNN=OFF "${lean[@]}" -DTESSERA_BUILD_CLI=ON
build runtime-xnnpack
# Its command links neither library's dependencies, lists no compile or models, and refuses compile
# naming the option.
tessera=$work/runtime-xnnpack/tessera
if ldd "$tessera" | grep -E "vips|gdal|protobuf|onnx"; then echo "FAILED: the lean command links the above"; exit 1; fi
help=$("$tessera" --help) || { echo "FAILED: tessera --help"; exit 1; }
grep -q "^  run " <<< "$help" || { echo "$help"; echo "FAILED: no run in tessera --help"; exit 1; }
if grep -qE "^  (compile|models) " <<< "$help"; then echo "$help"; echo "FAILED: compile or models listed"; exit 1; fi
if "$tessera" compile model.onnx -o model.tsr 2> "$work/compile.err"; then echo "FAILED: compile ran"; exit 1; fi
grep -q "DTESSERA_BUILD_COMPILER=OFF" "$work/compile.err" || { cat "$work/compile.err"; echo "FAILED: no hint"; exit 1; }
if "$tessera" run model.tsr photo.jpg out.png 2> "$work/image.err"; then echo "FAILED: an image ran"; exit 1; fi
grep -q "DTESSERA_BUILD_IMAGES=OFF" "$work/image.err" || { cat "$work/image.err"; echo "FAILED: no hint"; exit 1; }
echo "runtime-xnnpack: tessera --help lists no compile or models; compile and an image file are refused, naming the option"
configure no-onednn -DTESSERA_WITH_ONEDNN=OFF
grep -q "test_onednn_backend" "$work/no-onednn/build.ninja" && { echo "FAILED: oneDNN tests in a build without oneDNN"; exit 1; }
echo "no-onednn: configures, without the oneDNN tests"

# The Python package without its libraries is refused with the option to change.
if cmake -S "$source" -B "$work/bad" -G Ninja -DTESSERA_BUILD_COMPILER=OFF > "$work/bad.log" 2>&1; then
  echo "FAILED: the Python package was configured without the compiler"; exit 1
fi
grep -q "DTESSERA_BUILD_PYTHON=OFF" "$work/bad.log" || { cat "$work/bad.log"; echo "FAILED: no hint"; exit 1; }
echo "the Python package without the compiler: refused, naming -DTESSERA_BUILD_PYTHON=OFF"
