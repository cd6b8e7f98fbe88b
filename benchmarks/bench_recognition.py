#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Throughput of the scheduled revenue recognition.

Runs in one process on a database where ``subscription_billing`` is installed.
It WRITES AND COMMITS benchmark data: use a throwaway database
(``benchmarks/run_recognition.sh`` makes one).

Setup (not measured): N deferred subscription invoice lines, posted in
invoices of ``--lines-per-invoice`` lines, each line billing the last month
and this one (two recognition rows: last month's is due). Measured, from a
committed transaction with an empty cache to its last commit: the scheduled
action's ``_recognize_due`` on today, which posts the N due rows in committed
batches (wall time and SQL queries through ``cr.sql_log_count``). A second
run on the same day is measured too: it must find nothing to do.

Usage::

    python3 benchmarks/bench_recognition.py --database DB --config CONF \\
        [-n 50000] [--batch-size 5000] [--lines-per-invoice 100]
"""
# pylint: disable=print-used

import argparse
import logging
import sys
import time
from datetime import timedelta

try:
    from bench_odoo import BenchError, ensure_chart, make_env, open_registry

    from odoo import Command, fields
except ImportError as import_error:
    sys.exit(
        f"error: Odoo 19.0 is not importable by {sys.executable} ({import_error}): "
        "put it on sys.path"
    )

MODULE = "subscription_billing"
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}

_logger = logging.getLogger("bench_recognition")


def setup(env, count, per_invoice):
    """``count`` deferred lines over last month and this one; returns the
    number of rows due today."""
    from odoo.addons.subscription_billing.tests.common import create_plan

    ensure_chart(env)
    env = env(context=dict(env.context, **QUIET))
    today = fields.Date.context_today(env.user)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    end = (this_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    product = env["product.product"].create(
        {"name": "Bench Deferred", "type": "service", "list_price": 30.0}
    )
    plan = create_plan(env, "Bench Deferred", product, 30.0, revenue_recognition="days")
    partner = env["res.partner"].create({"name": "Bench Deferred Customer"})
    sub = env["subscription.subscription"].create(
        {"partner_id": partner.id, "plan_id": plan.id, "date_start": last_month}
    )
    env.cr.commit()
    done = 0
    started = time.perf_counter()
    while done < count:
        size = min(per_invoice, count - done)
        move = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": last_month,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 1,
                            "price_unit": 30.0 + (index % 7),
                            "tax_ids": [],
                            "subscription_id": sub.id,
                            "subscription_period_start": last_month,
                            "subscription_period_end": end,
                        }
                    )
                    for index in range(size)
                ],
            }
        )
        move.action_post()
        done += size
        env.cr.commit()
        env.invalidate_all()
        if done % (per_invoice * 50) == 0 or done == count:
            _logger.info(
                "setup: %s/%s lines posted (%.0f s)",
                done,
                count,
                time.perf_counter() - started,
            )
    due = env["subscription.revenue.recognition"].search_count(
        [("state", "=", "planned"), ("date", "<=", today)]
    )
    if due != count:
        raise BenchError(f"{due} rows due, {count} expected")
    return today


def measured(env, today, batch_size):
    env.cr.commit()
    env.invalidate_all()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    moves = env["subscription.revenue.recognition"]._recognize_due(
        today, batch_size=batch_size, commit=True
    )
    count = len(moves)
    env.cr.commit()
    return time.perf_counter() - start, env.cr.sql_log_count - queries, count


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("-n", type=int, default=50000, help="deferred lines")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--lines-per-invoice", type=int, default=100)
    parser.add_argument("--log-level", default="warn")
    args = parser.parse_args(argv)
    if args.n < 1 or args.batch_size < 1 or args.lines_per_invoice < 1:
        parser.error("-n, --batch-size and --lines-per-invoice must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
    _logger.addHandler(handler)
    _logger.setLevel(logging.INFO)
    _logger.propagate = False
    registry = open_registry(args.database, args.config, args.log_level)
    with registry.cursor() as cr:
        env = make_env(cr)
        if not env["ir.module.module"].search_count(
            [("name", "=", MODULE), ("state", "=", "installed")]
        ):
            raise BenchError(f"{MODULE} is not installed on {args.database}")
        today = setup(env, args.n, args.lines_per_invoice)
        seconds, queries, entries = measured(env, today, args.batch_size)
        again, again_queries, again_entries = measured(env, today, args.batch_size)
        left = env["subscription.revenue.recognition"].search_count(
            [("state", "=", "planned"), ("date", "<=", today)]
        )
        print(f"Revenue recognition, N={args.n} lines, batch {args.batch_size}")
        print(
            f"  recognised: {seconds:.2f} s, {args.n / seconds:.0f} lines/s, "
            f"{1000 * seconds / args.n:.3f} ms/line, {queries} queries "
            f"({queries / args.n:.4f} per line), {entries} entries"
        )
        print(
            f"  second run: {again:.2f} s, {again_queries} queries, "
            f"{again_entries} entries; rows left due: {left}"
        )
    return 0 if not left and not again_entries else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
