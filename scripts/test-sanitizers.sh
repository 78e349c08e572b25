#!/usr/bin/env bash
# make test-asan / make test-tsan: the GoogleTest suite built with sanitizers in a build directory of
# its own (build-asan/, build-tsan/; the Release build/ is untouched). docs/reliability.md.
#   scripts/test-sanitizers.sh asan   ASan + UBSan over every test that can run under them
#   scripts/test-sanitizers.sh tsan   TSan over the tiled runner, the image pipeline and every
#                                     multi-threaded test
# ASAN_SUBSET=ci runs the ASan lane's CI subset (.ci/run; below). Extra ctest arguments may follow.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lane="${1:?usage: scripts/test-sanitizers.sh asan|tsan [ctest arguments]}"
shift
supp="$root/tests/sanitizers"

# Left out of both lanes, and why:
#  - Python.*: the _tessera extension would need the sanitizer runtime preloaded into Debian's
#    uninstrumented python3; the Python layer adds no C++ of its own beyond the libraries tested here.
#  - OutsideProject.* and BuildOptions.*: they build other configurations (an installed tessera, the
#    embedded options) with the plain compiler; nothing of them runs under the sanitizer.
#  - HugeImages.* (tessera_large_tests): it measures peak RSS, which the sanitizers' shadow memory
#    and quarantine inflate several times.
#  - The tests that count heap allocations (Allocations.*, *RunAllocatesNothing*, *AllocationCounter*):
#    they replace malloc and operator new, which the sanitizers own (tests/allocation_counter.cpp).
exclude='^(Python\.|OutsideProject\.|BuildOptions\.|HugeImages\.|Allocations\.)|RunAllocatesNothing|AllocationCounterSeesXnnpack'

case "$lane" in
  asan)
    build="${ASAN_BUILD:-$root/build-asan}"
    flags=(-DTESSERA_SANITIZE=address)
    # Stop at the first report of either sanitizer, with a stack.
    # allocator_may_return_null: tessera checks what it allocates (a 1 TiB arena is OutOfMemory, tested).
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:detect_stack_use_after_return=0}"
    export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$supp/lsan.supp:print_suppressions=0}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    select=()
    if [ "${ASAN_SUBSET:-}" = ci ]; then
      # CI (.ci/run, 2 cores, after make test): the 102 single-op models (checked against PyTorch,
      # tiled and planned), the ESRGAN packages (the same kernels as the test networks, at sizes
      # that take minutes under ASan), the whole networks' tiled runs on the reference backend (the
      # same runner as on the other two; a third of this subset's time), the halo's tightness, and
      # the two slowest reference runs (tiny at 1024x1024, the image pipeline on the reference
      # kernels; both run on the other backends here), and the whole networks in bf16 on oneDNN (the
      # same session code as fp32 but for one buffer; unet's bf16 run stays) run in the whole lane
      # only; every other test runs here.
      exclude="$exclude|^Models/(ModelVsPyTorch|TiledEqualsFull|PlanOfEveryModel)\\..*/op_|^Packages/"
      exclude="$exclude|^Models/[A-Za-z]+\\.[A-Za-z]+/(tiny|sr_pixelshuffle|dense_block|dense_residual|dw_dilated_grouped|se_block|valid_convs)_onednn_bf16( |$)"
      exclude="$exclude|^Models/TiledEqualsFull\\..*_reference( |$)|^Models/HaloIsTight\\."
      exclude="$exclude|^Models/ModelVsPyTorch\\..*/tiny_reference( |$)|^Backends/ImageTiledEqualsWhole\\..*/reference( |$)"
    fi
    ;;
  tsan)
    build="${TSAN_BUILD:-$root/build-tsan}"
    # clang, so that OpenMP is LLVM's libomp, whose Archer tool tells TSan about OpenMP's barriers
    # and locks (GCC's libgomp is not instrumented: every parallel region would look like a race).
    # oneDNN's GOMP calls bind to libomp's GOMP entry points in the same process.
    flags=(-DTESSERA_SANITIZE=thread -DCMAKE_CXX_COMPILER=clang++-14)
    export OMP_TOOL_LIBRARIES="${OMP_TOOL_LIBRARIES:-/usr/lib/llvm-14/lib/libarcher.so}"
    export ARCHER_OPTIONS="${ARCHER_OPTIONS:-verbose=0}"
    export TSAN_OPTIONS="${TSAN_OPTIONS:-suppressions=$supp/tsan.supp:ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1}"
    # Tiled == full on the whole test networks on every backend (the op models run the same runner).
    # ImageCli.CtrlCStopsCleanlyAndLeavesNothing is left out: TSan defers a signal until the thread
    # next enters its runtime, so the run can finish before the SIGINT handler runs.
    exclude="$exclude|^ImageCli\\.CtrlCStopsCleanlyAndLeavesNothing\$"
    select=(-R '^(Models/TiledEqualsFull\.[A-Za-z]+/(tiny|sr_pixelshuffle|unet|dense_block|dense_residual|dw_dilated_grouped|se_block|valid_convs)_|(Tiling|TilePlan|TileWorkers|Packages/EsrganTiled|Backends/ImageTiledEqualsWhole|ImageRun|ImageCli|VerifyCli|BenchCli|OnednnBackend|XnnpackBackend|NarrowConv|NarrowConvModel|PointwiseSum|PointwiseSumModel|FuzzRegressions)\.)')
    ;;
  *) echo "test-sanitizers.sh: lane is asan or tsan, not '$lane'" >&2; exit 2 ;;
esac

# The test models are compiled by a Release build's tessera when one is given (make test-asan and
# test-tsan build one: cmake/tests.cmake says why).
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" \
  -DTESSERA_TEST_MODELS_CLI="${TEST_MODELS_CLI:-}" > /dev/null
ninja -C "$build" -j2 tessera_tests tessera_runtime_tests
cd "$build"
ctest --output-on-failure -j2 --timeout 1800 -E "$exclude" "${select[@]}" "$@"
