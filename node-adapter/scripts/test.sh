#!/usr/bin/env bash
# The node adapter's one entry point: installs, builds, packs, and runs both
# test layers against real processes.
#   (a) node --test against a real loyalty-server      (node-adapter/test)
#   (b) a real Medusa 2.21 app on the local PostgreSQL (node-adapter/medusa-app/test)
#   (c) the official @medusajs/loyalty-plugin 2.21.1 on this package's modules, in
#       a second app on its own throw-away database, and the points program (earn on
#       orders, redeem at checkout, refunds and cancels) (node-adapter/plugin-app/test)
#   (d) that app's Medusa Admin, built and served, in headless Chromium (Debian's
#       chromium, installed here with apt-get when missing and run as root;
#       puppeteer-core never downloads a browser): the plugin's pages and this
#       package's customer points widget (node-adapter/plugin-app/test-browser)
#   and the Medusa-path benchmark in quick mode on that app's packages
#       (bench/run.sh --quick: every row, no errors; not its timings) (node-adapter/bench/test)
# Needs: Node 20+, npm, the repo's Python venv at ../.venv (or LOYALTY_SERVER_BIN),
# PostgreSQL on localhost:5432 (trust auth, user postgres; or MEDUSA_TEST_PG_URL).
# Exits non-zero when anything fails. Logs of the Medusa processes go to a
# temporary folder outside the repo, printed at the start.
set -euo pipefail

ADAPTER="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ADAPTER"
exec </dev/null

# shellcheck source=../test/helpers/env.sh
source "$ADAPTER/test/helpers/env.sh"
export MEDUSA_LOG_DIR="${MEDUSA_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/medusa-loyalty-grpc-test.XXXXXX")}"
START=$(date +%s)

step() { printf '\n=== node-adapter: %s (%ss)\n' "$1" "$(( $(date +%s) - START ))"; }

if [ ! -x "$LOYALTY_SERVER_BIN" ]; then
  echo "node-adapter: loyalty-server not found at $LOYALTY_SERVER_BIN (install the repo into ../.venv or set LOYALTY_SERVER_BIN)" >&2
  exit 1
fi
echo "node-adapter: node $(node --version), npm $(npm --version 2>/dev/null), server $LOYALTY_SERVER_BIN, logs $MEDUSA_LOG_DIR"

# shellcheck source=../test/helpers/build.sh
source "$ADAPTER/test/helpers/build.sh"
build_and_pack_adapter

STATUS=0
SUMMARY="$MEDUSA_LOG_DIR/summary.txt"
: >"$SUMMARY"

run_layer() { # name, dir, concurrency[, files]: runs dir/test/*.test.mjs (or the files given)
  local name="$1" dir="$2" concurrency="$3" files="${4:-test/*.test.mjs}"
  local out="$MEDUSA_LOG_DIR/$name.tap"
  set +e
  (cd "$dir" && node --test --test-reporter=tap --test-concurrency="$concurrency" $files) 2>&1 | tee "$out"
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
install_app medusa-app "$ADAPTER/node_modules"

step "layer (b): a real Medusa 2.21 app on PostgreSQL"
run_layer layer-b "$ADAPTER/medusa-app" 1

step "npm install (plugin app: @medusajs/loyalty-plugin 2.21.1 + adapter from its tarball)"
install_app plugin-app "$ADAPTER/medusa-app/node_modules"

step "layer (c): @medusajs/loyalty-plugin's routes and workflows on our modules; the points program"
run_layer layer-c "$ADAPTER/plugin-app" 1

step "the Medusa benchmark in quick mode (bench/run.sh --quick --no-build: every row with calls, no errors; not its timings)"
run_layer bench-quick "$ADAPTER/bench" 1

step "chromium for layer (d) (Debian package chromium at /usr/bin/chromium)"
CHROMIUM_OK=1
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium with apt-get (log: $MEDUSA_LOG_DIR/apt-chromium.log)"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } >"$MEDUSA_LOG_DIR/apt-chromium.log" 2>&1 \
      || { tail -30 "$MEDUSA_LOG_DIR/apt-chromium.log"; CHROMIUM_OK=0; }
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "node-adapter: layer (d) needs the Debian package chromium at /usr/bin/chromium; it is missing and could not be installed" \
      "(run as root on Debian, or: apt-get update && apt-get install -y chromium)" >&2
    CHROMIUM_OK=0
  fi
fi

if [ "$CHROMIUM_OK" -eq 1 ]; then
  step "layer (d): the Medusa Admin (built) in headless Chromium: the plugin's gift card and store-credit pages, the points widget"
  run_layer layer-d "$ADAPTER/plugin-app" 1 "test-browser/*.test.mjs"
else
  echo "layer-d 0 1 0 1" >>"$SUMMARY"
  STATUS=1
fi

step "done"
TOTAL_PASS=0 TOTAL_FAIL=0 TOTAL_SKIP=0
while read -r name pass fail skip rc; do
  echo "node-adapter $name: $pass passed, $fail failed, $skip skipped (exit $rc)"
  TOTAL_PASS=$((TOTAL_PASS + pass)) TOTAL_FAIL=$((TOTAL_FAIL + fail)) TOTAL_SKIP=$((TOTAL_SKIP + skip))
done <"$SUMMARY"
echo "node-adapter took $(( $(date +%s) - START ))s; Medusa logs in $MEDUSA_LOG_DIR"
echo "node-adapter: $TOTAL_PASS passed, $TOTAL_FAIL failed, $TOTAL_SKIP skipped"
exit "$STATUS"
