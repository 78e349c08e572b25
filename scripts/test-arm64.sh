#!/usr/bin/env bash
# make test-arm64: the runtime on aarch64, under emulation. Cross-builds the runtime, the reference
# and XNNPACK backends, the tiling and the tessera command (without the compiler and images
# libraries: models are compiled on the build machine) into build-arm64/ against an arm64 sysroot
# (scripts/arm64-sysroot.sh), then runs under qemu-aarch64, on the test models that the x86 build
# compiled (BUILD_DIR/testdata/compiled): the command on one model, whose reference output must be
# the x86 bytes, and the runtime tests (tests/runtime/). docs/arm64.md.
#   scripts/test-arm64.sh BUILD_DIR [ctest arguments]
# ARM64_SUBSET=ci runs the subset .ci/run runs (below).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
x86="$(cd "${1:?usage: scripts/test-arm64.sh BUILD_DIR [ctest arguments]}" && pwd)"
shift
arm="$root/build-arm64"
sysroot="$root/build-arm64-sysroot"

"$root/scripts/arm64-sysroot.sh" "$sysroot"
ninja -C "$x86" compiled_testdata
cmake -S "$root" -B "$arm" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" -DTESSERA_ARM64_SYSROOT="$sysroot" \
  -DTESSERA_BUILD_COMPILER=OFF -DTESSERA_BUILD_IMAGES=OFF -DTESSERA_BUILD_PYTHON=OFF -DTESSERA_WITH_ONEDNN=OFF \
  -DTESSERA_WITH_XNNPACK=ON -DTESSERA_BUILD_CLI=ON -DTESSERA_BUILD_TESTS=ON \
  -DTESSERA_TESTDATA_DIR="$x86/testdata" > /dev/null
ninja -C "$arm" tessera_cli tessera_runtime_tests

# The command as a board runs it: a model compiled on x86, its reference output byte for byte the
# x86 one; auto is XNNPACK; verify and bench run.
data="$x86/testdata"
run() { qemu-aarch64 -L "$sysroot" "$arm/tessera" "$@"; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run info "$data/compiled/unet.tsr" > "$out/info.txt"
grep '^backend' "$out/info.txt" || true
grep -q '^backend  xnnpack (auto)' "$out/info.txt" || { echo "test-arm64: auto is not xnnpack on aarch64" >&2; exit 1; }
run run "$data/compiled/unet.tsr" "$data/unet/in_256x256.npy" "$out/unet.npy" --backend reference --no-tile
cmp "$out/unet.npy" "$data/compiled/unet/in_256x256.reference.npy" ||
  { echo "test-arm64: the reference output on aarch64 is not x86's, byte for byte" >&2; exit 1; }
echo "unet 256x256, reference backend: the same bytes as on $(uname -m)"
run verify "$data/compiled/unet.tsr" "$data/unet/in_256x256.npy" --backend xnnpack --tile 64
run bench "$data/compiled/unet.tsr" --sizes 64 --repeats 1 > "$out/bench.txt" || { cat "$out/bench.txt"; exit 1; }
echo "bench runs (its times under emulation mean nothing)"

# Left out under emulation (two fifths of the suite's time there: 867 of 2242 s of tests): the whole
# networks' tiled runs on the reference backend, whose kernels give x86's bits here (checked on every
# model above), and the halo's tightness, which the .tsr states whatever the CPU. Every other runtime
# test runs.
nets='(tiny|sr_pixelshuffle|unet|valid_convs|dw_dilated_grouped|dense_residual|dense_block|se_block)'
select=(-E "^Models/TiledEqualsFull\\..*/${nets}_reference( |\$)|^Models/HaloIsTight\\.")
if [ "${ARM64_SUBSET:-}" = ci ]; then
  # CI (.ci/run, after make test and the ASan lane): the reference bits of every single-op model
  # (every kernel; the networks, made of them, in the whole target), XNNPACK against PyTorch on
  # the single-op models and tiled == full on dense_residual, the session errors, the damaged files
  # (not the 2000 mutations) and XNNPACK's own tests.
  select=(-R "^Models/(ModelVsPyTorch\\..*/op_.*|TiledEqualsFull\\..*/dense_residual_xnnpack)( |\$)|^(SessionErrors|DamagedModelFile|Backends|XnnpackBackend|TilePlan|TileWorkers|Result|ResultDeathTest|Shape|ShapeDeathTest)\\."
          -E "FuzzedMetadata")
fi
cd "$arm"
ctest --output-on-failure -j2 --timeout 1800 "${select[@]}" "$@"
