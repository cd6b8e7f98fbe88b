#!/usr/bin/env bash
# Revenue recognition benchmark on a throwaway database:
#   benchmarks/run_recognition.sh [N] [more bench_recognition.py arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing, runs
# benchmarks/bench_recognition.py, and drops the database, whatever happens.
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"

n=50000
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    n=$1
    shift
fi

sb_ensure_debian
sb_ensure_postgres
sb_ensure_odoo
sb_prepare_addons

modules=$SB_MODULE

db="sb_bench_$(date +%s)_$$"
log="$SB_WORK/$db.install.log"
cleanup() {
    sb_drop_db "$db"
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sb_install_db "$db" "$modules" "$log"

sb_log "benchmark: N=$n $*"
"$SB_PYTHON" "$SB_ROOT/benchmarks/bench_recognition.py" \
    --database "$db" --config "$SB_CONF" -n "$n" "$@"
