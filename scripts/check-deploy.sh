#!/usr/bin/env bash
# Checks the deployment examples: docker-compose.yml (every mounted file
# exists; promtool and amtool accept its configs), deploy/kubernetes (the
# PrometheusRule is up to date with alerts/, the manifests hang together,
# the ConfigMap's config checks) and deploy/systemd (systemd-analyze
# verify, hardening, the credential path). No Docker engine, cluster or
# systemd manager is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
# Python runs in the test environment's interpreter (scripts/install-test-deps.sh).
: "${TEST_PYTHON:=$PWD/.tmp/venv/bin/python}"
[ -x "$TEST_PYTHON" ] || scripts/install-test-deps.sh >/dev/null

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo build --locked --quiet --bin pingone-sync-exporter
"$TEST_PYTHON" scripts/gen-prometheusrule.py --check
"$TEST_PYTHON" tests/tools/check_compose.py
"$TEST_PYTHON" tests/tools/check_deploy.py --binary target/debug/pingone-sync-exporter
