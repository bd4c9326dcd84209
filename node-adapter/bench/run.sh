#!/usr/bin/env bash
# The Medusa-path benchmark (issue 18), one command from a fresh clone:
#   node-adapter/bench/run.sh            full run (about 3.5 minutes on 2 cores, build included, once npm has its packages)
#   node-adapter/bench/run.sh --quick    smoke run: small counts, short windows
# Builds and packs the adapter and installs the plugin test app as
# scripts/test.sh does (test/helpers/build.sh), links the bench app
# (bench/app) to that app's node_modules, then runs bench/run.mjs, which makes
# its own databases, starts the real loyalty-server on PostgreSQL and drives
# both Medusa apps with `medusa exec`. --no-build skips the build and install
# (the suite's quick test: scripts/test.sh has just done them). Every other
# option goes to run.mjs (see `node bench/run.mjs --help`).
# Needs what scripts/test.sh needs: Node 20+, npm, the repo's venv at ../.venv
# (or LOYALTY_SERVER_BIN), PostgreSQL on localhost:5432 (trust auth, user
# postgres; or MEDUSA_TEST_PG_URL).
set -euo pipefail

ADAPTER="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ADAPTER"
exec </dev/null

# shellcheck source=../test/helpers/env.sh
source "$ADAPTER/test/helpers/env.sh"
export MEDUSA_LOG_DIR="${MEDUSA_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/medusa-loyalty-bench.XXXXXX")}"
START=$(date +%s)

step() { printf '\n=== node-adapter bench: %s (%ss)\n' "$1" "$(( $(date +%s) - START ))"; }

BUILD=1
ARGS=()
for arg in "$@"; do
  if [ "$arg" = "--no-build" ]; then BUILD=0; else ARGS+=("$arg"); fi
done

if [ ! -x "$LOYALTY_SERVER_BIN" ]; then
  echo "node-adapter bench: loyalty-server not found at $LOYALTY_SERVER_BIN (install the repo into ../.venv or set LOYALTY_SERVER_BIN)" >&2
  exit 1
fi
echo "node-adapter bench: node $(node --version), server $LOYALTY_SERVER_BIN, logs $MEDUSA_LOG_DIR"

if [ "$BUILD" -eq 1 ]; then
  # shellcheck source=../test/helpers/build.sh
  source "$ADAPTER/test/helpers/build.sh"
  build_and_pack_adapter
  step "npm install (plugin app: @medusajs/loyalty-plugin 2.21.1 + adapter from its tarball)"
  install_app plugin-app "$ADAPTER/node_modules"
fi

# The bench app runs on the plugin app's dependencies (the same @medusajs/*
# 2.21.2 set, @medusajs/loyalty-plugin 2.21.1, the adapter from its tarball).
[ -d plugin-app/node_modules/@medusajs/loyalty-plugin ] \
  || { echo "node-adapter bench: plugin-app/node_modules is not installed (run without --no-build)" >&2; exit 1; }
ln -sfn ../../plugin-app/node_modules bench/app/node_modules

step "benchmark"
node bench/run.mjs ${ARGS[@]+"${ARGS[@]}"}
step "done"
