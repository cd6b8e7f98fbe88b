#!/usr/bin/env bash
# Usage rating benchmark on a throwaway database:
#   benchmarks/run_usage.sh [bench_usage.py arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing,
# runs benchmarks/bench_usage.py, and drops the database, whatever happens.
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"
sb_run_bench usage "$SB_MODULE" bench_usage.py "$@"
