#!/usr/bin/env bash
# Billing benchmark on a throwaway database:
#   benchmarks/run_billing.sh [N] [more bench_billing.py arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing
# (and OCA's contract when `odoo.addons.contract` is importable), runs
# benchmarks/bench_billing.py, and drops the database, whatever happens.
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"

n=1000
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    n=$1
    shift
fi

sb_ensure_debian
sb_ensure_postgres
sb_ensure_odoo
sb_prepare_addons

modules=$SB_MODULE
if "$SB_PYTHON" -c 'import importlib.util as u, sys; sys.exit(not u.find_spec("odoo.addons.contract"))' 2>/dev/null; then
    modules="$modules,contract"
else
    sb_log "OCA contract is not importable (pip install --no-deps odoo-addon-contract==19.0.1.2.1.2): the comparison will be skipped"
fi

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
"$SB_PYTHON" "$SB_ROOT/benchmarks/bench_billing.py" \
    --database "$db" --config "$SB_CONF" -n "$n" "$@"
