#!/usr/bin/env bash
# What an app that only loads a .tsr and runs it carries: examples/dynamic_shapes.cpp built against
# an install of BUILD_DIR, stripped, linked (a) fully static with the runtime alone (reference
# backend; the C++ library, libc and zlib included), (b) with tessera static and the system's
# libraries shared, which is the runtime's own share plus a page of example code, and (c) as (b)
# with the XNNPACK backend, whose Debian library exists only shared. Prints a Markdown table.
#   bench/runtime_size.sh [BUILD_DIR]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
examples=$(cd "$(dirname "$0")/../examples" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > /dev/null
inc="$work/prefix/include"
lib=$(dirname "$(find "$work/prefix" -name libtessera_runtime.a)")
size_of() { strip -o "$work/stripped" "$1" && stat -c %s "$work/stripped"; }
kib() { awk -v b="$1" 'BEGIN { printf "%.0f KiB", b / 1024 }'; }

g++ -std=c++20 -O2 -I"$inc" "$examples/dynamic_shapes.cpp" -o "$work/static" -static \
  "$lib/libtessera_runtime.a" -lz -pthread
g++ -std=c++20 -O2 -I"$inc" "$examples/dynamic_shapes.cpp" -o "$work/runtime" "$lib/libtessera_runtime.a" -lz -pthread
g++ -std=c++20 -O2 -I"$inc" "$examples/dynamic_shapes.cpp" -o "$work/xnnpack" -Wl,-u,tessera_xnnpack_backend \
  "$lib/libtessera_xnnpack.a" "$lib/libtessera_runtime.a" -lXNNPACK -lpthreadpool -lcpuinfo -lz -pthread
xnn=$(readlink -f "$(g++ -print-file-name=libXNNPACK.so)")

echo "| dynamic_shapes, stripped | bytes | size |"
echo "|---|---|---|"
for v in static runtime xnnpack; do
  b=$(size_of "$work/$v")
  case $v in
    static) what="fully static, runtime + reference backend (libstdc++, libc, zlib included)" ;;
    runtime) what="runtime + reference backend static, system libraries shared" ;;
    xnnpack) what="runtime + XNNPACK backend static, system libraries and XNNPACK shared" ;;
  esac
  echo "| $what | $b | $(kib "$b") |"
done
echo "| Debian's $(basename "$xnn") itself | $(stat -c %s "$xnn") | $(kib "$(stat -c %s "$xnn")") |"
