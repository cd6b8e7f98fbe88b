#!/usr/bin/env bash
# Usage rating benchmark on a throwaway database:
#   benchmarks/run_usage.sh [bench_usage.py arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing,
# runs benchmarks/bench_usage.py, and drops the database, whatever happens.
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"

sb_ensure_debian
sb_ensure_postgres
sb_ensure_odoo
sb_prepare_addons

db="sb_bench_usage_$(date +%s)_$$"
log="$SB_WORK/$db.install.log"
cleanup() {
    sb_drop_db "$db"
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sb_install_db "$db" "$SB_MODULE" "$log"

sb_log "benchmark: $*"
"$SB_PYTHON" "$SB_ROOT/benchmarks/bench_usage.py" --database "$db" --config "$SB_CONF" "$@"
