#!/usr/bin/env bash
# The performance benchmark (issue 8; figures in docs/performance.md).
# Installs nginx and wrk from Debian's packages if missing, builds the
# release binary, then runs scripts/bench/bench.py, which starts the
# simulator, the exporter and nginx on loopback ports and stops them at exit.
#
#   scripts/bench.sh                      # S, M and L (about 10 minutes)
#   scripts/bench.sh --sizes S,M          # fewer sizes
#   scripts/bench.sh --json figures.json  # also keep every figure
#   scripts/bench.sh --freshness          # instead: time from a FAILED store to
#                                         # /metrics at the default budget
#                                         # (M 30 s, M 60 s, L 60 s; about 30 minutes)
#   scripts/bench.sh --freshness --cases M:60 --samples 4
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; exit 1; fi
}

# The freshness benchmark needs neither nginx nor wrk.
freshness=
if [ "${1:-}" = --freshness ]; then freshness=1; shift; fi

missing=()
[ -n "$freshness" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -n "$freshness" ] || command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # On a stock Debian host the package also starts its own nginx service on
  # port 80; the benchmark does not use it (it runs its own, on a free port).
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Two cores shared with everything else: one compile job at a time.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
cargo build --release --locked --quiet
if [ -n "$freshness" ]; then
  exec python3 scripts/bench/freshness.py --binary target/release/pingone-sync-exporter "$@"
fi
exec python3 scripts/bench/bench.py --binary target/release/pingone-sync-exporter "$@"
