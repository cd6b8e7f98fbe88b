#!/usr/bin/env bash
# Automatic payment and dunning benchmark on a throwaway database:
#   benchmarks/run_dunning.sh [bench_dunning.py arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing and payment_demo,
# runs benchmarks/bench_dunning.py, and drops the database, whatever happens.
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"

sb_ensure_debian
sb_ensure_postgres
sb_ensure_odoo
sb_prepare_addons

db="sb_bench_dunning_$(date +%s)_$$"
log="$SB_WORK/$db.install.log"
cleanup() {
    sb_drop_db "$db"
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sb_install_db "$db" "$SB_MODULE,payment_demo" "$log"

sb_log "benchmark: $*"
"$SB_PYTHON" "$SB_ROOT/benchmarks/bench_dunning.py" --database "$db" --config "$SB_CONF" "$@"
