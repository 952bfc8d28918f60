#!/usr/bin/env bash
# Checks the bundled Prometheus rules: syntax (promtool check rules), the
# unit tests in alerts/tests (promtool test rules: every alert fires and
# stays silent where it should), and the conventions the runbook and the
# built-in alert sender rely on (tests/tools/check_rules.py).
set -euo pipefail
cd "$(dirname "$0")/.."
# Python runs in the test environment's interpreter (scripts/install-test-deps.sh).
: "${TEST_PYTHON:=$PWD/.tmp/venv/bin/python}"
[ -x "$TEST_PYTHON" ] || scripts/install-test-deps.sh >/dev/null

promtool check rules alerts/*.yml
promtool test rules alerts/tests/*.test.yml
"$TEST_PYTHON" tests/tools/check_rules.py
