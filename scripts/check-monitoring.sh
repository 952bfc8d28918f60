#!/usr/bin/env bash
# Proves the bundled dashboards and alert/recording rules against a real
# Prometheus scraping the real exporter: the demo, and a failure setup built
# from the simulator. What it starts and checks: tests/tools/check_monitoring.py.
# Installs Prometheus (Debian) and PyYAML if missing, builds the binary, and
# stops every process it started on exit. Takes about two minutes.
#   scripts/check-monitoring.sh [--keep]   (--keep: keep logs and TSDB)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh >/dev/null
# Python runs in the test environment's interpreter (scripts/install-test-deps.sh).
: "${TEST_PYTHON:=$PWD/.tmp/venv/bin/python}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo build --locked --quiet --bin pingone-sync-exporter
exec "$TEST_PYTHON" tests/tools/check_monitoring.py --binary target/debug/pingone-sync-exporter "$@"
