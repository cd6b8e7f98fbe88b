#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Automatic payment and dunning throughput, with ``payment_demo``.

Builds N customers with a started monthly subscription and a saved payment
method that ``payment_demo`` always declines, bills and posts their May
invoices, then times the stages of the scheduled action, each committed in
batches as the cron does:

* ``queue charges``: the first payment attempt of each posted invoice
  (``_charge_pending_invoices``: claim, attempt, transaction);
* ``send charges``: each attempt claimed alone, committed as sent, charged
  through ``payment.transaction`` and followed up (``_send_queued``: opens
  the follow-ups);
* ``send notices``: one failure notice per customer (``_send_notices``);
* ``run day 7``: the due steps on day 7 of the default policy (retry,
  superseded retries: ``_run_due``), the retries sent, then the reminders
  that waited for their answer (one per customer: ``_run_due`` again), as
  the scheduled action does.

Prints items per second, queries per item and the process's peak memory.
It WRITES AND COMMITS data: use a throwaway database (``run_dunning.sh``).

Usage::

    python3 benchmarks/bench_dunning.py --database DB --config CONF [-n 1000]
"""
# pylint: disable=print-used

import argparse
import json
import resource
import sys
import time
from datetime import date

try:
    from freezegun import freeze_time

    from odoo import api
    from odoo.modules.registry import Registry
    from odoo.tools import config
except ImportError as import_error:
    sys.exit(f"error: Odoo 19.0 is not importable by {sys.executable} ({import_error})")

QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}


def setup(env, count):
    # The tests' data helpers (importable once the registry is loaded).
    from odoo.addons.subscription_billing.tests.common import create_plan

    provider = env["payment.provider"].search(
        [("code", "=", "demo"), ("company_id", "=", env.company.id)], limit=1
    )
    if not provider:
        sys.exit("error: payment_demo is not installed (run_dunning.sh installs it)")
    journal = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1
    )
    provider.write({"state": "test", "journal_id": journal.id})
    income = env.company.income_account_id or env["account.account"].search(
        [("account_type", "=", "income")], limit=1
    )
    product = env["product.product"].create(
        {"name": "Bench", "type": "service", "property_account_income_id": income.id}
    )
    plan = create_plan(env, "Bench monthly", product, 20.0)
    partners = env["res.partner"].create(
        [
            {"name": f"Bench customer {i}", "email": f"c{i}@example.com"}
            for i in range(count)
        ]
    )
    tokens = env["payment.token"].create(
        [
            {
                "provider_id": provider.id,
                "payment_method_id": provider.payment_method_ids[:1].id,
                "payment_details": "4242",
                "partner_id": partner.id,
                "provider_ref": "bench",
                "demo_simulated_state": "error",
            }
            for partner in partners
        ]
    )
    Sub = env["subscription.subscription"]
    subs = Sub.create(
        [
            {
                "partner_id": partner.id,
                "plan_id": plan.id,
                "date_start": "2026-05-01",
                "payment_token_id": token.id,
            }
            for partner, token in zip(partners, tokens, strict=True)
        ]
    )
    subs._as_engine().write({"state": "active"})
    subs._update_next_invoice_date()
    env.cr.commit()
    Sub._generate_due_invoices("2026-05-01", commit=True)
    env.cr.commit()
    return subs


def stage(env, label, count, func):
    env.invalidate_all()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    queries = env.cr.sql_log_count - queries
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{label:<16} {count:6} items {seconds:7.2f} s {count / seconds:8.1f} /s "
        f"{queries / count:6.1f} queries/item  peak RSS {rss} MB"
    )
    return {
        "items": count,
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1),
        "queries_per_item": round(queries / count, 1),
        "peak_rss_mb": rss,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("-n", "--count", type=int, default=1000)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of the day 7 run"
    )
    args = parser.parse_args(argv)
    config.parse_config(
        ["-c", args.config, "-d", args.database, "--log-level=warn"], setup_logging=True
    )
    registry = Registry(args.database)
    with registry.cursor() as cr, freeze_time("2026-05-01", tick=True):
        env = api.Environment(cr, api.SUPERUSER_ID, QUIET)
        start = time.perf_counter()
        subs = setup(env, args.count)
        seconds = time.perf_counter() - start
        print(f"setup: {len(subs)} subscriptions billed in {seconds:.1f} s")
        Dunning = env["subscription.dunning"]
        Event = env["subscription.dunning.event"]
        figures = {
            "queue charges": stage(
                env,
                "queue charges",
                args.count,
                lambda: Dunning._charge_pending_invoices(commit=True),
            ),
            "send charges": stage(
                env, "send charges", args.count, lambda: Event._send_queued(commit=True)
            ),
            "send notices": stage(
                env,
                "send notices",
                args.count,
                lambda: Event._send_notices(commit=True),
            ),
        }
        opened = Dunning.search_count([("state", "=", "open")])
        if opened != args.count:
            sys.exit(f"error: {opened} follow-ups opened, expected {args.count}")
    with registry.cursor() as cr, freeze_time("2026-05-08", tick=True):
        env = api.Environment(cr, api.SUPERUSER_ID, QUIET)
        Dunning = env["subscription.dunning"]
        Event = env["subscription.dunning.event"]

        def day_7():
            Dunning._run_due(date(2026, 5, 8), commit=True)
            Event._send_queued(commit=True)
            Dunning._run_due(date(2026, 5, 8), commit=True)
            Event._send_notices(commit=True)

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            figures["run day 7"] = stage(
                env, "run day 7", args.count, lambda: profiler.runcall(day_7)
            )
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        else:
            figures["run day 7"] = stage(env, "run day 7", args.count, day_7)
        messages = env["mail.message"].search_count(
            [
                ("model", "=", "subscription.dunning"),
                ("subtype_id", "=", env.ref("mail.mt_comment").id),
            ]
        )
        retries = Event.search_count(
            [("kind", "=", "retry"), ("result", "=", "failed")]
        )
        events = Event.search_count(
            [("kind", "=", "reminder"), ("result", "=", "sent")]
        )
        print(
            f"day 7: {retries} retries failed, {messages} reminder messages, "
            f"{events} reminder events"
        )
        if retries != args.count:
            sys.exit(f"error: {retries} retries, expected {args.count}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()
