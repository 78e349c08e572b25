#!/usr/bin/env bash
# What an app that only loads a .tsr and runs it carries: examples/dynamic_shapes.cpp built against
# an install of BUILD_DIR, stripped, linked (a) fully static with the runtime alone (reference
# backend; the C++ library, libc and zlib included), (b) with tessera static and the system's
# libraries shared, which is the runtime's own share plus a page of example code, and (c) as (b)
# with the XNNPACK backend, whose Debian library exists only shared. Prints a Markdown table.
# The aarch64 column: the runtime-only configuration (Release, XNNPACK on) cross-built with
# cmake/aarch64-linux-gnu.cmake against ARM64_SYSROOT (scripts/arm64-sysroot.sh) and installed in a
# temporary folder, the same three programs linked with aarch64-linux-gnu-g++; each is checked to be
# aarch64 and, when BUILD_DIR has testdata/compiled/tiny.tsr, run on it under qemu-aarch64 (the static one
# without the sysroot). Left out, saying so, without the cross compiler or the sysroot.
#   bench/runtime_size.sh [BUILD_DIR [ARM64_SYSROOT]]
# ARM64_SYSROOT defaults to $TESSERA_ARM64_SYSROOT, else build-arm64-sysroot in the source tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
sysroot=${2:-${TESSERA_ARM64_SYSROOT:-$root/build-arm64-sysroot}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quiet() { "$@" > "$work/log" 2>&1 || { cat "$work/log" >&2; return 1; }; }
kib() { awk -v b="$1" 'BEGIN { printf "%.0f KiB", b / 1024 }'; }

# programs PREFIX OUT CXX STRIP [COMPILER FLAGS]: the three programs into OUT, stripped, and the
# XNNPACK library they link.
programs() {
  local prefix=$1 out=$2 cxx=$3 strip=$4 lib
  shift 4
  lib=$(dirname "$(find "$prefix" -name libtessera_runtime.a)")
  local cc=("$cxx" "$@" -std=c++20 -O2 -I"$prefix/include" "$root/examples/dynamic_shapes.cpp")
  mkdir -p "$out"
  "${cc[@]}" -o "$out/static" -static "$lib/libtessera_runtime.a" -lz -pthread
  "${cc[@]}" -o "$out/runtime" "$lib/libtessera_runtime.a" -lz -pthread
  "${cc[@]}" -o "$out/xnnpack" -Wl,-u,tessera_xnnpack_backend \
    "$lib/libtessera_xnnpack.a" "$lib/libtessera_runtime.a" -lXNNPACK -lpthreadpool -lcpuinfo -lz -pthread
  "$strip" "$out/static" "$out/runtime" "$out/xnnpack"
  xnn=$(readlink -f "$("$cxx" "$@" -print-file-name=libXNNPACK.so)")
  cp "$xnn" "$out/libXNNPACK"
}

quiet cmake --install "$build" --prefix "$work/x86/prefix"
programs "$work/x86/prefix" "$work/x86" g++ strip

arm=""
if ! command -v aarch64-linux-gnu-g++ > /dev/null; then
  echo "runtime_size.sh: no aarch64 column: no aarch64-linux-gnu-g++ (crossbuild-essential-arm64)" >&2
elif [ ! -f "$sysroot/packages.txt" ]; then
  echo "runtime_size.sh: no aarch64 column: no arm64 sysroot at $sysroot (scripts/arm64-sysroot.sh DIR)" >&2
else
  sysroot=$(cd "$sysroot" && pwd)
  quiet cmake -S "$root" -B "$work/arm64/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" -DTESSERA_ARM64_SYSROOT="$sysroot" \
    -DTESSERA_BUILD_COMPILER=OFF -DTESSERA_BUILD_IMAGES=OFF -DTESSERA_BUILD_CLI=OFF \
    -DTESSERA_BUILD_PYTHON=OFF -DTESSERA_BUILD_TESTS=OFF -DTESSERA_WITH_ONEDNN=OFF -DTESSERA_WITH_XNNPACK=ON
  quiet cmake --build "$work/arm64/build" --parallel "$(nproc)"
  quiet cmake --install "$work/arm64/build" --prefix "$work/arm64/prefix"
  # --sysroot for the arm64 libraries (zlib's libz.a included); libc, libc.a and libstdc++ come
  # with the cross compiler.
  programs "$work/arm64/prefix" "$work/arm64" aarch64-linux-gnu-g++ aarch64-linux-gnu-strip \
    --sysroot="$sysroot"
  model="$build/testdata/compiled/tiny.tsr"
  [ -f "$model" ] || echo "runtime_size.sh: the aarch64 programs not run: no $model" >&2
  for v in static runtime xnnpack; do
    readelf -h "$work/arm64/$v" | grep -q 'Machine: *AArch64' ||
      { echo "runtime_size.sh: $v is not an aarch64 program" >&2; exit 1; }
    [ $v = static ] && emu=(qemu-aarch64) || emu=(qemu-aarch64 -L "$sysroot")
    [ ! -f "$model" ] || quiet "${emu[@]}" "$work/arm64/$v" "$model" 256x256 288x320
  done
  arm=arm64
fi

cell() { local b; b=$(stat -c %s "$1"); echo "$b ($(kib "$b"))"; }
if [ -n "$arm" ]; then
  echo "| dynamic_shapes, stripped | x86-64 bytes | aarch64 bytes |"
  echo "|---|---|---|"
else
  echo "| dynamic_shapes, stripped | x86-64 bytes |"
  echo "|---|---|"
fi
for v in static runtime xnnpack libXNNPACK; do
  case $v in
    static) what="fully static, runtime + reference backend (libstdc++, libc, zlib included)" ;;
    runtime) what="runtime + reference backend static, system libraries shared" ;;
    xnnpack) what="runtime + XNNPACK backend static, system libraries and XNNPACK shared" ;;
    *) what="Debian's $(basename "$xnn") itself" ;;
  esac
  row="| $what | $(cell "$work/x86/$v") |"
  [ -z "$arm" ] || row="$row $(cell "$work/arm64/$v") |"
  echo "$row"
done
