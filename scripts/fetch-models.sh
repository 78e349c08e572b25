#!/usr/bin/env bash
# Fetches the pretrained ESRGAN TF.js models (MIT, @upscalerjs/esrgan-*@1.0.0) from npm into
# .cache/models/esrgan-<variant>/ (git-ignored: weights are never committed).
# Usage: scripts/fetch-models.sh [slim|medium|thick ...]   (default: all three)
# Does nothing for a variant that is already there.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version=1.0.0
variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(slim medium thick)

for v in "${variants[@]}"; do
  case "$v" in
    slim | medium | thick) ;;
    *) echo "fetch-models.sh: unknown variant '$v'; choose slim, medium or thick" >&2; exit 2 ;;
  esac
done

for v in "${variants[@]}"; do
  dest="$root/.cache/models/esrgan-$v"
  # package.json is moved in last (with the whole directory), so its presence means complete.
  [ -f "$dest/package.json" ] && continue
  if ! command -v npm > /dev/null; then
    echo "fetch-models.sh: npm is not installed; install it (apt-get install npm) to fetch @upscalerjs/esrgan-$v" >&2
    exit 1
  fi
  mkdir -p "$root/.cache/models"
  work="$(mktemp -d "$root/.cache/fetch-$v.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "Fetching @upscalerjs/esrgan-$v@$version from npm"
  # Node.js trusts only its own CA list; add the system's, so that a CA installed with
  # update-ca-certificates (a TLS-inspecting proxy's) is trusted too.
  [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ] &&
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  if ! (cd "$work" && npm pack --loglevel=error "@upscalerjs/esrgan-$v@$version" > pack.log 2>&1); then
    echo "fetch-models.sh: 'npm pack @upscalerjs/esrgan-$v@$version' failed (is the npm registry reachable?):" >&2
    cat "$work/pack.log" >&2
    exit 1
  fi
  tar -xzf "$work"/upscalerjs-esrgan-"$v"-"$version".tgz -C "$work"
  rm -rf "$dest"
  mv "$work/package" "$dest"
  rm -rf "$work"
  trap - EXIT
done
