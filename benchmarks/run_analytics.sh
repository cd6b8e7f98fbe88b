#!/usr/bin/env bash
# Analytics benchmark on a throwaway database:
#   benchmarks/run_analytics.sh [bench_analytics.py arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing,
# runs benchmarks/bench_analytics.py, and drops the database, whatever happens.
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"
sb_run_bench analytics "$SB_MODULE" bench_analytics.py "$@"
