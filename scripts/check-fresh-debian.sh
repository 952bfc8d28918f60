#!/usr/bin/env bash
# Proves README's two commands on a stock Debian 12: builds a clean root
# (debootstrap --variant=minbase bookworm), adds only git, gcc (with
# libc6-dev and ca-certificates, which the Rust toolchain's linker and TLS
# need) and this machine's Rust toolchain, clones the repository's HEAD into
# it and runs, as a new user would:
#   1. cargo run --release -- --demo   until /-/ready answers 200, then stops it
#   2. scripts/test.sh                 the whole suite, installing what it needs
# Needs root (debootstrap, chroot, mounts). Takes 20-30 minutes on 2 cores.
#
# What comes from this machine, and why:
#   - the Rust toolchain (~/.rustup, ~/.cargo/bin), bind-mounted read-only:
#     rustup's own download site is not a package registry;
#   - the crates already downloaded (~/.cargo/registry index and cache),
#     copied, so the build does not fetch them again (it still may);
#   - /etc/resolv.conf, the CA certificates and the package clients'
#     settings (pip, npm, apt), so the chroot reaches the same registries;
#   - an /etc/hosts naming localhost.
# The chroot shares this machine's network: the demo listens on a free
# loopback port (README's command, plus --web.listen-address), the tests on
# ports they pick themselves.
#
#   scripts/check-fresh-debian.sh            # result on stdout and in .tmp/fresh-debian/run.log
#   FRESH_DEBIAN_KEEP=1 scripts/check-fresh-debian.sh   # keep the root afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
WORK="$REPO/.tmp/fresh-debian"
ROOT="$WORK/root"
LOG="$WORK/run.log"
# The Debian mirror this machine's apt already uses (its first main
# archive), unless DEBIAN_MIRROR names one.
host_mirror() {
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true
    grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' || true; } |
    grep -v -e security -e updates | grep '/debian/\?$' | head -n 1 || true
}
MIRROR="${DEBIAN_MIRROR:-$(host_mirror)}"

[ -n "$MIRROR" ] || { echo "no Debian mirror in /etc/apt; set DEBIAN_MIRROR" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "check-fresh-debian.sh needs root (debootstrap, chroot, mount)" >&2; exit 1; }
: "${RUSTUP_HOME:=$HOME/.rustup}"
: "${CARGO_HOME:=$HOME/.cargo}"
[ -x "$CARGO_HOME/bin/cargo" ] || { echo "no Rust toolchain at $CARGO_HOME" >&2; exit 1; }

mounted=()
cleanup() {
  local status=$?
  # Stop anything still running inside the root before unmounting it.
  if [ -d "$ROOT/proc" ]; then
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -KILL "${p#/proc/}" 2>/dev/null || true
    done
  fi
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[i]}" 2>/dev/null || true
  done
  if [ "${FRESH_DEBIAN_KEEP:-}" != 1 ] && [ -d "$ROOT" ]; then
    # Only once nothing is mounted below it any more.
    if ! grep -q " $ROOT/" /proc/mounts; then rm -rf "$ROOT"; fi
  fi
  exit "$status"
}
trap cleanup EXIT INT TERM

bind() { # bind SOURCE TARGET [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounted+=("$2")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}

if ! command -v debootstrap >/dev/null; then
  echo "installing Debian package debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

if grep -q " $ROOT/" /proc/mounts; then
  echo "$ROOT still has mounts from an earlier run: unmount them first" >&2; exit 1
fi
rm -rf "$ROOT"
mkdir -p "$WORK"
: > "$LOG"
start=$(date +%s)
commit=$(git rev-parse --short=12 HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || echo "note: uncommitted changes are not tested (the root clones HEAD)"
echo "fresh Debian 12 check of $commit, log in $LOG"

echo "== debootstrap minbase bookworm" | tee -a "$LOG"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >>"$LOG" 2>&1

# Network, names and certificates, as on a configured machine.
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' > "$ROOT/etc/hosts"
for f in /etc/pip.conf /etc/npmrc "$HOME/.npmrc" "$HOME/.config/pip/pip.conf"; do
  [ -f "$f" ] && install -D -m 0644 "$f" "$ROOT$f"
done
for f in /etc/apt/apt.conf.d/*; do
  [ -e "$ROOT$f" ] || cp "$f" "$ROOT$f"
done
# The package clients' settings from the environment, and files they name.
passed=()
while IFS= read -r name; do
  passed+=("$name=${!name}")
  value="${!name}"
  if [[ "$value" == /* ]] && [ -e "$value" ]; then
    mkdir -p "$ROOT$(dirname "$value")"
    cp -a "$value" "$ROOT$value"
  fi
done < <(compgen -e | grep -E '^(PIP_|npm_config_|NPM_CONFIG_|https?_proxy$|HTTPS?_PROXY$|no_proxy$|NO_PROXY$)' || true)

bind /proc "$ROOT/proc"
bind /sys "$ROOT/sys"
bind /dev "$ROOT/dev"
bind /dev/pts "$ROOT/dev/pts"

in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CARGO_BUILD_JOBS=2 "${passed[@]}" bash -euo pipefail -c "$1"
}

echo "== apt-get install git gcc libc6-dev ca-certificates" | tee -a "$LOG"
in_root 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git gcc libc6-dev ca-certificates' >>"$LOG" 2>&1
# This machine's CA bundle (it may trust more than Debian's own).
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"

echo "== Rust toolchain from this machine" | tee -a "$LOG"
bind "$RUSTUP_HOME" "$ROOT/root/.rustup" ro
bind "$CARGO_HOME/bin" "$ROOT/root/.cargo/bin" ro
mkdir -p "$ROOT/root/.cargo/registry"
for d in index cache; do
  [ -d "$CARGO_HOME/registry/$d" ] && cp -a "$CARGO_HOME/registry/$d" "$ROOT/root/.cargo/registry/"
done
in_root 'cargo --version && rustc --version && git --version && gcc --version | head -1' 2>&1 | tee -a "$LOG"

echo "== git clone" | tee -a "$LOG"
git clone -q "$REPO" "$ROOT/root/pingone-sync-exporter"

demo_start=$(date +%s)
echo "== README command 1: cargo run --release -- --demo" | tee -a "$LOG"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 19871)
demo_status=0
in_root "cd /root/pingone-sync-exporter
cargo run --release -- --demo --web.listen-address=127.0.0.1:$port > /root/demo.log 2>&1 &
pid=\$!
ready() {
  exec 3<>/dev/tcp/127.0.0.1/$port || return 1
  printf 'GET /-/ready HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  local line; IFS= read -r line <&3; exec 3<&-
  [[ \$line == 'HTTP/1.'?' 200'* ]]
}
# The build comes first: up to 30 minutes on a busy machine (a deadline
# against hanging for ever, not a timing assertion).
for _ in \$(seq 1800); do
  if ready 2>/dev/null; then echo \"ready after \$SECONDS s (build included)\"; kill -TERM \$pid; wait \$pid || true; exit 0; fi
  kill -0 \$pid 2>/dev/null || { echo 'the demo exited'; tail -20 /root/demo.log; exit 1; }
  sleep 1
done
echo 'not ready after 30 minutes'; tail -20 /root/demo.log; kill -KILL \$pid; exit 1" 2>&1 | tee -a "$LOG" || demo_status=$?
demo_secs=$(( $(date +%s) - demo_start ))

tests_start=$(date +%s)
echo "== README command 2: scripts/test.sh" | tee -a "$LOG"
test_status=0
in_root 'cd /root/pingone-sync-exporter && scripts/test.sh' >>"$LOG" 2>&1 || test_status=$?
tests_secs=$(( $(date +%s) - tests_start ))

# cargo's "test result:" lines, summed.
read -r passed_n failed_n ignored_n < <(grep -E '^test result:' "$LOG" |
  sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/' |
  awk '{p+=$1; f+=$2; i+=$3} END {print p+0, f+0, i+0}')
total=$(( $(date +%s) - start ))
echo
echo "fresh Debian 12 check, $(date -u +%Y-%m-%dT%H:%MZ), commit $commit"
echo "  demo:          $([ $demo_status = 0 ] && echo ready || echo FAILED) ($demo_secs s, release build included)"
echo "  scripts/test.sh: $([ $test_status = 0 ] && echo passed || echo "FAILED (exit $test_status)") ($tests_secs s)"
echo "  cargo tests:   $passed_n passed, $failed_n failed, $ignored_n ignored"
echo "  total:         $total s"
[ $test_status = 0 ] || { echo "last lines of the log:"; tail -30 "$LOG"; }
[ $demo_status = 0 ] && [ $test_status = 0 ]
