#!/usr/bin/env bash
# Soak test (not part of scripts/test.sh: it runs for minutes). Runs the
# exporter against the simulator while injecting random PingOne faults and
# operator faults (reloads, bad configs, SIGHUP) for SOAK_DURATION seconds,
# then clears the faults, waits for two polls and compares what the exporter
# serves with the simulator's ground truth. Prints a report; exits non-zero
# on a crash, a wrong value, a failed scrape or a budget overrun.
#
#   scripts/soak.sh                          # 10 minutes, release build
#   SOAK_DURATION=60 scripts/soak.sh         # a one-minute smoke run
#   SOAK_PROFILE=debug SOAK_SEED=7 scripts/soak.sh
#
# The last full report is in docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${SOAK_DURATION:-600}"
profile="${SOAK_PROFILE:-release}"
seed="${SOAK_SEED:-$RANDOM}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

if [ "$profile" = release ]; then
  cargo build --locked --release --bin pingone-sync-exporter
  bin=target/release/pingone-sync-exporter
else
  cargo build --locked --bin pingone-sync-exporter
  bin=target/debug/pingone-sync-exporter
fi

exec python3 scripts/soak.py --bin "$bin" --duration "$duration" --seed "$seed" "$@"
