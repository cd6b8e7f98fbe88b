#!/usr/bin/env bash
# The billing day, end to end, on a throwaway database:
#   benchmarks/run_billing_day.sh [N] [more bench_billing_day.py arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing
# and payment_demo, runs benchmarks/bench_billing_day.py, and drops the
# database, whatever happens.
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"
n=1000
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    n=$1
    shift
fi
sb_run_bench billing_day "$SB_MODULE,payment_demo" bench_billing_day.py -n "$n" "$@"
