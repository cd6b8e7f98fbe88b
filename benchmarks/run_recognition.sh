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
sb_run_bench recognition "$SB_MODULE" bench_recognition.py -n "$n" "$@"
