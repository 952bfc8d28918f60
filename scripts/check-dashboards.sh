#!/usr/bin/env bash
# Type-checks every dashboard in dashboards/ against Grafana's own dashboard
# schema: npm @grafana/schema ships it as TypeScript types (no JSON Schema,
# and no Grafana server can be installed here). Each dashboard becomes
# `({...}) satisfies Dashboard` and `tsc --strict --noEmit` must accept it.
# Also checks that dashboards/*.json match scripts/gen-dashboards.py.
#
# The npm packages go to .tmp/dashboard-check (git-ignored), pinned to the
# versions below; Node.js and npm are installed from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# Python runs in the test environment's interpreter (scripts/install-test-deps.sh).
: "${TEST_PYTHON:=$PWD/.tmp/venv/bin/python}"
[ -x "$TEST_PYTHON" ] || scripts/install-test-deps.sh >/dev/null

GRAFANA_SCHEMA_VERSION=13.2.3
TYPESCRIPT_VERSION=7.0.2
DIR="${DASHBOARD_CHECK_DIR:-.tmp/dashboard-check}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; exit 1; fi
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing Debian packages: nodejs npm"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

"$TEST_PYTHON" scripts/gen-dashboards.py --check

installed() { node -p "require('./$DIR/node_modules/$1/package.json').version" 2>/dev/null || true; }
if [ "$(installed @grafana/schema)" != "$GRAFANA_SCHEMA_VERSION" ] || [ "$(installed typescript)" != "$TYPESCRIPT_VERSION" ]; then
  echo "installing npm @grafana/schema@$GRAFANA_SCHEMA_VERSION typescript@$TYPESCRIPT_VERSION into $DIR"
  mkdir -p "$DIR"
  [ -f "$DIR/package.json" ] || echo '{"private": true}' > "$DIR/package.json"
  (cd "$DIR" && npm install --no-audit --no-fund --silent --save-exact \
    "@grafana/schema@$GRAFANA_SCHEMA_VERSION" "typescript@$TYPESCRIPT_VERSION")
fi

rm -rf "$DIR/gen"
node tests/tools/dashboards_to_ts.mjs "$DIR" "$DIR/gen" dashboards/*.json
cat > "$DIR/gen/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "strict": true,
    "noEmit": true,
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "target": "es2022",
    "skipLibCheck": true
  },
  "include": ["*.ts"]
}
JSON
"$DIR/node_modules/.bin/tsc" -p "$DIR/gen"
echo "dashboards type-check against @grafana/schema $GRAFANA_SCHEMA_VERSION: OK ($(ls dashboards/*.json | wc -l) files)"
