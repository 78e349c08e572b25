#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets (build-fuzz/: clang-14, ASan + UBSan over the whole project)
# and runs each in turn for its share of FUZZ_SECONDS. Corpora grow in out/fuzz/corpus/<target>
# (kept between runs, never committed), seeded from the build's test models (build-fuzz/fuzz/seeds);
# a crash, leak, timeout or out-of-memory leaves its input in out/fuzz/artifacts/<target>/ and fails.
#   FUZZ_SECONDS=300           total time (default), split evenly over the targets
#   FUZZ_TARGETS="tsr onnx"    a subset (default: tsr onnx tfjs npy image)
#   FUZZ_SECONDS_<target>=N    one target's time, e.g. FUZZ_SECONDS_npy=60 (overrides the share)
#   FUZZ_JOBS=1                libFuzzer processes per target (-fork); 1 runs in-process
#   FUZZ_LOG=path              append a summary line per target (campaigns; docs/reliability.md)
#   FUZZ_NO_BUILD=1            run the targets as built (a campaign continued)
# Reproduce: build-fuzz/fuzz/fuzz_<target> out/fuzz/artifacts/<target>/crash-...  (docs/reliability.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD:-$root/build-fuzz}"
out="${FUZZ_OUT:-$root/out/fuzz}"
seconds="${FUZZ_SECONDS:-300}"
read -r -a targets <<< "${FUZZ_TARGETS:-tsr onnx tfjs npy image}"
jobs="${FUZZ_JOBS:-1}"

command -v clang++-14 > /dev/null || { echo "fuzz.sh: clang++-14 is missing; run scripts/install-deps.sh" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DTESSERA_SANITIZE=address -DTESSERA_FUZZ=ON \
    -DTESSERA_BUILD_TESTS=OFF -DTESSERA_BUILD_PYTHON=OFF -DTESSERA_BUILD_CLI=OFF > /dev/null
fi
[ -n "${FUZZ_NO_BUILD:-}" ] || ninja -C "$build" -j2 fuzz_targets

# Third-party leaks only (libvips, GLib and fontconfig keep process-wide caches): tests/sanitizers/lsan.supp.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Scratch files on tmpfs when there is one (twice the executions per second of a disk).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
# oneDNN and OpenMP on one thread per process: the fuzzer measures inputs, not thread pools.
export OMP_NUM_THREADS=1

share=$(( seconds / ${#targets[@]} ))
[ "$share" -ge 1 ] || share=1
failed=()
for t in "${targets[@]}"; do
  [ -x "$build/fuzz/fuzz_$t" ] || { echo "fuzz.sh: no target '$t' (tsr onnx tfjs npy image)" >&2; exit 2; }
  var="FUZZ_SECONDS_$t"
  time_t="${!var:-$share}"
  corpus="$out/corpus/$t"
  artifacts="$out/artifacts/$t"
  log="$out/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$out/logs"
  args=(-max_total_time="$time_t" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1
        -artifact_prefix="$artifacts/" "$corpus" "$build/fuzz/seeds/$t")
  [ -f "$root/fuzz/$t.dict" ] && args=(-dict="$root/fuzz/$t.dict" "${args[@]}")
  [ "$jobs" -gt 1 ] && args=(-fork="$jobs" "${args[@]}")
  echo "fuzz $t: ${time_t}s, corpus $corpus"
  status=0
  (cd "$out" && "$build/fuzz/fuzz_$t" "${args[@]}") > "$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -oE '(cov|ft|corp): [0-9]+[^ ]*' "$log" | tail -3 | tr '\n' ' ')
  summary="$(date -u +%FT%TZ) $t: exit $status, ${time_t}s, ${execs:-?} executions, ${cov}, corpus $(find "$corpus" -type f | wc -l) files"
  echo "  $summary"
  [ -n "${FUZZ_LOG:-}" ] && echo "$summary" >> "$FUZZ_LOG"
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY|Test unit written' "$log" | head -8 >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: faults in ${failed[*]} (logs in $out/logs, inputs in $out/artifacts; docs/reliability.md says how to reproduce)" >&2
  exit 1
fi
echo "fuzz: no crash, leak or timeout in ${targets[*]}"
