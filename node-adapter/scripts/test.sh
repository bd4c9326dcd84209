#!/usr/bin/env bash
# The node adapter's one entry point: installs, builds, packs, and runs both
# test layers against real processes.
#   (a) node --test against a real loyalty-server      (node-adapter/test)
#   (b) a real Medusa 2.21 app on the local PostgreSQL (node-adapter/medusa-app/test)
# Needs: Node 20+, npm, the repo's Python venv at ../.venv (or LOYALTY_SERVER_BIN),
# PostgreSQL on localhost:5432 (trust auth, user postgres; or MEDUSA_TEST_PG_URL).
# Exits non-zero when anything fails. Logs of the Medusa processes go to a
# temporary folder outside the repo, printed at the start.
set -euo pipefail

ADAPTER="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ADAPTER"
exec </dev/null

export MEDUSA_DISABLE_TELEMETRY=true
export NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_PROGRESS=false
export LOYALTY_SERVER_BIN="${LOYALTY_SERVER_BIN:-$ADAPTER/../.venv/bin/loyalty-server}"
export MEDUSA_LOG_DIR="${MEDUSA_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/medusa-loyalty-grpc-test.XXXXXX")}"
START=$(date +%s)

step() { printf '\n=== node-adapter: %s (%ss)\n' "$1" "$(( $(date +%s) - START ))"; }

if [ ! -x "$LOYALTY_SERVER_BIN" ]; then
  echo "node-adapter: loyalty-server not found at $LOYALTY_SERVER_BIN (install the repo into ../.venv or set LOYALTY_SERVER_BIN)" >&2
  exit 1
fi
echo "node-adapter: node $(node --version), npm $(npm --version 2>/dev/null), server $LOYALTY_SERVER_BIN, logs $MEDUSA_LOG_DIR"

step "npm install (package)"
npm install --no-audit --no-fund --loglevel=error >"$MEDUSA_LOG_DIR/npm-install-package.log" 2>&1 \
  || { tail -50 "$MEDUSA_LOG_DIR/npm-install-package.log"; exit 1; }

step "build (copy protos, medusa plugin:build)"
npm run --silent build >"$MEDUSA_LOG_DIR/build.log" 2>&1 || { tail -50 "$MEDUSA_LOG_DIR/build.log"; exit 1; }
test -f .medusa/server/src/modules/loyalty/index.js || { echo "build produced no .medusa/server/src/modules/loyalty" >&2; exit 1; }

step "npm pack"
rm -f medusa-loyalty-grpc-*.tgz medusa-loyalty-grpc.tgz
TARBALL="$(npm pack --silent 2>/dev/null | tail -1)"
mv "$TARBALL" medusa-loyalty-grpc.tgz
echo "packed $TARBALL -> node-adapter/medusa-loyalty-grpc.tgz"

STATUS=0
SUMMARY="$MEDUSA_LOG_DIR/summary.txt"
: >"$SUMMARY"

run_layer() { # name, dir, concurrency: runs dir/test/*.test.mjs
  local name="$1" dir="$2" concurrency="$3"
  local out="$MEDUSA_LOG_DIR/$name.tap"
  set +e
  (cd "$dir" && node --test --test-reporter=tap --test-concurrency="$concurrency" test/*.test.mjs) 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || STATUS=1
  local pass fail skip
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out" | tail -1)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out" | tail -1)
  skip=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$out" | tail -1)
  echo "$name ${pass:-0} ${fail:-0} ${skip:-0} $rc" >>"$SUMMARY"
  if [ -z "$pass" ]; then STATUS=1; fi
}

step "layer (a): node --test against a real loyalty-server"
run_layer layer-a "$ADAPTER" 2

step "npm install (Medusa test app, adapter from its tarball)"
rm -rf medusa-app/node_modules/medusa-loyalty-grpc
if [ ! -d medusa-app/node_modules ]; then
  # Both trees pin the same @medusajs/* 2.21.2 set: seed the app's node_modules
  # with hard links of the package's, so npm only adds and removes the difference.
  cp -al node_modules medusa-app/node_modules 2>/dev/null || rm -rf medusa-app/node_modules
  rm -f medusa-app/node_modules/.package-lock.json
fi
(cd medusa-app && npm install --no-audit --no-fund --loglevel=error) >"$MEDUSA_LOG_DIR/npm-install-app.log" 2>&1 \
  || { tail -50 "$MEDUSA_LOG_DIR/npm-install-app.log"; exit 1; }
cmp -s <(tar -xzOf medusa-loyalty-grpc.tgz package/package.json) medusa-app/node_modules/medusa-loyalty-grpc/package.json \
  || { echo "medusa-app did not install the packed tarball" >&2; exit 1; }

step "layer (b): a real Medusa 2.21 app on PostgreSQL"
run_layer layer-b "$ADAPTER/medusa-app" 1

step "done"
TOTAL_PASS=0 TOTAL_FAIL=0 TOTAL_SKIP=0
while read -r name pass fail skip rc; do
  echo "node-adapter $name: $pass passed, $fail failed, $skip skipped (exit $rc)"
  TOTAL_PASS=$((TOTAL_PASS + pass)) TOTAL_FAIL=$((TOTAL_FAIL + fail)) TOTAL_SKIP=$((TOTAL_SKIP + skip))
done <"$SUMMARY"
echo "node-adapter took $(( $(date +%s) - START ))s; Medusa logs in $MEDUSA_LOG_DIR"
echo "node-adapter: $TOTAL_PASS passed, $TOTAL_FAIL failed, $TOTAL_SKIP skipped"
exit "$STATUS"
