#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Usage rating at invoice time: aggregate and rate a period's usage.

Builds S subscriptions on a usage-only monthly plan (graduated tiers on a
``sum`` metric, with an allowance that carries over) and E usage events spread
over them in March 2026, then measures, for the usage period of March:

* ``aggregate``: the SQL aggregation alone (``subscription.usage._aggregate``),
  in billing batches of B subscriptions;
* ``aggregate + rate``: what billing does before writing anything
  (``subscription.subscription._prepare_billing`` up to 2026-04-01), i.e. the
  SQL aggregation, the pure rating engine, allowances and invoice line values,
  batch by batch;
* with ``--bill``: the whole billing run (``_generate_due_invoices``), which
  also writes the invoices and marks every event with its charge.

It WRITES AND COMMITS data: use a throwaway database (``run_usage.sh``).

Usage::

    python3 benchmarks/bench_usage.py --database DB --config CONF \\
        [-s 10000] [-e 1000000] [--batch-size 200] [--bill]
"""
# pylint: disable=print-used

import argparse
import json
import sys
import time
from datetime import date

try:
    from odoo import Command, api
    from odoo.modules.registry import Registry
    from odoo.tools import SQL, config
except ImportError as import_error:
    sys.exit(f"error: Odoo 19.0 is not importable by {sys.executable} ({import_error})")

TARGET_SECONDS = 5.0
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}


def setup(env, subscriptions, events):
    """Plan, S started subscriptions and E events; committed."""
    income = env.company.income_account_id or env["account.account"].search(
        [("account_type", "=", "income")], limit=1
    )
    product = env["product.product"].create(
        {
            "name": "API calls",
            "type": "service",
            "property_account_income_id": income.id,
        }
    )
    metric = env["subscription.metric"].create(
        {"name": "API calls", "code": "bench_api_calls", "aggregation": "sum"}
    )
    plan = env["subscription.plan"].create(
        {
            "name": "Metered bench",
            "billing_interval": 1,
            "billing_unit": "month",
            "billing_timing": "advance",
            "invoice_policy": "draft",
            "line_ids": [
                Command.create(
                    {
                        "line_type": "usage",
                        "product_id": product.id,
                        "metric_id": metric.id,
                        "charge_model": "graduated",
                        "included_units": 10,
                        "carry_over": True,
                        "carry_over_cap": 100,
                        "tier_ids": [
                            Command.create(
                                {"from_units": 0, "to_units": 50, "unit_price": 0.10}
                            ),
                            Command.create(
                                {"from_units": 50, "to_units": 500, "unit_price": 0.05}
                            ),
                            Command.create(
                                {"from_units": 500, "to_units": 0, "unit_price": 0.01}
                            ),
                        ],
                    }
                )
            ],
        }
    )
    partner = env["res.partner"].create({"name": "Bench customer"})
    Sub = env["subscription.subscription"]
    for offset in range(0, subscriptions, 1000):
        chunk = min(1000, subscriptions - offset)
        subs = Sub.create(
            [
                {
                    "partner_id": partner.id,
                    "plan_id": plan.id,
                    "date_start": "2026-03-01",
                }
                for __ in range(chunk)
            ]
        )
        subs._as_engine().write({"state": "active"})
        subs._update_next_invoice_date()
        env.cr.commit()
    sub_ids = Sub.search([("plan_id", "=", plan.id)]).ids
    env.cr.execute(
        SQL(
            """
            INSERT INTO subscription_usage
                   (company_id, subscription_id, metric_id, timestamp, quantity,
                    idempotency_key, create_uid, write_uid, create_date, write_date)
            SELECT %(company)s, (%(ids)s::int[])[1 + n %% %(count)s], %(metric)s,
                   TIMESTAMP '2026-03-01' + (n %% 2678400) * INTERVAL '1 second',
                   1 + n %% 7, 'bench-' || n, 1, 1, NOW(), NOW()
              FROM generate_series(0, %(events)s - 1) AS n
            """,
            company=env.company.id,
            ids=sub_ids,
            count=len(sub_ids),
            metric=metric.id,
            events=events,
        )
    )
    env.cr.commit()
    env.cr.execute("ANALYZE subscription_usage")
    env.cr.commit()
    return Sub.browse(sub_ids), metric


def timed(label, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:8.3f} s")
    return seconds, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("-s", "--subscriptions", type=int, default=10000)
    parser.add_argument("-e", "--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--bill", action="store_true", help="also run the billing")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of aggregate + rate"
    )
    args = parser.parse_args(argv)
    config.parse_config(
        ["-c", args.config, "-d", args.database, "--log-level=warn"], setup_logging=True
    )
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, QUIET)
        start = time.perf_counter()
        subs, metric = setup(env, args.subscriptions, args.events)
        print(
            f"setup: {len(subs)} subscriptions, {args.events:,} events "
            f"in {time.perf_counter() - start:.1f} s"
        )
        ids = subs.ids
        batches = [
            ids[i : i + args.batch_size] for i in range(0, len(ids), args.batch_size)
        ]
        Sub = env["subscription.subscription"]
        Usage = env["subscription.usage"]

        def aggregate_only():
            total = 0
            for batch in batches:
                items = [
                    (sub, metric, date(2026, 3, 1), date(2026, 3, 31), False)
                    for sub in Sub.browse(batch)
                ]
                total += sum(r["count"] for r in Usage._aggregate(items))
                env.invalidate_all()
            return total

        stage = {"seconds": 0.0}
        rate_usage_periods = type(Sub)._rate_usage_periods

        def timed_stage(self, buckets, isolate):
            begin = time.perf_counter()
            try:
                return rate_usage_periods(self, buckets, isolate)
            finally:
                stage["seconds"] += time.perf_counter() - begin

        def aggregate_and_rate():
            charges = 0
            amount = 0
            stage["seconds"] = 0.0
            for batch in batches:
                groups, failed, __ = Sub.browse(batch)._prepare_billing(
                    date(2026, 4, 1), isolate=False
                )
                assert not failed
                for group in groups:
                    for charge in group.charges:
                        charges += 1
                        amount += charge.rounded
                env.invalidate_all()
            return charges, amount

        env.invalidate_all()
        aggregate_only()  # warm the caches of PostgreSQL and Python once
        agg_seconds, counted = timed("aggregate (SQL)", aggregate_only)
        if counted != args.events:
            sys.exit(f"error: aggregated {counted} events, expected {args.events}")
        from unittest.mock import patch

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()

            def profiled_stage(self, buckets, isolate):
                return profiler.runcall(rate_usage_periods, self, buckets, isolate)

            with patch.object(type(Sub), "_rate_usage_periods", profiled_stage):
                aggregate_and_rate()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        from unittest.mock import patch

        with patch.object(type(Sub), "_rate_usage_periods", timed_stage):
            prepare_seconds, (charges, amount) = timed(
                "prepare billing (all)", aggregate_and_rate
            )
        rate_seconds = stage["seconds"]
        print(f"{'  of which aggregate + rate':<28} {rate_seconds:8.3f} s")
        if charges != len(ids):
            sys.exit(f"error: rated {charges} charges, expected {len(ids)}")
        summary = {
            "subscriptions": len(ids),
            "events": args.events,
            "batch_size": args.batch_size,
            "aggregate_seconds": round(agg_seconds, 3),
            "aggregate_and_rate_seconds": round(rate_seconds, 3),
            "prepare_billing_seconds": round(prepare_seconds, 3),
            "events_per_second": round(args.events / rate_seconds),
            "charges_per_second": round(charges / rate_seconds),
            "total_amount": str(amount),
            "target_seconds": TARGET_SECONDS,
            "meets_target": rate_seconds < TARGET_SECONDS,
        }
        if args.bill:
            cr.commit()

            def bill():
                return Sub._generate_due_invoices(
                    date(2026, 4, 1), batch_size=args.batch_size, commit=True
                )

            # Commit every batch as the scheduled action does, outside a cron.
            with patch.object(
                type(env["ir.cron"]),
                "_commit_progress",
                lambda self, processed=0, remaining=None, deactivate=False: (
                    cr.commit() or 1
                ),
            ):
                if args.profile:
                    import cProfile
                    import pstats

                    profiler = cProfile.Profile()
                    bill_seconds, moves = timed(
                        "full billing run (profiled)", lambda: profiler.runcall(bill)
                    )
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(
                        "subscription_billing|account_move", 40
                    )
                else:
                    bill_seconds, moves = timed("full billing run", bill)
            cr.execute(
                "SELECT COUNT(*) FILTER (WHERE charge_id IS NULL), COUNT(*) "
                "FROM subscription_usage"
            )
            unrated, total = cr.fetchone()
            summary.update(
                billing_seconds=round(bill_seconds, 1),
                invoices=len(moves),
                unrated_events_after_billing=unrated,
            )
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
