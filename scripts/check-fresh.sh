#!/usr/bin/env bash
# Proves the README's two commands on a fresh Debian 12 system. A development machine keeps every
# package anything ever installed, so a missing install step never shows there; this builds a
# minimal bookworm root with debootstrap that has only git, make and ca-certificates (plus the CA
# certificates this machine trusts, for networks behind a TLS proxy), copies a clean `git archive`
# of HEAD into it, and runs `make test`, `make demo` and `make test-arm64` inside it under chroot.
# Prints how long each step took and exits non-zero on any failure. Needs root and the apt
# repositories; takes several minutes, so it is not part of `make test`.
#   scripts/check-fresh.sh        KEEP=1 keeps the root afterwards, MIRROR=url picks the Debian mirror
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null || { echo "check-fresh: needs root (debootstrap, mount, chroot); run it as root" >&2; exit 2; }
  exec sudo KEEP="${KEEP:-}" MIRROR="${MIRROR:-}" "$0" "$@"
fi

# The mirror this machine's apt uses for bookworm, and its security and updates suites if it has them.
mirror_of() { apt-cache policy 2>/dev/null | awk -v s="$1/main" '$3 == s { print $2; exit }'; }
mirror=${MIRROR:-$(mirror_of bookworm)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(mirror_of bookworm-security)
updates=$(mirror_of bookworm-updates)

commit=$(git -C "$repo" rev-parse --short HEAD)
logs="$repo/out/check-fresh"
mkdir -p "$logs"
root=$(mktemp -d /var/tmp/tessera-fresh.XXXXXX)
mounted=()

cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[i]}" 2> /dev/null || umount -R -l "${mounted[i]}" || true
  done
  if [ -n "${KEEP:-}" ]; then
    echo "kept the root: $root"
  elif findmnt -rn -o TARGET | grep -q "^$root/"; then
    echo "check-fresh: something is still mounted under $root; not deleting it" >&2
  else
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

steps=() times=() results=()
# step NAME COMMAND...: runs a command with its output in $logs/NAME.log; records time and result.
# The command runs as a background job so that `set -e` holds inside it (an `||` would switch it off).
step() {
  local name=$1 start status=0
  shift
  echo "== $name (log: out/check-fresh/$name.log)"
  start=$(date +%s)
  "$@" > "$logs/$name.log" 2>&1 &
  wait $! || status=$?
  steps+=("$name") times+=($(($(date +%s) - start)))
  if [ $status -eq 0 ]; then
    results+=(ok)
  else
    results+=("FAILED (exit $status)")
    echo "-- $name failed; the end of its log:"
    tail -n 40 "$logs/$name.log"
  fi
  return $status
}

# in_root COMMAND: runs a shell command inside the root, with a clean environment as a new login has.
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c "$1"
}

make_root() {
  command -v debootstrap > /dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
  debootstrap --variant=minbase --include=git,make,ca-certificates bookworm "$root" "$mirror"
  {
    echo "deb $mirror bookworm main"
    [ -z "$updates" ] || echo "deb $updates bookworm-updates main"
    [ -z "$security" ] || echo "deb $security bookworm-security main"
  } > "$root/etc/apt/sources.list"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  if compgen -G "/usr/local/share/ca-certificates/*" > /dev/null; then
    cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
    in_root update-ca-certificates
  fi
  mkdir -p "$root/root/tessera"
  git -C "$repo" archive HEAD | tar -x -C "$root/root/tessera"
}

# Mounted in this shell, so that cleanup knows what to unmount.
mount_root() {
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  mount -t sysfs sys "$root/sys" && mounted+=("$root/sys")
  mount --rbind /dev "$root/dev" && mounted+=("$root/dev") && mount --make-rslave "$root/dev"
}

echo "check-fresh: HEAD $commit in a new Debian 12 root at $root (mirror $mirror)"
status=0
if step debootstrap make_root && mount_root; then
  step make-test in_root "cd /root/tessera && make test" || status=1
  step make-demo in_root "cd /root/tessera && make demo" || status=1
  step make-test-arm64 in_root "cd /root/tessera && make test-arm64" || status=1
else
  status=1
fi

echo
echo "check-fresh summary: HEAD $commit on a fresh Debian 12 (bookworm, minbase + git make ca-certificates)"
for i in "${!steps[@]}"; do
  printf '  %-16s %5d s  %s\n' "${steps[i]}" "${times[i]}" "${results[i]}"
done
tests=$(grep -E 'tests passed, [0-9]+ tests failed' "$logs/make-test.log" 2> /dev/null | tail -n 1 || true)
[ -z "$tests" ] || echo "  ctest: $tests"
demo=$(grep -E '^wrote ' "$logs/make-demo.log" 2> /dev/null | tail -n 1 || true)
[ -z "$demo" ] || echo "  demo: $demo"
arm64=$(grep -E 'tests passed, [0-9]+ tests failed' "$logs/make-test-arm64.log" 2> /dev/null | tail -n 1 || true)
[ -z "$arm64" ] || echo "  ctest on aarch64 (qemu): $arm64"
exit $status
