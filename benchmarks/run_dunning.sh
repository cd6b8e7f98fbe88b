#!/usr/bin/env bash
# Automatic payment and dunning benchmark on a throwaway database:
#   benchmarks/run_dunning.sh [bench_dunning.py arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing
# and payment_demo, runs benchmarks/bench_dunning.py, and drops the database,
# whatever happens.
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"
sb_run_bench dunning "$SB_MODULE,payment_demo" bench_dunning.py "$@"
