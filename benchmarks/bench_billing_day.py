#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The first of the month, end to end: N due subscriptions billed, posted,
sent and charged, and the day's follow-ups, as the scheduled actions run them.

Setup (not measured, committed): a monthly plan with one line (10.00), a
monthly plan with two lines (10.00 + 5.00), a yearly plan (100.00), a metered
plan billed in arrears (5.00 a month and API calls by graduated tiers, with
usage events over the previous month) and customers who want one invoice for
all their subscriptions (two monthly subscriptions each). About 80 % of the
customers have a saved ``payment_demo`` card, of which about 8 % decline.
Every plan posts and sends (``invoice_policy = "send"``). All of them are due
today: the monthly, two-line, yearly and consolidated ones start today (billed
in advance), the metered ones started on the first of the previous month
(billed in arrears).

Stages, in the order of the day (each from a committed, analysed database):

* ``billing``: ``subscription.subscription._cron_generate_invoices()``, the
  billing cron: claims due subscriptions, creates, posts and queues for
  sending their invoices, flags those with a saved card to be charged;
* ``sending``: ``account.move._cron_send_subscription_invoices()``, our
  sending cron: claims queued invoices, emails them (``--send-mode link``, the
  default: the portal link, no PDF; ``pdf``: the PDF attached, rendered by
  wkhtmltopdf, a batch a call when its Qt is patched), mail queued: delivery
  by the mail queue is outside the day;
* ``charging``: ``subscription.dunning._cron_process()``, the dunning cron:
  the first automatic payment of each invoice through ``payment_demo``, the
  follow-ups of the declined ones and the customers' failure notices.

With ``--workers 1,2,3`` the whole day runs once per count on new data (a new
sales journal each time), every stage with that many processes at once, each
looping on the cron's method as a cron worker would. Odoo never runs one
scheduled action on two workers at once; several processes stand for several
copies of the action or several servers triggered together, which is what the
claims (``FOR UPDATE SKIP LOCKED``) make safe, the sending too (Odoo's own
sending cron, which is not safe so, leaves the subscription invoices to it).

Checked after each day: one invoice per due period (no subscription billed
twice), every invoice posted, sent and emailed once, one payment attempt per
invoice with a card, a follow-up for each declined one, a failure notice per customer
concerned. Reported per stage: units, seconds, units per second, SQL queries
per unit, the peak resident memory of each process (its own high-water
mark) and the resident memory of the worker that grew most by tenths of the
stage; the whole day's wall time, and the speed-up over one worker.

It WRITES AND COMMITS data: use a throwaway database
(``run_billing_day.sh``).

Usage::

    python3 benchmarks/bench_billing_day.py --database DB --config CONF \
        [-n 1000] [--workers 1,2,3] [--batch-size 200] [--send-mode link|pdf]
        [--json FILE]
"""
# pylint: disable=print-used

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from datetime import timedelta

try:
    from bench_odoo import BenchError, make_env, open_registry

    from odoo import Command, fields, sql_db
    from odoo.tools import SQL
except ImportError as import_error:
    sys.exit(f"error: Odoo 19.0 is not importable by {sys.executable} ({import_error})")

QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
SETUP_CHUNK = 500
STAGES = ("billing", "sending", "charging")
# Odoo's own batch post and batch send (the ceiling, ``--ceiling``).
CEILING_STAGES = ("odoo_post", "odoo_send")
# Shares of the subscriptions (the rest is monthly with one line).
SHARE_TWO_LINES = 0.20
SHARE_YEARLY = 0.08
SHARE_METERED = 0.07
SHARE_CONSOLIDATED = 0.05  # subscriptions of customers with one invoice for all
SHARE_CARD = 0.80
SHARE_DECLINE = 0.08  # of the cards
EVENTS_PER_METERED = 20
# Frames kept per allocation by ``--trace-memory``.
TRACE_FRAMES = 8


def start_http_server(args):
    """An Odoo HTTP server on the database, for wkhtmltopdf to fetch the
    report's assets from (``report.url``), as a live server does."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoo",
            "server",
            "-c",
            args.config,
            "-d",
            args.database,
            f"--http-port={args.http_port}",
            "--max-cron-threads=0",
            "--log-level=warn",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the HTTP server stopped (exit {server.returncode})")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", args.http_port)) == 0:
                return server
        time.sleep(0.5)
    server.kill()
    raise BenchError(f"no HTTP server on port {args.http_port} after 120 s")


class AutoAnalyze(threading.Thread):
    """Autovacuum's ANALYZE, for a PostgreSQL where autovacuum is off (as on
    some CI machines): every ``naptime`` seconds, the tables changed by more
    than 50 rows + 10 % since their last analysis (autovacuum's defaults) are
    analysed. Without it the planner keeps the statistics of the day's
    start (an empty journal) and Odoo's sequence lookups at posting scan the
    whole journal: 26 + 43 ms an invoice at 15,800 invoices, 0.2 + 1 ms with
    fresh statistics."""

    def __init__(self, database, naptime=60):
        super().__init__(daemon=True)
        self.database = database
        self.naptime = naptime
        self.stopped = threading.Event()
        self.analysed = 0

    def run(self):
        while not self.stopped.wait(self.naptime):
            with sql_db.db_connect(self.database).cursor() as cr:
                cr.execute(
                    """
                    SELECT s.relname FROM pg_stat_user_tables s
                      JOIN pg_class c ON c.oid = s.relid
                     WHERE s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)
                    """
                )
                for (table,) in cr.fetchall():
                    cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
                    self.analysed += 1
                cr.commit()

    def stop(self):
        self.stopped.set()


def start_auto_analyze(args):
    """An :class:`AutoAnalyze` when the server's autovacuum is off."""
    with sql_db.db_connect(args.database).cursor() as cr:
        cr.execute("SHOW autovacuum")
        (autovacuum,) = cr.fetchone()
    if autovacuum == "on" or not args.auto_analyze:
        return None
    print(
        "autovacuum is off on this PostgreSQL: the benchmark analyses the "
        "changed tables as autovacuum would (every 60 s, 50 rows + 10 %)"
    )
    analyzer = AutoAnalyze(args.database)
    analyzer.start()
    return analyzer


def peak_rss_mb():
    """The process's peak resident memory (``VmHWM``), in MB (Linux).

    Not ``ru_maxrss``: Linux keeps the parent's high-water mark in it across
    ``exec``, so a worker started by this script, whose own process holds
    the day's setup, reported the setup's memory (558 MB at 50,000 for
    workers that stayed at 167 MB)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb():
    """The process's resident memory now, in MB (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class RssSampler(threading.Thread):
    """The process's resident memory every ``interval`` seconds, for the
    shape of a stage's memory: flat, or growing with the work done."""

    def __init__(self, interval=1.0):
        super().__init__(daemon=True)
        self.interval = interval
        self.stopped = threading.Event()
        self.samples = []

    def run(self):
        while not self.stopped.wait(self.interval):
            self.samples.append(rss_mb())

    def stop(self):
        self.stopped.set()
        self.join()
        self.samples.append(rss_mb())

    def profile(self, points=10):
        """The highest sample of each of ``points`` equal parts of the run."""
        samples = self.samples
        size = max(1, -(-len(samples) // points))
        return [max(samples[i : i + size]) for i in range(0, len(samples), size)]


def chunks(items, size):
    for index in range(0, len(items), size):
        yield items[index : index + size]


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------


class Fixture:
    """Products, plans, metric and payment provider shared by every day."""

    def __init__(self, env):
        from odoo.addons.subscription_billing.tests.common import create_plan

        self.today = fields.Date.context_today(env.user)
        self.first_of_previous = (
            self.today.replace(day=1) - timedelta(days=1)
        ).replace(day=1)
        env = env(context=dict(env.context, **QUIET))
        company = env.company
        income = company.income_account_id or env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        if not income:
            raise BenchError("the company has no chart of accounts")
        self.provider = env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
        )
        if not self.provider:
            raise BenchError("payment_demo is not installed (run_billing_day.sh does)")
        bank = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
        self.provider.write({"state": "test", "journal_id": bank.id})

        def product(name, price):
            return env["product.product"].create(
                {
                    "name": name,
                    "type": "service",
                    "list_price": price,
                    "property_account_income_id": income.id,
                }
            )

        seat, support, api_calls = (
            product("Day Seat", 10.0),
            product("Day Support", 5.0),
            product("Day API Calls", 0.0),
        )
        self.monthly = create_plan(
            env, "Day Monthly", seat, 10.0, invoice_policy="send"
        )
        self.two_lines = create_plan(
            env, "Day Monthly Two Lines", seat, 10.0, invoice_policy="send"
        )
        self.two_lines.line_ids = [
            Command.create({"product_id": support.id, "quantity": 1, "price_unit": 5.0})
        ]
        self.yearly = create_plan(
            env, "Day Yearly", seat, 100.0, invoice_policy="send", billing_unit="year"
        )
        self.metric = env["subscription.metric"].create(
            {"name": "Day API calls", "code": "day_api_calls", "aggregation": "sum"}
        )
        self.metered = create_plan(
            env,
            "Day Metered",
            support,
            5.0,
            invoice_policy="send",
            billing_timing="arrears",
        )
        self.metered.line_ids = [
            Command.create(
                {
                    "line_type": "usage",
                    "product_id": api_calls.id,
                    "metric_id": self.metric.id,
                    "charge_model": "graduated",
                    "included_units": 10,
                    "tier_ids": [
                        Command.create(
                            {"from_units": 0, "to_units": 50, "unit_price": 0.10}
                        ),
                        Command.create(
                            {"from_units": 50, "to_units": 0, "unit_price": 0.05}
                        ),
                    ],
                }
            )
        ]
        self.plan_ids = (self.monthly | self.two_lines | self.yearly | self.metered).ids
        self.metered_id = self.metered.id
        self.metric_id = self.metric.id
        self.provider_id = self.provider.id
        self.shape_ids = {
            "monthly": self.monthly.id,
            "two_lines": self.two_lines.id,
            "yearly": self.yearly.id,
        }
        self.days = 0
        env.cr.commit()

    def new_day(self, env, count):
        """N new due subscriptions in a new sales journal (committed);
        returns what the checks need."""
        self.days += 1
        env = env(context=dict(env.context, **QUIET))
        journal = env["account.journal"].create(
            {
                "name": f"Billing day {self.days}",
                "code": f"BD{self.days:03d}",
                "type": "sale",
            }
        )
        Plan = env["subscription.plan"]
        Plan.browse(self.plan_ids).journal_id = journal
        monthly_plan = Plan.browse(self.shape_ids["monthly"])
        two_lines_plan = Plan.browse(self.shape_ids["two_lines"])
        yearly_plan = Plan.browse(self.shape_ids["yearly"])
        metered_plan = Plan.browse(self.metered_id)
        provider = env["payment.provider"].browse(self.provider_id)
        consolidated = int(count * SHARE_CONSOLIDATED) // 2 * 2
        metered = int(count * SHARE_METERED)
        yearly = int(count * SHARE_YEARLY)
        two_lines = int(count * SHARE_TWO_LINES)
        monthly = count - consolidated - metered - yearly - two_lines
        shapes = (
            [(monthly_plan, self.today)] * monthly
            + [(two_lines_plan, self.today)] * two_lines
            + [(yearly_plan, self.today)] * yearly
            + [(metered_plan, self.first_of_previous)] * metered
        )
        customers = len(shapes) + consolidated // 2
        Partner = env["res.partner"]
        partners = Partner.browse()
        for start in range(0, customers, SETUP_CHUNK):
            partners |= Partner.create(
                [
                    {
                        "name": f"Day {self.days} customer {index:06d}",
                        "email": f"day{self.days}.c{index}@example.com",
                        "subscription_consolidate_invoices": index >= len(shapes),
                    }
                    for index in range(start, min(start + SETUP_CHUNK, customers))
                ]
            )
        env.cr.commit()
        owners = list(partners[: len(shapes)]) + [
            partner for partner in partners[len(shapes) :] for __ in range(2)
        ]
        shapes += [(monthly_plan, self.today)] * consolidated
        # Cards: every fifth customer has none; of the others, about 8 % decline.
        tokens = {}
        token_vals = []
        card_partners = [p for i, p in enumerate(partners) if i % 5 != 4]
        decline_every = round(1 / SHARE_DECLINE)
        for index, partner in enumerate(card_partners):
            token_vals.append(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids[:1].id,
                    "payment_details": "4242",
                    "partner_id": partner.id,
                    "provider_ref": f"day-{partner.id}",
                    "demo_simulated_state": (
                        "error" if index % decline_every == 0 else "done"
                    ),
                }
            )
        Token = env["payment.token"]
        for batch in chunks(token_vals, SETUP_CHUNK):
            for token in Token.create(batch):
                tokens[token.partner_id.id] = token.id
        env.cr.commit()
        Sub = env["subscription.subscription"]
        sub_ids = []
        vals_list = [
            {
                "partner_id": partner.id,
                "plan_id": plan.id,
                "date_start": start,
                "payment_token_id": tokens.get(partner.id, False),
            }
            for (plan, start), partner in zip(shapes, owners, strict=True)
        ]
        for batch in chunks(vals_list, SETUP_CHUNK):
            subs = Sub.create(batch)
            subs._as_engine().write({"state": "active"})
            subs._update_next_invoice_date()
            sub_ids += subs.ids
            env.cr.commit()
        metered_ids = (
            Sub.browse(sub_ids).filtered(lambda s: s.plan_id == metered_plan).ids
        )
        if metered_ids:
            env.cr.execute(
                SQL(
                    """
                    INSERT INTO subscription_usage
                           (company_id, subscription_id, metric_id, timestamp,
                            quantity, idempotency_key, create_uid, write_uid,
                            create_date, write_date)
                    SELECT %(company)s, (%(ids)s::int[])[1 + n %% %(count)s],
                           %(metric)s,
                           %(start)s::timestamp
                               + (n * 7919 %% 2419200) * INTERVAL '1 second',
                           1 + n %% 9, %(prefix)s || n, 1, 1, NOW(), NOW()
                      FROM generate_series(0, %(events)s - 1) AS n
                    """,
                    company=env.company.id,
                    ids=metered_ids,
                    count=len(metered_ids),
                    metric=self.metric_id,
                    start=self.first_of_previous,
                    prefix=f"day{self.days}-",
                    events=len(metered_ids) * EVENTS_PER_METERED,
                )
            )
        env.cr.commit()
        due = Sub.search_count(
            [("id", "in", sub_ids), ("next_invoice_date", "<=", self.today)]
        )
        if due != len(sub_ids):
            raise BenchError(f"{len(sub_ids) - due} subscriptions are not due today")
        return {
            "journal_id": journal.id,
            "subscription_ids": sub_ids,
            "invoices_expected": len(shapes) - consolidated // 2,
            "with_card": sum(1 for p in owners if p.id in tokens),
        }


# ----------------------------------------------------------------------
# Workers
# ----------------------------------------------------------------------


def run_worker(args):
    """One process of a stage: load the registry, say ready, wait for go,
    loop on the cron's method, print what it measured as JSON."""
    registry = open_registry(args.database, args.config, args.log_level)
    with registry.cursor() as cr:
        env = make_env(cr)
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.readline()
        sampler = RssSampler()
        sampler.start()
        if args.trace_memory == args.worker_stage:
            tracemalloc.start(TRACE_FRAMES)
            traced = tracemalloc.take_snapshot()
        start_time = time.time()
        queries = sql_db.sql_counter
        if args.worker_stage == "billing":
            env["subscription.subscription"]._cron_generate_invoices(
                batch_size=args.batch_size
            )
        elif args.worker_stage == "sending":
            env["account.move"]._cron_send_subscription_invoices(
                batch_size=args.send_batch
            )
        elif args.worker_stage == "charging":
            env["subscription.dunning"]._cron_process(batch_size=args.charge_batch)
        elif args.worker_stage == "odoo_post":
            odoo_batch_post(env, args)
        elif args.worker_stage == "odoo_send":
            odoo_batch_send(env, args)
        env.cr.commit()
        end_time = time.time()
        sampler.stop()
        if args.trace_memory == args.worker_stage:
            print_memory_growth(traced, tracemalloc.take_snapshot())
        print(
            json.dumps(
                {
                    "start": start_time,
                    "end": end_time,
                    "queries": sql_db.sql_counter - queries,
                    "rss_peak_mb": peak_rss_mb(),
                    "rss_profile_mb": sampler.profile(),
                }
            ),
            flush=True,
        )


def print_memory_growth(before, after, top=25):
    """What a worker allocated and still holds at its end (``--trace-memory``),
    by place of allocation, on standard error."""
    stats = after.compare_to(before, "traceback")
    total = sum(stat.size_diff for stat in stats)
    __, peak = tracemalloc.get_traced_memory()
    print(
        f"memory held at the end, allocated during the stage: {total / 2**20:.1f} MB "
        f"(traced peak {peak / 2**20:.1f} MB)",
        file=sys.stderr,
    )
    for stat in stats[:top]:
        print(
            f"{stat.size_diff / 2**20:8.1f} MB {stat.count_diff:9} blocks",
            file=sys.stderr,
        )
        for line in stat.traceback.format():
            print("    " + line, file=sys.stderr)


def journal_invoices(env, args, state, limit):
    """The first ``limit`` invoices of the day's journal in ``state``."""
    return env["account.move"].search(
        [
            ("journal_id", "=", args.journal_id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", state),
        ],
        order="id",
        limit=limit,
    )


def odoo_batch_post(env, args):
    """Odoo's own batch post: ``action_post`` on the journal's drafts, a
    batch at a time (as *Post entries* on a selection), committed."""
    while moves := journal_invoices(env, args, "draft", args.batch_size):
        moves.action_post()
        env.cr.commit()
        env.invalidate_all()


def odoo_batch_send(env, args):
    """Odoo's own batch send: the posted invoices marked as the *Send*
    wizard marks a selection, then Odoo's sending action
    (``_cron_account_move_send``, PDF attached) until none is left."""
    # pylint: disable=import-outside-toplevel
    Move = env["account.move"]
    moves = journal_invoices(env, args, "posted", args.ceiling_send)
    moves.sending_data = {
        "author_user_id": env.user.id,
        "author_partner_id": env.user.partner_id.id,
    }
    env.cr.commit()
    # Odoo renders a job's PDFs in one wkhtmltopdf call, which an unpatched
    # Qt (Debian's build) refuses for more than one document ("Tried to
    # convert multiple documents..."): one invoice a job there.
    from odoo.addons.base.models.ir_actions_report import _wkhtml

    job_count = args.send_batch if _wkhtml().is_patched_qt else 1
    pending = [("id", "in", moves.ids), ("sending_data", "!=", False)]
    while Move.search_count(pending):
        Move._cron_account_move_send(job_count=job_count)
        env.cr.commit()
        env.invalidate_all()


def profile_worker(args):
    """``run_worker`` under cProfile: the 30 functions of most cumulative
    time on standard error, the whole profile in a file."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(run_worker, args)
    path = f"/tmp/bench_billing_day_{args.worker_stage}_{os.getpid()}.prof"
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(30)
    print(f"profile of the {args.worker_stage} worker: {path}", file=sys.stderr)


def run_stage(args, stage, workers, journal_id=None):
    """Start ``workers`` processes, release them together, wait for all."""
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--database",
        args.database,
        "--config",
        args.config,
        "--log-level",
        args.log_level,
        "--batch-size",
        str(args.batch_size),
        "--send-batch",
        str(args.send_batch),
        "--charge-batch",
        str(args.charge_batch),
        "--worker-stage",
        stage,
        "--journal-id",
        str(journal_id or 0),
        "--ceiling-send",
        str(args.ceiling_send),
        *(["--profile-stage", args.profile_stage] if args.profile_stage else []),
        *(["--trace-memory", args.trace_memory] if args.trace_memory else []),
    ]
    processes = [
        subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for __ in range(workers)
    ]
    for process in processes:
        line = process.stdout.readline()
        if not line.strip().startswith("{"):
            raise BenchError(f"a {stage} worker did not start (exit {process.wait()})")
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        output, __ = process.communicate()
        if process.returncode:
            raise BenchError(f"a {stage} worker failed (exit {process.returncode})")
        results.append(json.loads(output.strip().splitlines()[-1]))
    return {
        "workers": workers,
        "seconds": max(r["end"] for r in results) - min(r["start"] for r in results),
        "queries": sum(r["queries"] for r in results),
        "rss_peak_mb": max(r["rss_peak_mb"] for r in results),
        # The worker that grew most: its memory over the stage, by tenths.
        "rss_profile_mb": max(
            (r["rss_profile_mb"] for r in results),
            key=lambda profile: profile[-1] - profile[0],
        ),
    }


# ----------------------------------------------------------------------
# Counting and checking
# ----------------------------------------------------------------------


def counts(env, day):
    """What the day has done so far, from the database."""
    env.invalidate_all()
    cr = env.cr
    cr.execute(
        SQL(
            """
            SELECT COUNT(*),
                   COUNT(*) FILTER (WHERE state = 'posted'),
                   COUNT(*) FILTER (WHERE state = 'posted' AND is_move_sent),
                   COUNT(*) FILTER (WHERE payment_state IN ('paid', 'in_payment'))
              FROM account_move
             WHERE journal_id = %s AND move_type = 'out_invoice'
            """,
            day["journal_id"],
        )
    )
    invoices, posted, sent, paid = cr.fetchone()
    cr.execute(
        SQL(
            """
            SELECT COUNT(*), COUNT(DISTINCT e.invoice_id),
                   COUNT(*) FILTER (WHERE e.result = 'failed')
              FROM subscription_dunning_event e
              JOIN account_move m ON m.id = e.invoice_id
             WHERE m.journal_id = %s AND e.attempt_number IS NOT NULL
            """,
            day["journal_id"],
        )
    )
    attempts, attempted_invoices, failed = cr.fetchone()
    cr.execute(
        SQL(
            """
            SELECT COUNT(DISTINCT d.id)
                       FILTER (WHERE d.decline_type IS DISTINCT FROM 'no_method'),
                   COUNT(DISTINCT d.id) FILTER (WHERE d.decline_type = 'no_method')
              FROM subscription_dunning d
              JOIN account_move m ON m.id = d.invoice_id
             WHERE m.journal_id = %s
            """,
            day["journal_id"],
        )
    )
    # Declined cards; and, on a day other than the first of the month,
    # yesterday's invoices (billed in arrears) of customers without a card,
    # overdue today.
    followups, overdue_followups = cr.fetchone()
    cr.execute(
        SQL(
            """
            SELECT COUNT(*) FROM (
                SELECT subscription_id, kind, period_start
                  FROM subscription_period
                 WHERE subscription_id = ANY(%s)
              GROUP BY subscription_id, kind, period_start
                HAVING COUNT(*) > 1) AS twice
            """,
            day["subscription_ids"],
        )
    )
    (billed_twice,) = cr.fetchone()
    # The invoice emails (Odoo's template: "<company> Invoice (Ref ...)").
    cr.execute(
        SQL(
            """
            SELECT COUNT(*), COUNT(*) FILTER (WHERE emails > 1) FROM (
                SELECT a.id, COUNT(*) AS emails
                  FROM mail_message msg
                  JOIN account_move a
                    ON msg.model = 'account.move' AND a.id = msg.res_id
                 WHERE a.journal_id = %s AND msg.message_type = 'comment'
                   AND msg.subject LIKE '%%Invoice (Ref %%'
              GROUP BY a.id) AS emailed
            """,
            day["journal_id"],
        )
    )
    emailed, emailed_twice = cr.fetchone()
    # Odoo's numbering of the day's posted invoices, per sequence prefix:
    # unique names and no gap between the lowest and the highest number.
    cr.execute(
        SQL(
            """
            SELECT COALESCE(SUM(n - names), 0),
                   COALESCE(SUM(high - low + 1 - n), 0)
              FROM (SELECT COUNT(*) AS n, COUNT(DISTINCT name) AS names,
                           MIN(sequence_number) AS low,
                           MAX(sequence_number) AS high
                      FROM account_move
                     WHERE journal_id = %s AND state = 'posted'
                  GROUP BY sequence_prefix) AS numbering
            """,
            day["journal_id"],
        )
    )
    duplicate_names, numbering_gaps = cr.fetchone()
    return {
        "emailed": emailed,
        "emailed_twice": emailed_twice,
        "invoices": invoices,
        "posted": posted,
        "sent": sent,
        "paid": paid,
        "attempts": attempts,
        "attempted_invoices": attempted_invoices,
        "failed": failed,
        "followups": followups,
        "overdue_followups": overdue_followups,
        "billed_twice": billed_twice,
        "duplicate_names": duplicate_names,
        "numbering_gaps": numbering_gaps,
    }


def check(day, done, stages=STAGES):
    """What is wrong with the day after ``stages``."""
    problems = []
    if done["invoices"] != day["invoices_expected"]:
        problems.append(
            f"{done['invoices']} invoices, {day['invoices_expected']} expected"
        )
    if done["posted"] != done["invoices"]:
        problems.append(f"{done['posted']} posted of {done['invoices']}")
    if "sending" in stages and done["sent"] != done["invoices"]:
        problems.append(f"{done['sent']} sent of {done['invoices']}")
    if "sending" in stages and done["emailed"] != done["invoices"]:
        problems.append(f"{done['emailed']} invoices emailed of {done['invoices']}")
    if done["emailed_twice"]:
        problems.append(f"{done['emailed_twice']} invoices emailed twice")
    if done["attempts"] != done["attempted_invoices"]:
        problems.append(
            f"{done['attempts'] - done['attempted_invoices']} invoices charged twice"
        )
    if "charging" in stages and done["failed"] != done["followups"]:
        problems.append(f"{done['failed']} declines, {done['followups']} follow-ups")
    if done["billed_twice"]:
        problems.append(f"{done['billed_twice']} periods billed twice")
    if done["duplicate_names"] or done["numbering_gaps"]:
        problems.append(
            f"numbering: {done['duplicate_names']} names used twice, "
            f"{done['numbering_gaps']} numbers missing"
        )
    return problems


# ----------------------------------------------------------------------
# The day
# ----------------------------------------------------------------------


def unit_counts(stage, before, after):
    if stage == "billing":
        return after["invoices"] - before["invoices"], "invoices"
    if stage == "sending":
        return after["sent"] - before["sent"], "invoices sent"
    return after["attempts"] - before["attempts"], "payments"


def prepare_day(env, fixture, count):
    """A new day of ``count`` subscriptions, committed and analysed, and
    its counts before the stages."""
    day = fixture.new_day(env, count)
    env.cr.commit()
    env.cr.execute("ANALYZE")
    env.cr.commit()
    return day, counts(env, day)


def run_day(registry, args, fixture, workers):
    with registry.cursor() as cr:
        env = make_env(cr)
        setup_start = time.perf_counter()
        day, before = prepare_day(env, fixture, args.n)
        setup_seconds = time.perf_counter() - setup_start
    print(
        f"\nday with {workers} worker(s): {args.n} subscriptions due, "
        f"{day['invoices_expected']} invoices expected (setup {setup_seconds:.0f} s)",
        flush=True,
    )
    stages = []
    for stage in args.stage_list:
        result = run_stage(args, stage, workers)
        with registry.cursor() as cr:
            after = counts(make_env(cr), day)
            if stage == "billing":
                result["pace"] = billing_pace(make_env(cr), day)
        units, label = unit_counts(stage, before, after)
        result.update(stage=stage, units=units, label=label)
        stages.append(result)
        print(stage_line(result), flush=True)
        print(memory_line(result), flush=True)
        if stage == "billing" and result["pace"]:
            print(pace_line(result["pace"]), flush=True)
        before = after
    problems = check(day, after, args.stage_list)
    total = sum(s["seconds"] for s in stages)
    print(
        f"{'whole day':<10} {total:8.1f} s   "
        f"{after['invoices']} invoices, {after['sent']} sent "
        f"({after['emailed_twice']} emailed twice), "
        f"{after['attempts']} payments ({after['failed']} declined, "
        f"{after['paid']} invoices paid), {after['followups']} follow-ups "
        f"of declines, {after['overdue_followups']} of overdue invoices "
        "without a card, "
        f"{after['billed_twice']} periods billed twice: "
        + ("checks passed" if not problems else "FAILED: " + "; ".join(problems)),
        flush=True,
    )
    return {
        "workers": workers,
        "n": args.n,
        "setup_seconds": setup_seconds,
        "stages": stages,
        "seconds": total,
        "done": after,
        "problems": problems,
    }


def billing_pace(env, day):
    """Time per invoice at the start and at the end of the billing run, from
    the invoices' creation times (one per batch transaction): the first and
    the last tenth of the invoices, in milliseconds an invoice; ``None`` when
    the run made fewer than 20 batches."""
    rows = env.execute_query(
        SQL(
            """
            SELECT create_date, COUNT(*) FROM account_move
             WHERE journal_id = %s AND move_type = 'out_invoice'
          GROUP BY create_date ORDER BY create_date
            """,
            day["journal_id"],
        )
    )
    if len(rows) < 20:
        return None
    # A batch's time runs from its start to the next batch's start: the
    # last batch has no end, and counts as an end only.
    starts = [created for created, __ in rows]
    sizes = [count for __, count in rows]
    tenth = sum(sizes) / 10

    def ms_per_invoice(first, last):
        seconds = (starts[last] - starts[first]).total_seconds()
        return 1000 * seconds / sum(sizes[first:last])

    head = 1
    while sum(sizes[:head]) < tenth:
        head += 1
    tail = len(rows) - 2
    while sum(sizes[tail:-1]) < tenth:
        tail -= 1
    return {
        "first_tenth_ms": ms_per_invoice(0, head),
        "last_tenth_ms": ms_per_invoice(tail, len(rows) - 1),
        "batches": len(rows),
    }


def pace_line(pace):
    return (
        f"{'':<10} time per invoice: first tenth {pace['first_tenth_ms']:.1f} ms, "
        f"last tenth {pace['last_tenth_ms']:.1f} ms "
        f"(x{pace['last_tenth_ms'] / pace['first_tenth_ms']:.2f}, "
        f"{pace['batches']} batches)"
    )


def run_ceiling(registry, args, fixture):
    """Odoo's own batch post and batch send, in one process, on the same
    invoices: a new day billed by our run with the *draft* policy, then
    posted by ``action_post`` a batch at a time, then ``--ceiling-send`` of
    them sent by Odoo's sending action (PDF attached)."""
    with registry.cursor() as cr:
        env = make_env(cr)(context=dict(make_env(cr).context, **QUIET))
        env["subscription.plan"].browse(fixture.plan_ids).invoice_policy = "draft"
        day, before = prepare_day(env, fixture, args.n)
    print(
        f"\nceiling: Odoo's batch post and send, 1 process, "
        f"{day['invoices_expected']} invoices billed as drafts by our run",
        flush=True,
    )
    results = []
    try:
        for stage in ("billing", *CEILING_STAGES):
            result = run_stage(args, stage, 1, journal_id=day["journal_id"])
            with registry.cursor() as cr:
                after = counts(make_env(cr), day)
            if stage == "billing":
                units, label = after["invoices"] - before["invoices"], "drafts"
            elif stage == "odoo_post":
                units, label = after["posted"] - before["posted"], "posted"
            else:
                units, label = after["sent"] - before["sent"], "sent (PDF)"
            result.update(stage=stage, units=units, label=label)
            results.append(result)
            print(stage_line(result), flush=True)
            before = after
    finally:
        with registry.cursor() as cr:
            make_env(cr)(context=QUIET)["subscription.plan"].browse(
                fixture.plan_ids
            ).invoice_policy = "send"
    problems = []
    if after["posted"] != day["invoices_expected"]:
        problems.append(f"{after['posted']} posted of {day['invoices_expected']}")
    if after["sent"] != min(args.ceiling_send, day["invoices_expected"]):
        problems.append(f"{after['sent']} sent by Odoo")
    if after["duplicate_names"] or after["numbering_gaps"]:
        problems.append("numbering")
    if problems:
        print("ceiling FAILED: " + "; ".join(problems), flush=True)
    return {"stages": results, "problems": problems}


def ceiling_report(days, ceiling):
    """Ours against Odoo's own, per invoice, one process."""
    ours = next((d for d in days if d["workers"] == 1), None)
    if not ours:
        return
    by_stage = {s["stage"]: s for s in ours["stages"]}
    ceil = {s["stage"]: s for s in ceiling["stages"]}

    def ms(stage):
        return 1000 * stage["seconds"] / (stage["units"] or 1)

    print("\nagainst Odoo's own (1 process, ms per invoice)")
    if "billing" in by_stage:
        create_post = ms(ceil["billing"]) + ms(ceil["odoo_post"])
        print(
            f"  billed and posted: ours (post and send) {ms(by_stage['billing']):.1f}"
            f"; our drafts {ms(ceil['billing']):.1f} + Odoo's batch post "
            f"{ms(ceil['odoo_post']):.1f} = {create_post:.1f} "
            f"(ours x{create_post / ms(by_stage['billing']):.2f} as fast)"
        )
    if "sending" in by_stage:
        print(
            f"  sent: ours ({ours.get('send_mode', 'link')}) "
            f"{ms(by_stage['sending']):.1f}; "
            f"Odoo's batch send (PDF) {ms(ceil['odoo_send']):.1f}"
        )


def stage_line(result):
    units = result["units"] or 1
    return (
        f"{result['stage']:<10} {result['seconds']:8.1f} s  {result['units']:7} "
        f"{result['label']:<14} {result['units'] / result['seconds']:8.1f} /s "
        f"{result['queries'] / units:7.1f} queries/unit  "
        f"{result['workers']} process(es), peak RSS {result['rss_peak_mb']:.0f} MB"
    )


def memory_line(result):
    """A worker's resident memory over the stage, by tenths of its time."""
    profile = result.get("rss_profile_mb") or []
    return f"{'':<10} memory by tenths of the stage (MB): " + " ".join(
        f"{mb:.0f}" for mb in profile
    )


def report(days):
    if len(days) < 2:
        return
    base = days[0]
    print("\nside by side (speed-up over the first day's run)")
    print(f"{'stage':<10}" + "".join(f"{d['workers']:>12} w" for d in days))
    for index, stage in enumerate(s["stage"] for s in base["stages"]):
        cells = []
        for day in days:
            seconds = day["stages"][index]["seconds"]
            cells.append(
                f"{seconds:7.1f} s x{base['stages'][index]['seconds'] / seconds:.2f}"
            )
        print(f"{stage:<10}" + "".join(f"{c:>14}" for c in cells))
    print(
        f"{'whole day':<10}"
        + "".join(
            f"{d['seconds']:7.1f} s x{base['seconds'] / d['seconds']:.2f}".rjust(14)
            for d in days
        )
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("-n", type=int, default=1000, help="due subscriptions a day")
    parser.add_argument(
        "--workers",
        default="1",
        help="comma-separated process counts, one day each (e.g. 1,2,3)",
    )
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument(
        "--send-batch",
        type=int,
        help="invoices claimed per batch of the sending cron (default: 100 "
        "with links, 20 with PDFs; with Debian's wkhtmltopdf, whose unpatched "
        "Qt renders one document at a time, each PDF takes a call)",
    )
    parser.add_argument(
        "--send-mode",
        choices=("link", "pdf"),
        default="link",
        help="the company's Subscription Invoice Emails: the portal link (no "
        "PDF rendered) or the PDF attached",
    )
    parser.add_argument("--charge-batch", type=int, default=100)
    parser.add_argument("--log-level", default="warn")
    parser.add_argument(
        "--http-port",
        type=int,
        default=8090,
        help="port of the Odoo HTTP server started for the PDFs' assets",
    )
    parser.add_argument(
        "--warmup-day",
        type=int,
        default=50,
        help="subscriptions of an unreported first day, one worker (50; 0: none)",
    )
    parser.add_argument("--json")
    parser.add_argument(
        "--profile-stage",
        choices=STAGES,
        help="run this stage's workers under cProfile (slower): the top "
        "functions on standard error, the profile in /tmp",
    )
    parser.add_argument(
        "--trace-memory",
        choices=STAGES,
        help="trace this stage's allocations (tracemalloc, much slower): what "
        "each worker still holds at its end, by place, on standard error",
    )
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help="comma-separated stages to run, in the day's order (all: "
        + ",".join(STAGES)
        + "); the checks of the others are skipped",
    )
    parser.add_argument(
        "--no-auto-analyze",
        dest="auto_analyze",
        action="store_false",
        help="when the server's autovacuum is off, do not stand in for its "
        "ANALYZE (the statistics stay those of each day's start)",
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="after the days, Odoo's own batch post and batch send of the same "
        "invoices, one process (a day of N more subscriptions)",
    )
    parser.add_argument(
        "--ceiling-send",
        type=int,
        default=100,
        help="invoices sent by Odoo's own sending in the ceiling (100: it "
        "renders a PDF for each)",
    )
    parser.add_argument(
        "--worker-stage", choices=STAGES + CEILING_STAGES, help=argparse.SUPPRESS
    )
    parser.add_argument("--journal-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        args.worker_counts = [int(w) for w in args.workers.split(",")]
    except ValueError:
        parser.error("--workers takes counts such as 1,2,3")
    args.stage_list = [s for s in args.stages.split(",") if s]
    if not args.stage_list or any(s not in STAGES for s in args.stage_list):
        parser.error("--stages takes some of " + ",".join(STAGES))
    if args.stage_list != [s for s in STAGES if s in args.stage_list]:
        parser.error("--stages: in the day's order, " + ",".join(STAGES))
    if args.send_batch is None:
        args.send_batch = 100 if args.send_mode == "link" else 20
    if args.warmup_day and args.warmup_day < 10:
        parser.error("--warmup-day takes 0 or at least 10")
    if args.n < 10 or any(w < 1 for w in args.worker_counts):
        parser.error("-n must be at least 10 and worker counts at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.worker_stage:
            if args.profile_stage == args.worker_stage:
                profile_worker(args)
            else:
                run_worker(args)
            return 0
        registry = open_registry(args.database, args.config, args.log_level)
        with registry.cursor() as cr:
            fixture = Fixture(make_env(cr))
            make_env(cr).company.subscription_invoice_email = args.send_mode
            make_env(cr)["ir.config_parameter"].set_param(
                "report.url", f"http://127.0.0.1:{args.http_port}"
            )
        server = start_http_server(args)
        analyzer = start_auto_analyze(args)
        print(
            f"billing day on {fixture.today}: {args.n} subscriptions, batch "
            f"{args.batch_size}, sending {args.send_batch} per batch "
            f"({args.send_mode})"
        )
        try:
            if args.warmup_day:
                # The first day of a database pays first-use costs (caches,
                # query plans, the mail templates' compilation): not measured.
                print(f"\nwarm-up day ({args.warmup_day} subscriptions, not reported)")
                run_day(
                    registry,
                    argparse.Namespace(**{**vars(args), "n": args.warmup_day}),
                    fixture,
                    1,
                )
            days = [run_day(registry, args, fixture, w) for w in args.worker_counts]
            for day in days:
                day["send_mode"] = args.send_mode
            ceiling = run_ceiling(registry, args, fixture) if args.ceiling else None
        finally:
            if analyzer:
                analyzer.stop()
                print(f"autovacuum's stand-in: {analyzer.analysed} ANALYZE")
            server.terminate()
            server.wait(30)
        report(days)
        if ceiling:
            ceiling_report(days, ceiling)
            days.append({"ceiling": ceiling})
        if args.json:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(days, out, indent=2, default=str)
        return (
            1
            if any(day.get("problems") for day in days)
            or (ceiling and ceiling["problems"])
            else 0
        )
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
