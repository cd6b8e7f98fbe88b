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

tpl=$(sb_template)
db="sb_bench_usage_$(date +%s)_$$"
log="$SB_WORK/$db.install.log"
cleanup() {
    dropdb --if-exists "$db" 2>/dev/null || true
    rm -rf "$SB_WORK/data/filestore/$db" "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sb_copy_db "$tpl" "$db"

sb_log "installing $SB_MODULE on $db"
sb_odoo -d "$db" -i "$SB_MODULE" --stop-after-init --log-level=warn >"$log" 2>&1 ||
    { tail -60 "$log" >&2; sb_die "installing $SB_MODULE failed"; }

sb_log "benchmark: $*"
"$SB_PYTHON" "$SB_ROOT/benchmarks/bench_usage.py" --database "$db" --config "$SB_CONF" "$@"
