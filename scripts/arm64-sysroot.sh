#!/usr/bin/env bash
# Makes DIR an arm64 (aarch64-linux-gnu) sysroot for cmake/aarch64-linux-gnu.cmake: Debian's arm64
# packages, downloaded as .debs and unpacked with dpkg-deb (nothing is installed as arm64, and no arm64
# code runs). Installs the host's cross compiler and qemu-user when missing.
#   scripts/arm64-sysroot.sh DIR     (.debs cached in $TESSERA_ARM64_DEB_CACHE, ~/.cache/tessera/arm64-debs)
# DIR/packages.txt lists what was unpacked; a second run with nothing new to fetch does nothing.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)
cache=${TESSERA_ARM64_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera/arm64-debs}

# Linking: the runtime, the XNNPACK backend, the CLI's header-only libraries and GoogleTest (static),
# with the shared libraries and CMake files the -dev packages refer to (libfmt9, libflatbuffers2).
# Running under qemu-aarch64 -L DIR: the C and C++ runtimes and the loader (libc6 has
# /lib/ld-linux-aarch64.so.1). libc's headers and crt files come from the cross compiler
# (/usr/aarch64-linux-gnu), not from here. Packages marked "all" are architecture-independent.
packages=(
  libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 zlib1g:arm64 zlib1g-dev:arm64
  libxnnpack0:arm64 libxnnpack-dev:arm64 libpthreadpool0:arm64 libpthreadpool-dev:arm64
  libcpuinfo0:arm64 libcpuinfo-dev:arm64
  libfmt9:arm64 libfmt-dev:arm64 libflatbuffers2:arm64 libflatbuffers-dev:arm64 libgtest-dev:arm64
  libcli11-dev nlohmann-json3-dev  # all
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null || { echo "arm64-sysroot.sh: setting up the host needs root; run this as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
host=()
for p in crossbuild-essential-arm64 qemu-user; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || host+=("$p")
done
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq
elif [ ${#host[@]} -gt 0 ]; then
  $sudo apt-get update -qq
fi
if [ ${#host[@]} -gt 0 ]; then
  echo "Installing: ${host[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${host[@]}" > /dev/null
fi

# What apt would fetch now: "'URI' name_version_arch.deb size hash" per package (asked in an empty
# folder: apt-get leaves out the files the current folder already has).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
uris=$(cd "$tmp" && apt-get download --print-uris "${packages[@]}")
mapfile -t files < <(awk '{print $2}' <<< "$uris" | LC_ALL=C sort)
[ ${#files[@]} -eq ${#packages[@]} ] || { echo "arm64-sysroot.sh: apt-get found ${#files[@]} of ${#packages[@]} packages" >&2; exit 1; }
# package version architecture, one a line (the file name encodes the epoch's ':' as %3a).
wanted=$(printf '%s\n' "${files[@]}" | sed -e 's/\.deb$//' -e 's/%3a/:/' | tr _ ' ')
if [ -f "$dir/packages.txt" ] && [ "$(cat "$dir/packages.txt")" = "$wanted" ]; then
  exit 0
fi
if [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/packages.txt" ]; then
  echo "arm64-sysroot.sh: $dir is not empty and has no packages.txt; not a sysroot this script made" >&2
  exit 1
fi

mkdir -p "$cache"
missing=()
for f in "${files[@]}"; do [ -f "$cache/$f" ] || missing+=("$f"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Downloading ${#missing[@]} arm64 packages into $cache"
  # apt-get download runs as the _apt user where it can; the cache may be a folder it cannot write.
  (cd "$cache" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" "${packages[@]}")
fi

# Unpacked beside DIR and moved into place whole, packages.txt last: an interrupted run leaves DIR
# as it was.
new="$dir.new"
rm -rf "$new"
mkdir "$new"
for f in "${files[@]}"; do dpkg-deb -x "$cache/$f" "$new"; done
# Absolute links (libz.so -> /lib/aarch64-linux-gnu/libz.so.1, the loader itself) would point into
# the host; make them relative so the linker and qemu-aarch64 -L find their targets inside DIR.
find "$new" -type l -lname '/*' | while read -r link; do
  ln -sfn "$(realpath -ms --relative-to="$(dirname "$link")" "$new$(readlink "$link")")" "$link"
done
echo "$wanted" > "$new/packages.txt"
rm -rf "$dir"
mv "$new" "$dir"
echo "arm64 sysroot ready: $dir (${#files[@]} packages)"
