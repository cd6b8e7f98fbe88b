#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Throughput of the rating engine (``core/rating``), without Odoo.

Prices the same charge over and over for each charge model and prints the
charges rated per second (best of ``--repeat`` runs of ``-n`` calls each).
Every call validates the properties, as ``rating.rate`` always does.

Usage::

    python3 benchmarks/bench_rating.py [-n 20000] [--repeat 5] [--json FILE]
"""

import argparse
import json
import time
from decimal import Decimal as D

from core_loader import load_core


def tier(start, end, price, flat_fee="0", key="unit_price"):
    return {
        "from": D(start),
        "to": None if end is None else D(end),
        key: D(price),
        "flat_fee": D(flat_fee),
    }


TIERS = [tier(0, 1000, "0.10"), tier(1000, 10000, "0.05"), tier(10000, None, "0.01")]
VOLUME = [
    tier(0, 10000, "0.0010", "10"),
    tier(10000, 50000, "0.0008", "10"),
    tier(50000, 100000, "0.0006", "10"),
    tier(100000, None, "0.0004", "10"),
]
PAYMENTS = [D("12.50"), D("980.00"), D("45.10"), D("3.99"), D("1500.00")] * 2
CARD = {
    "rate": D("1.4"),
    "fixed_fee": D("0.25"),
    "per_transaction_min_amount": D("0.50"),
    "per_transaction_max_amount": D("5.00"),
}

CASES = [
    ("standard", D(1000), {"unit_price": D("0.05")}, {}),
    ("graduated (3 tiers)", D(15000), {"tiers": TIERS}, {}),
    ("volume (4 tiers)", D(65000), {"tiers": VOLUME}, {}),
    (
        "package",
        D(201),
        {"package_size": D(100), "package_price": D(5), "free_units": D(100)},
        {},
    ),
    (
        "percentage (count)",
        D("10000.00"),
        {"rate": D(1), "fixed_fee": D("0.30")},
        {"transactions": 3},
    ),
    (
        "percentage (10 transactions, min/max)",
        sum(PAYMENTS),
        CARD,
        {"transactions": PAYMENTS},
    ),
    (
        "graduated_percentage (3 tiers)",
        D("15000.00"),
        {"tiers": [tier(t["from"], t["to"], "1", key="rate") for t in TIERS]},
        {},
    ),
    (
        "graduated + allowance + min/max",
        D(15000),
        {"tiers": TIERS},
        {"included_units": D(1000), "min_amount": D(10), "max_amount": D(500)},
    ),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20000, help="calls per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs; best is kept")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    rating = load_core("rating")
    results = {}
    print(f"{'charge':<40} {'charges/s':>12} {'µs/charge':>10}")
    for label, units, properties, kwargs in CASES:
        model = label.split()[0]
        rating.rate(model, units, properties, **kwargs)  # warm up, and check
        best = None
        for __ in range(args.repeat):
            start = time.perf_counter()
            for __ in range(args.n):
                rating.rate(model, units, properties, **kwargs)
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        per_second = args.n / best
        results[label] = per_second
        print(f"{label:<40} {per_second:>12,.0f} {1e6 / per_second:>10.1f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
