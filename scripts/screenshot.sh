#!/usr/bin/env bash
# Takes the README's screenshot of the status page (docs/img/status-page.png)
# from the demo: builds the binary, starts `--demo` on a free loopback port,
# waits for the first user-detail walk (so the users per state show),
# and has headless Chromium (scripts/install-test-deps.sh installs it) draw
# the page. Run it again after changing the page.
#
#   scripts/screenshot.sh                 # docs/img/status-page.png
#   scripts/screenshot.sh OUT.png 390 844 # a phone-sized shot elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/img/status-page.png}"
width="${2:-1400}"
height="${3:-1000}"

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo build --quiet
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
profile="$(mktemp -d)"
log="$profile/demo.log"
target/debug/pingone-sync-exporter --demo --web.listen-address "127.0.0.1:$port" \
  --web.grafana-url https://grafana.example.com >"$log" 2>&1 &
demo=$!
trap 'kill "$demo" 2>/dev/null || true; wait "$demo" 2>/dev/null || true; rm -rf "$profile"' EXIT

# Ready, then every environment's first walk merged.
walked() {
  page="$(curl -fsS "http://127.0.0.1:$port/" 2>/dev/null)" || return 1
  grep -q 'last walk' <<<"$page" && ! grep -q -e 'first walk not finished' -e 'waiting for the first poll' <<<"$page"
}
for _ in $(seq 1 120); do walked && break; sleep 1; done
walked || { cat "$log" >&2; echo "the demo never finished its walks" >&2; exit 1; }

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile/chromium" --hide-scrollbars --force-device-scale-factor=1 \
  --window-size="$width,$height" --screenshot="$out" "http://127.0.0.1:$port/" 2>/dev/null
echo "wrote $out (${width}x${height})"
