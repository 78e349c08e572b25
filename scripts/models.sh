#!/usr/bin/env bash
# The pretrained models tessera knows, and a one-command compile of any of them.
#   scripts/models.sh list
#   scripts/models.sh compile NAME [extra tessera compile flags]     (BUILD=dir picks the build, default build)
# NAME is esrgan-<slim|medium|thick>-x<2|3|4|8>. The package is fetched from npm on first use
# (scripts/fetch-models.sh, into .cache/models/); the .tsr goes to out/models/NAME.tsr, compiled for
# height and width 16..512 (override with e.g. --dim height=16:1024 --dim width=16:1024).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# UpscalerJS feeds its RDN models (slim, medium) pixels in 0..255 and its RRDN model (thick) 0..1.
pixel_range() { [ "$1" = thick ] && echo 0:1 || echo 0:255; }

list() {
  printf "%-18s %-32s %-6s %-7s %s\n" NAME PACKAGE SCALE PIXELS FETCHED
  for v in slim medium thick; do
    for s in 2 3 4 8; do
      fetched=no
      [ -f "$root/.cache/models/esrgan-$v/package.json" ] && fetched=yes
      printf "%-18s %-32s %-6s %-7s %s\n" "esrgan-$v-x$s" "@upscalerjs/esrgan-$v@1.0.0" "x$s" "$(pixel_range $v)" "$fetched"
    done
  done
  echo "(MIT licensed; weights are fetched into .cache/models, never committed)"
}

compile() {
  local name=$1
  shift
  if [[ ! "$name" =~ ^esrgan-(slim|medium|thick)-x(2|3|4|8)$ ]]; then
    echo "models.sh: unknown model '$name'; see scripts/models.sh list" >&2
    exit 2
  fi
  local variant=${BASH_REMATCH[1]} scale=${BASH_REMATCH[2]}
  "$root/scripts/fetch-models.sh" "$variant"
  mkdir -p "$root/out/models"
  local dims=(--dim height=16:512 --dim width=16:512)
  [ $# -gt 0 ] && dims=()
  "$root/${BUILD:-build}/tessera" compile "$root/.cache/models/esrgan-$variant/models/x$scale/model.json" \
    -o "$root/out/models/$name.tsr" --pixel-range "$(pixel_range "$variant")" "${dims[@]}" "$@"
}

case "${1:-}" in
  list) list ;;
  compile) shift; [ $# -ge 1 ] || { sed -n '3,4s/^# //p' "$0" >&2; exit 2; }; compile "$@" ;;
  *) sed -n '2,7s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
