#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need,
# then builds and runs every test (unit, golden, end-to-end against the
# simulator, config errors). This is the command README.md and .ci/run use.
set -euo pipefail
cd "$(dirname "$0")/.."

# UPDATE_GOLDEN=1 makes every golden comparison rewrite its file and pass
# (tests/common/golden.rs): a run with it set proves nothing.
if [ -n "${UPDATE_GOLDEN:-}" ]; then
  echo "refusing to run with UPDATE_GOLDEN set: it rewrites the golden files instead of checking them." >&2
  echo "Unset it (to regenerate golden files, run the one test with UPDATE_GOLDEN=1 cargo test --test NAME, then review the diff)." >&2
  exit 2
fi

# Two cores: keep cargo from oversubscribing them.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

scripts/install-test-deps.sh
# Every test and check runs Python from the environment that script made.
export TEST_PYTHON="$PWD/.tmp/venv/bin/python"

cargo build --locked --all-targets
cargo test --locked --all-targets -- --test-threads="${TEST_THREADS:-4}"
cargo test --locked --doc

# Bundled monitoring: dashboards type-checked against Grafana's schema, the
# alert/recording rules and their unit tests, then every dashboard query and
# rule expression against a real Prometheus scraping the exporter.
scripts/check-dashboards.sh
scripts/check-rules.sh
scripts/check-monitoring.sh

# Shipping: the Dockerfile (hadolint, its build stage run here), and the
# compose, Kubernetes and systemd examples.
scripts/check-dockerfile.sh
scripts/check-deploy.sh
echo "all tests passed"
