# The environment npm and Medusa run in, for scripts/test.sh and bench/run.sh
# (sourced after they set ADAPTER): no telemetry, quiet npm, the repo's server.
export MEDUSA_DISABLE_TELEMETRY=true
export NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_PROGRESS=false
export LOYALTY_SERVER_BIN="${LOYALTY_SERVER_BIN:-$ADAPTER/../.venv/bin/loyalty-server}"
