#!/usr/bin/env bash
# The pretrained models are the tessera command's own (docs/models.md); this passes through to it.
#   scripts/models.sh list [--json]                    = tessera models list
#   scripts/models.sh compile NAME [--dim ...] [--force] = tessera models fetch NAME, then prints the cached .tsr
# BUILD=dir picks the build (default build). The .tsr goes to the model cache (~/.cache/tessera), not out/models.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tessera="$root/${BUILD:-build}/tessera"
[ -x "$tessera" ] || { echo "models.sh: $tessera is not built; run make build" >&2; exit 1; }

case "${1:-}" in
  list) shift; exec "$tessera" models list "$@" ;;
  compile | fetch)
    shift
    [ $# -ge 1 ] || { sed -n '3,4s/^# //p' "$0" >&2; exit 2; }
    "$tessera" models fetch "$@"
    exec "$tessera" models path "$1" ;;
  *) sed -n '2,5s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
