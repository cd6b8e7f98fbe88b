#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Analytics queries on S subscriptions with M months of snapshots each.

Inserts (in SQL, for speed) S subscriptions over 5,000 customers, 4 plans,
10 salespersons and 3 countries, and M monthly snapshots per subscription
with movements of every kind, then times each query of the analytics
dashboard (``subscription.kpi.dashboard``) over the M months, unfiltered and
filtered by plan, and the pivot and cohort reads. Target: each under 1 s.

It WRITES AND COMMITS data: use a throwaway database (``run_analytics.sh``).

Usage::

    python3 benchmarks/bench_analytics.py --database DB --config CONF \\
        [-s 50000] [-m 24] [--json FILE]
"""
# pylint: disable=print-used

import argparse
import json
import sys
import time
from datetime import date

try:
    from dateutil.relativedelta import relativedelta

    from odoo import Command, api
    from odoo.modules.registry import Registry
    from odoo.tools import SQL, config
except ImportError as import_error:
    sys.exit(f"error: Odoo 19.0 is not importable by {sys.executable} ({import_error})")

TARGET_SECONDS = 1.0
FIRST = date(2024, 1, 1)


def setup(env, subscriptions, months):
    company = env.company
    product = env["product.product"].create({"name": "Analytics", "type": "service"})
    plans = env["subscription.plan"].create(
        [
            {
                "name": f"Analytics plan {i}",
                "line_ids": [Command.create({"product_id": product.id})],
            }
            for i in range(4)
        ]
    )
    countries = [env.ref(f"base.{code}").id for code in ("fr", "de", "us")]
    partners = env["res.partner"].create(
        [
            {
                "name": f"Analytics customer {i}",
                "is_company": True,
                "country_id": countries[i % 3],
            }
            for i in range(5000)
        ]
    )
    users = env["res.users"].create(
        [{"name": f"Seller {i}", "login": f"seller{i}"} for i in range(10)]
    )
    env.cr.execute(
        SQL(
            """
            INSERT INTO subscription_subscription
                   (name, partner_id, partner_invoice_id, commercial_partner_id,
                    plan_id, company_id, currency_id, state, date_start, user_id,
                    create_uid, write_uid, create_date, write_date)
            SELECT 'BENCH/' || n, p, p, p,
                   (%(plans)s::int[])[1 + n %% 4], %(company)s, %(currency)s,
                   'active', %(first)s, (%(users)s::int[])[1 + n %% 10],
                   1, 1, NOW(), NOW()
              FROM generate_series(0, %(count)s - 1) AS n,
                   LATERAL (SELECT (%(partners)s::int[])[1 + n %% 5000] AS p) AS x
            """,
            plans=plans.ids,
            company=company.id,
            currency=company.currency_id.id,
            first=FIRST,
            users=users.ids,
            count=subscriptions,
            partners=partners.ids,
        )
    )
    # Each subscription starts in a month of the range (new), grows or
    # shrinks now and then, churns for some and comes back for a few.
    env.cr.execute(
        SQL(
            """
            INSERT INTO subscription_mrr_snapshot
                   (month, subscription_id, company_id, subscription_currency_id,
                    partner_id, country_id, plan_id, user_id,
                    mrr_subscription_currency, starting_mrr, new_amount,
                    expansion_amount, contraction_amount, churn_amount,
                    reactivation_amount, fx_amount, net_amount, mrr, arr,
                    usage_amount, is_active, is_paused, was_active,
                    create_uid, write_uid, create_date, write_date)
            SELECT month, s.id, s.company_id, s.currency_id, s.partner_id,
                   p.country_id, s.plan_id, s.user_id, v.mrr, v.start,
                   CASE WHEN v.start = 0 AND v.mrr > 0 THEN v.mrr ELSE 0 END,
                   GREATEST(v.mrr - v.start, 0) * (v.start > 0 AND v.mrr > 0)::int,
                   LEAST(v.mrr - v.start, 0) * (v.start > 0 AND v.mrr > 0)::int,
                   CASE WHEN v.start > 0 AND v.mrr = 0 THEN -v.start ELSE 0 END,
                   0, 0, v.mrr - v.start, v.mrr, v.mrr * 12, 0,
                   v.mrr > 0, FALSE, v.start > 0, 1, 1, NOW(), NOW()
              FROM subscription_subscription s
              JOIN res_partner p ON p.id = s.partner_id
             CROSS JOIN generate_series(0, %(months)s - 1) AS k
             CROSS JOIN LATERAL (
                SELECT (%(first)s::date + k * INTERVAL '1 month')::date AS month,
                       s.id %% %(months)s AS joined, (s.id * 7) %% 97 AS churn_at
             ) AS m
             CROSS JOIN LATERAL (
                SELECT CASE WHEN k < m.joined OR k >= m.churn_at THEN 0
                            ELSE 20 + 10 * ((s.id + k / 6) %% 3) END AS mrr,
                       CASE WHEN k - 1 < m.joined OR k - 1 >= m.churn_at OR k = 0
                            THEN 0
                            ELSE 20 + 10 * ((s.id + (k - 1) / 6) %% 3) END AS start
             ) AS v
             WHERE s.name LIKE 'BENCH/%%'
            """,
            months=months,
            first=FIRST,
        )
    )
    env.cr.commit()
    env.cr.execute("ANALYZE subscription_mrr_snapshot")
    env.cr.execute("ANALYZE subscription_subscription")
    env.cr.commit()
    return plans


def timed(label, func, results):
    func()  # warm
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    results[label] = round(seconds, 3)
    mark = "ok" if seconds < TARGET_SECONDS else "SLOW"
    print(f"{label:<44} {seconds:7.3f} s  {mark}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("-s", "--subscriptions", type=int, default=50000)
    parser.add_argument("-m", "--months", type=int, default=24)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    config.parse_config(
        ["-c", args.config, "-d", args.database, "--log-level=warn"], setup_logging=True
    )
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
        start = time.perf_counter()
        plans = setup(env, args.subscriptions, args.months)
        rows = env["subscription.mrr.snapshot"].search_count([])
        print(
            f"setup: {args.subscriptions:,} subscriptions, {rows:,} snapshots "
            f"in {time.perf_counter() - start:.1f} s"
        )
        last = FIRST + relativedelta(months=args.months) - relativedelta(days=1)
        Dashboard = env["subscription.kpi.dashboard"]
        dashboard = Dashboard.new({"date_from": FIRST, "date_to": last})
        filtered = Dashboard.new(
            {"date_from": FIRST, "date_to": last, "plan_ids": plans[:1].ids}
        )
        Snapshot = env["subscription.mrr.snapshot"]
        results = {}
        for label, board in (("all", dashboard), ("one plan", filtered)):
            domain = board._snapshot_domain()
            timed(
                f"movements by month ({label})",
                lambda d=domain: Snapshot._read_group(
                    d,
                    ["month:month"],
                    [
                        "starting_mrr:sum",
                        "new_amount:sum",
                        "expansion_amount:sum",
                        "contraction_amount:sum",
                        "churn_amount:sum",
                        "reactivation_amount:sum",
                        "fx_amount:sum",
                        "mrr:sum",
                    ],
                ),
                results,
            )
            timed(
                f"customers and logo churn ({label})",
                lambda b=board, d=domain: b._customer_counts(d),
                results,
            )
            timed(
                f"NRR and GRR ({label})",
                lambda b=board, d=domain: b._retention(d),
                results,
            )
        start = time.perf_counter()
        Dashboard.create({"date_from": FIRST, "date_to": last})
        whole = time.perf_counter() - start
        print(f"{'(whole dashboard, all its queries)':<44} {whole:7.3f} s")
        start = time.perf_counter()
        Dashboard.get_dashboard_data(months=args.months)
        whole = time.perf_counter() - start
        print(f"{'(dashboard client action data)':<44} {whole:7.3f} s")
        # The totals that are not sums (a balance at the last month, a
        # ratio of sums, a cohort's last month): aggregates over arrays.
        timed(
            "MRR total over the months (balance)",
            lambda: Snapshot._read_group(
                [], [], ["starting_mrr:sum", "mrr:sum", "new_amount:sum"]
            ),
            results,
        )
        timed(
            "MRR by plan over the months (balance)",
            lambda: Snapshot._read_group([], ["plan_id"], ["mrr:sum"]),
            results,
        )
        timed(
            "stale months check",
            lambda: Snapshot._stale_month(env.company),
            results,
        )
        cohort_measures = ["cohort_size:sum", "retained:sum", "retention:sum"]
        timed(
            "cohorts (pivot read)",
            lambda: env["subscription.cohort"]._read_group(
                [], ["cohort:month", "age"], cohort_measures
            ),
            results,
        )
        timed(
            "cohorts (row totals, last month of each)",
            lambda: env["subscription.cohort"]._read_group(
                [], ["cohort:month"], cohort_measures
            ),
            results,
        )
        slow = [
            label for label, seconds in results.items() if seconds >= TARGET_SECONDS
        ]
        print("all queries under 1 s" if not slow else f"SLOW: {', '.join(slow)}")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(results, handle, indent=2)
        cr.rollback()


if __name__ == "__main__":
    main()
