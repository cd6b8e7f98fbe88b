#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Throughput of subscription_billing's recurring invoicing.

Runs in one process on a database where ``subscription_billing`` is installed
(and OCA's ``contract``, for the comparison). It WRITES AND COMMITS benchmark
data: use a throwaway database (``benchmarks/run_billing.sh`` makes one).

Phases, each measured from a committed transaction with an empty cache to its
last commit (wall time, SQL queries through ``cr.sql_log_count``, memory):

* ours: ``subscription.subscription._generate_due_invoices`` on N monthly
  subscriptions, committing every batch as the scheduled action does;
* ceiling: the same N one-line draft invoices made by batched
  ``account.move.create`` calls of the same batch size, nothing else;
* OCA contract: ``contract.contract.cron_recurring_create_invoice`` on N
  equivalent contracts, when the addon is installed;
* ``--scaling N1,N2,...``: the ceiling and ours for each N on new subscriptions.

Each phase writes into a new sales journal: Odoo's cost per invoice grows
with the invoices already in the journal.

Memory: by default the peak resident set of the phase (Linux VmHWM, reset
before the phase), reported as its growth over the resident set at the start.
``--tracemalloc`` reports the peak of Python allocations instead, exactly, but
slows Python code down several times, and unevenly: its times are not the
product's.

Usage::

    python3 benchmarks/bench_billing.py --database DB --config CONF \\
        [-n 1000] [--batch-size 200] [--skip-oca] [--skip-ceiling]
"""
# pylint: disable=print-used

import argparse
import ctypes
import functools
import gc
import json
import logging
import re
import resource
import sys
import time
import tracemalloc
from collections import Counter
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field

try:
    from bench_odoo import BenchError, ensure_chart, make_env, open_registry
    from dateutil.relativedelta import relativedelta

    from odoo import Command, fields
    from odoo.tools import SQL
except ImportError as import_error:
    sys.exit(
        f"error: Odoo 19.0 is not importable by {sys.executable} ({import_error}): "
        "put it on sys.path"
    )

TARGET_CEILING = 0.95
TARGET_OCA = 1.3
SETUP_CHUNK = 1000
PRICE = 10.0
MODULE = "subscription_billing"
# Context of the unmeasured data setup: no chatter on the benchmark records.
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}

_logger = logging.getLogger("bench_billing")


# ----------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------


@dataclass
class Measure:
    name: str
    invoices: int = 0
    seconds: float = 0.0
    queries: int = 0
    traced_peak_mb: float | None = None
    rss_start_mb: float | None = None
    rss_peak_mb: float | None = None
    maxrss_mb: float = 0.0
    runs_ms: list = field(default_factory=list)
    breakdown: dict = field(default_factory=dict)
    statements: dict = field(default_factory=dict)

    @property
    def per_second(self):
        return self.invoices / self.seconds if self.seconds else 0.0

    @property
    def queries_per_invoice(self):
        return self.queries / self.invoices if self.invoices else 0.0

    @property
    def ms_per_invoice(self):
        return 1000 * self.seconds / self.invoices if self.invoices else 0.0

    @property
    def rss_growth_mb(self):
        if self.rss_peak_mb is None or self.rss_start_mb is None:
            return None
        return self.rss_peak_mb - self.rss_start_mb

    def as_dict(self):
        data = asdict(self)
        data.update(
            per_second=self.per_second,
            queries_per_invoice=self.queries_per_invoice,
            ms_per_invoice=self.ms_per_invoice,
            rss_growth_mb=self.rss_growth_mb,
        )
        return data


_peaks_mb = [0.0]  # the phases' peaks: resetting VmHWM resets ru_maxrss too


def maxrss_mb():
    # Linux reports kilobytes.
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, *_peaks_mb)


def _proc_status_mb(key):
    with suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return None


def _trim_heap():
    """Give freed heap memory back to the system (glibc), so that the resident
    set at the start of a phase is not a high-water mark of the previous one."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _reset_peak_rss():
    """Reset VmHWM (Linux >= 4.0); False when the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


@contextmanager
def measure(env, name, trace_memory):
    """Measure the block from a committed transaction with an empty cache;
    the block's last commit is part of the measurement."""
    env.cr.commit()
    env.invalidate_all()
    gc.collect()
    _trim_heap()
    result = Measure(name)
    rss_reset = _reset_peak_rss()
    result.rss_start_mb = _proc_status_mb("VmRSS")
    if trace_memory:
        tracemalloc.start()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    try:
        yield result
        env.cr.commit()
    finally:
        result.seconds = time.perf_counter() - start
        result.queries = env.cr.sql_log_count - queries
        if trace_memory:
            result.traced_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        if rss_reset:
            result.rss_peak_mb = _proc_status_mb("VmHWM")
            _peaks_mb.append(result.rss_peak_mb or 0.0)
        result.maxrss_mb = maxrss_mb()
        result.runs_ms = [result.ms_per_invoice]


def median_run(runs):
    """The run of median time (the lower one for an even count), with the
    per-invoice times of all runs."""
    ordered = sorted(runs, key=lambda run: run.seconds)
    chosen = ordered[(len(ordered) - 1) // 2]
    chosen.runs_ms = [run.ms_per_invoice for run in runs]
    return chosen


class Breakdown:
    """Wrap model methods to count their calls, queries and time (inclusive).

    The queries of the ORM's delayed flushes land in whichever wrapped method
    triggers the flush, or in none (the commit after each batch).
    """

    def __init__(self, env, targets):
        self.env = env
        self.targets = targets
        self.stats = {}
        self._saved = []

    def __enter__(self):
        for model, method in self.targets:
            cls = type(self.env[model])
            if not hasattr(cls, method):
                continue
            label = f"{model}.{method}"
            self.stats[label] = {"calls": 0, "queries": 0, "seconds": 0.0}
            self._saved.append((cls, method, cls.__dict__.get(method)))
            setattr(cls, method, self._wrap(getattr(cls, method), self.stats[label]))
        return self

    def __exit__(self, *exc):
        for cls, method, original in reversed(self._saved):
            if original is None:
                delattr(cls, method)
            else:
                setattr(cls, method, original)
        self._saved.clear()
        return False

    @staticmethod
    def _wrap(func, stat):
        @functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            cr = self.env.cr
            queries, start = cr.sql_log_count, time.perf_counter()
            try:
                return func(self, *args, **kwargs)
            finally:
                stat["calls"] += 1
                stat["queries"] += cr.sql_log_count - queries
                stat["seconds"] += time.perf_counter() - start

        return wrapper


class QueryLog(logging.Handler):
    """Count the queries of a block by statement and table (odoo.sql_db at
    debug level), and optionally write them to a file."""

    _TABLE = re.compile(
        r"^\s*(?:SELECT\b.*?\bFROM|INSERT\s+INTO|UPDATE|DELETE\s+FROM)"
        r"\s+\"?(?P<table>\w+)",
        re.IGNORECASE | re.DOTALL,
    )

    def __init__(self, path=None):
        super().__init__(logging.DEBUG)
        self.counts = Counter()
        self.path = path
        self._file = None

    def emit(self, record):
        message = record.getMessage()
        if "] query: " not in message:
            return
        query = message.split("] query: ", 1)[1].lstrip()
        verb = query.split(None, 1)[0].upper() if query else "?"
        match = self._TABLE.match(query)
        self.counts[f"{verb} {match['table'] if match else '…'}"] += 1
        if self._file:
            self._file.write(" ".join(query.split()) + "\n")

    @contextmanager
    def capture(self):
        logger = logging.getLogger("odoo.sql_db")
        level, propagate = logger.level, logger.propagate
        if self.path:
            self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        logger.addHandler(self)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        try:
            yield self
        finally:
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.propagate = propagate
            if self._file:
                self._file.close()
                self._file = None


# ----------------------------------------------------------------------
# Odoo
# ----------------------------------------------------------------------


def module_installed(env, name):
    return bool(
        env["ir.module.module"].search_count(
            [("name", "=", name), ("state", "=", "installed")]
        )
    )


def analyze(env, args):
    """Refresh the planner's statistics, as autovacuum does on a live database
    (some machines run PostgreSQL without it, where the statistics of a copied
    database would stay those of its nearly empty template)."""
    if args.analyze:
        env.cr.commit()
        env.cr.execute("ANALYZE")
        env.cr.commit()


def chunks(items, size):
    for index in range(0, len(items), size):
        yield items[index : index + size]


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------


class Fixture:
    """Company, product, plan and dates shared by every phase."""

    def __init__(self, env):
        # The tests' data helpers (importable once the registry is loaded).
        from odoo.addons.subscription_billing.tests.common import create_plan

        self.company = env.company
        ensure_chart(env)
        self.today = fields.Date.context_today(env.user)
        self.first_of_month = self.today.replace(day=1)
        env = env(context=dict(env.context, **QUIET))
        self.product = env["product.product"].create(
            {
                "name": "Bench Service",
                "type": "service",
                "list_price": PRICE,
                "sale_ok": True,
            }
        )
        self.plan = create_plan(
            env,
            "Bench Monthly",
            self.product,
            PRICE,
            billing_timing="advance",
            alignment="anniversary",
            invoice_policy="draft",
        )
        self.journal = self.plan._get_sale_journal()
        self._partner_seq = 0
        self._journal_seq = 0
        env.cr.commit()

    def new_journal(self, env, phase):
        """A new, empty sales journal for one measured phase.

        Odoo's cost per new invoice grows with the invoices already in its
        journal (its sequence look-ups scan them), so each phase gets a journal
        of its own: no phase pays for the invoices of the phases before it.
        """
        self._journal_seq += 1
        return env["account.journal"].create(
            {
                "name": f"Bench {phase} {self._journal_seq}",
                "code": f"B{self._journal_seq:04d}",
                "type": "sale",
                "company_id": self.company.id,
            }
        )

    def partners(self, env, count):
        vals_list = []
        for __ in range(count):
            self._partner_seq += 1
            vals_list.append({"name": f"Bench Customer {self._partner_seq:06d}"})
        Partner = env["res.partner"].with_context(**QUIET)
        partners = Partner.browse()
        for chunk in chunks(vals_list, SETUP_CHUNK):
            partners |= Partner.create(chunk)
        env.cr.commit()
        return partners.with_env(env)

    def subscriptions(self, env, partners):
        Sub = env["subscription.subscription"].with_context(**QUIET)
        subs = Sub.browse()
        for chunk in chunks(partners, SETUP_CHUNK):
            batch = Sub.create(
                [
                    {
                        "partner_id": partner.id,
                        "plan_id": self.plan.id,
                        "date_start": self.first_of_month,
                    }
                    for partner in chunk
                ]
            )
            batch.action_start()
            subs |= batch
            env.cr.commit()
        return subs.with_env(env)

    def contracts(self, env, partners, journal):
        Contract = env["contract.contract"].with_context(**QUIET)
        contracts = Contract.browse()
        for chunk in chunks(partners, SETUP_CHUNK):
            contracts |= Contract.create(
                [self._contract_vals(partner, journal) for partner in chunk]
            )
            env.cr.commit()
        return contracts.with_env(env)

    def _contract_vals(self, partner, journal):
        recurrence = {
            "date_start": self.first_of_month,
            "recurring_rule_type": "monthly",
            "recurring_interval": 1,
            "recurring_invoicing_type": "pre-paid",
        }
        return {
            "name": f"Bench contract {partner.name}",
            "contract_type": "sale",
            "partner_id": partner.id,
            "company_id": self.company.id,
            "journal_id": journal.id,
            "line_recurrence": True,
            **recurrence,
            "contract_line_ids": [
                Command.create(
                    {
                        "product_id": self.product.id,
                        "name": "Bench Service #START# → #END#",
                        "quantity": 1,
                        "uom_id": self.product.uom_id.id,
                        "price_unit": PRICE,
                        **recurrence,
                        "recurring_next_date": self.first_of_month,
                    }
                )
            ],
        }


# ----------------------------------------------------------------------
# Phases
# ----------------------------------------------------------------------

OURS_BREAKDOWN = [
    ("subscription.subscription", "_claim_due"),
    ("subscription.subscription", "_bill_due_periods"),
    ("subscription.subscription", "_prepare_billing"),
    ("subscription.subscription", "_billed_period_starts"),
    ("subscription.subscription", "_write_billing"),
    ("account.move", "create"),
    ("subscription.period", "create"),
    ("subscription.subscription", "_update_next_invoice_date"),
    ("subscription.subscription", "_finalize_moves"),
    ("subscription.subscription", "_count_due"),
    ("ir.cron", "_commit_progress"),
]


def run_ours(env, fixture, subs, args, *, name="ours", journal=None, profile=False):
    """Bill every due subscription as the scheduled action does."""
    if journal:
        fixture.plan.journal_id = journal
    foreign = env["subscription.subscription"].search_count(
        [
            ("state", "in", ("trial", "active")),
            ("next_invoice_date", "<=", fixture.today),
            ("id", "not in", subs.ids),
        ]
    )
    if foreign:
        raise BenchError(
            f"the database has {foreign} other due subscriptions that the benchmark "
            "would invoice: run it on a throwaway database (benchmarks/run_billing.sh)"
        )
    Sub = env["subscription.subscription"]
    breakdown = Breakdown(env, OURS_BREAKDOWN if args.breakdown else [])
    query_log = QueryLog(args.query_log)
    capture = query_log.capture() if profile else nullcontext()
    with breakdown, capture, measure(env, name, args.tracemalloc) as result:
        moves = Sub._generate_due_invoices(
            fixture.today,
            batch_size=args.batch_size,
            commit=not args.single_transaction,
        )
        result.invoices = len(moves)
    result.breakdown = breakdown.stats
    result.statements = dict(query_log.counts.most_common())
    verify_ours(env, subs, result)
    return result


def verify_ours(env, subs, result):
    """Each subscription has exactly one draft invoice of PRICE untaxed."""
    rows = env.execute_query(
        SQL(
            """
            SELECT s.id, COUNT(p.id), COUNT(DISTINCT m.id),
                   COALESCE(SUM(m.amount_untaxed), 0),
                   COALESCE(BOOL_AND(m.move_type = 'out_invoice'
                                     AND m.state = 'draft'), FALSE)
              FROM subscription_subscription s
              LEFT JOIN subscription_period p ON p.subscription_id = s.id
              LEFT JOIN account_move m ON m.id = p.invoice_id
             WHERE s.id = ANY(%s)
             GROUP BY s.id
            """,
            subs.ids,
        )
    )
    bad = [
        (sub_id, periods, moves, amount)
        for sub_id, periods, moves, amount, draft_invoice in rows
        if periods != 1 or moves != 1 or round(amount, 2) != PRICE or not draft_invoice
    ]
    if bad or len(rows) != len(subs) or result.invoices != len(subs):
        sample = "; ".join(
            f"subscription {sub_id}: {periods} periods, {moves} invoices, "
            f"untaxed {amount}"
            for sub_id, periods, moves, amount in bad[:5]
        )
        raise BenchError(
            f"{result.name}: expected {len(subs)} draft invoices of {PRICE:.2f} "
            f"untaxed, one per subscription; got {result.invoices} invoices, "
            f"{len(bad)} subscriptions wrong ({sample})"
        )


def ceiling_vals(fixture, subs, journal):
    """The invoice values ours builds, without the subscription bookkeeping."""
    start = fixture.first_of_month
    end = start + relativedelta(months=1, days=-1)
    vals_list = []
    for sub in subs:
        line = sub.line_ids[:1]
        vals_list.append(
            {
                "move_type": "out_invoice",
                "partner_id": sub.partner_invoice_id.id,
                "company_id": sub.company_id.id,
                "currency_id": sub.currency_id.id,
                "journal_id": journal.id,
                "invoice_date": start,
                "invoice_payment_term_id": sub.payment_term_id.id,
                "fiscal_position_id": sub.fiscal_position_id.id,
                "invoice_user_id": sub.user_id.id,
                "invoice_origin": sub.name,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": line.product_id.id,
                            "name": f"{line.name} — {start} → {end}",
                            "quantity": line.quantity,
                            "price_unit": line.price_unit,
                            "discount": line.discount,
                        }
                    )
                ],
            }
        )
    return vals_list


def ceiling_context(args):
    """The context of the ceiling's create: by default the one the addon
    creates its invoices with (``INVOICE_CREATE_CONTEXT``, e.g. without the
    per-invoice "created" message), so that both do the same Odoo work."""
    default = {"default_move_type": "out_invoice"}
    if args.ceiling_default_context:
        return default
    try:
        from odoo.addons.subscription_billing import const
    except ImportError:
        return default
    return dict(getattr(const, "INVOICE_CREATE_CONTEXT", default))


def run_ceiling(env, vals_list, args, chunk_size, name):
    """Only account.move.create, in chunks, committing after each."""
    Move = env["account.move"].with_context(**ceiling_context(args))
    with measure(env, name, args.tracemalloc) as result:
        for chunk in chunks(vals_list, chunk_size):
            result.invoices += len(Move.create(chunk))
            env.cr.commit()
    if result.invoices != len(vals_list):
        raise BenchError(f"{name}: {result.invoices} invoices, not {len(vals_list)}")
    return result


def run_oca(env, fixture, contracts, args, name="OCA contract"):
    """OCA contract's scheduled action, as its cron calls it."""
    Contract = env["contract.contract"]
    foreign = Contract.search_count(
        [
            ("recurring_next_date", "<=", fixture.today),
            ("id", "not in", contracts.ids),
        ]
    )
    if foreign:
        raise BenchError(
            f"the database has {foreign} other due contracts that the benchmark "
            "would invoice: run it on a throwaway database (benchmarks/run_billing.sh)"
        )
    with measure(env, name, args.tracemalloc) as result:
        Contract.cron_recurring_create_invoice(date_ref=fixture.today)
    rows = env.execute_query(
        SQL(
            """
            SELECT COUNT(DISTINCT m.id), COALESCE(SUM(l.price_subtotal), 0)
              FROM account_move_line l
              JOIN contract_line cl ON cl.id = l.contract_line_id
              JOIN account_move m ON m.id = l.move_id
             WHERE cl.contract_id = ANY(%s) AND m.move_type = 'out_invoice'
            """,
            contracts.ids,
        )
    )
    result.invoices, amount = rows[0]
    if result.invoices != len(contracts):
        raise BenchError(
            f"{name}: expected {len(contracts)} invoices, got {result.invoices}"
        )
    if round(amount, 2) != round(PRICE * len(contracts), 2):
        raise BenchError(f"{name}: invoiced {amount} in all, not {PRICE:.2f} each")
    return result


# ----------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------


def warm_up(env, fixture, args, with_ceiling, with_oca):
    """Run each path once on a few records: caches and code paths are warm."""
    _logger.info("warm-up: %d records per phase", args.warmup)
    partners = fixture.partners(env, args.warmup)
    subs = fixture.subscriptions(env, partners)
    run_ours(env, fixture, subs, args, name="warm-up")
    if with_ceiling:
        vals_list = ceiling_vals(fixture, subs, fixture.journal)
        run_ceiling(env, vals_list, args, args.batch_size, "warm-up")
    if with_oca:
        contracts = fixture.contracts(env, partners, fixture.journal)
        run_oca(env, fixture, contracts, args, "warm-up")


def benchmark(env, fixture, args, with_oca):
    """Every phase on the same N customers, each in a journal of its own.

    The order of the phases turns with each repetition; the first puts ours
    last, where the database holds the most invoices.
    """
    n = args.n
    runs = {"ours": [], "ceiling": [], "ceiling_single": [], "oca": []}
    for rep in range(args.repeat):
        label = f"run {rep + 1}/{args.repeat}: " if args.repeat > 1 else ""
        _logger.info("%screating %d customers and subscriptions", label, n)
        partners = fixture.partners(env, n)
        subs = fixture.subscriptions(env, partners)
        phases = []
        if not args.skip_ceiling:
            vals_list = ceiling_vals(fixture, subs, fixture.new_journal(env, "ceiling"))
            phases.append(
                (
                    "ceiling",
                    f"ceiling: account.move.create by {args.batch_size}",
                    functools.partial(
                        run_ceiling, env, vals_list, args, args.batch_size, "ceiling"
                    ),
                )
            )
            if args.ceiling_single:
                vals_list = ceiling_vals(fixture, subs, fixture.new_journal(env, "one"))
                phases.append(
                    (
                        "ceiling_single",
                        f"ceiling: one account.move.create of {n}",
                        functools.partial(
                            run_ceiling, env, vals_list, args, n, "ceiling (1 create)"
                        ),
                    )
                )
        if with_oca:
            _logger.info("%sOCA contract: creating %d contracts", label, n)
            journal = fixture.new_journal(env, "OCA")
            contracts = fixture.contracts(env, partners, journal)
            phases.append(
                (
                    "oca",
                    "OCA contract: cron_recurring_create_invoice",
                    functools.partial(run_oca, env, fixture, contracts, args),
                )
            )
        journal = fixture.new_journal(env, "ours")
        phases.append(
            (
                "ours",
                "ours: _generate_due_invoices",
                functools.partial(
                    run_ours,
                    env,
                    fixture,
                    subs,
                    args,
                    journal=journal,
                    profile=args.profile,
                ),
            )
        )
        turn = rep % len(phases)
        for key, title, run in phases[turn:] + phases[:turn]:
            analyze(env, args)
            _logger.info("%s%s", label, title)
            runs[key].append(run())
    return {key: median_run(values) for key, values in runs.items() if values}


def scaling(env, fixture, args):
    """Ours for each N and, unless --skip-ceiling, before it the ceiling on the
    same N invoices: Odoo's own cost per invoice grows with the journal, so
    time per invoice is only flat relative to it. Each run has its own journal.
    """
    results = []
    for n in args.scaling:
        runs, ceilings = [], []
        for __ in range(args.repeat):
            _logger.info("scaling N=%d: creating customers and subscriptions", n)
            subs = fixture.subscriptions(env, fixture.partners(env, n))
            if not args.skip_ceiling:
                journal = fixture.new_journal(env, "ceiling")
                vals_list = ceiling_vals(fixture, subs, journal)
                analyze(env, args)
                _logger.info("scaling N=%d: ceiling", n)
                ceilings.append(
                    run_ceiling(
                        env, vals_list, args, args.batch_size, f"  ceiling N={n}"
                    )
                )
            journal = fixture.new_journal(env, "ours")
            analyze(env, args)
            _logger.info("scaling N=%d: _generate_due_invoices", n)
            runs.append(
                run_ours(env, fixture, subs, args, name=f"ours N={n}", journal=journal)
            )
            env.invalidate_all()
        results.append(median_run(runs))
        if ceilings:
            results.append(median_run(ceilings))
    return results


# ----------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------


def memory_text(result):
    if result.traced_peak_mb is not None:
        return f"peak {result.traced_peak_mb:6.1f} MB traced"
    if result.rss_growth_mb is not None:
        return f"peak RSS +{result.rss_growth_mb:5.1f} MB ({result.rss_peak_mb:.0f})"
    return ""


def row(result, extra=""):
    spread = ""
    if len(result.runs_ms) > 1:
        spread = f" [{min(result.runs_ms):.1f}–{max(result.runs_ms):.1f}]"
    return (
        f"{result.name:<20}{result.invoices:>7} invoices {result.seconds:7.1f} s "
        f"{result.per_second:6.1f} inv/s {result.ms_per_invoice:5.1f} ms/inv{spread} "
        f"{result.queries_per_invoice:5.1f} queries/inv  {memory_text(result)}  "
        f"{extra}"
    ).rstrip()


def header(args, title):
    mode = "one transaction" if args.single_transaction else "commit per batch"
    memory = "tracemalloc (slows the run)" if args.tracemalloc else "RSS"
    repeat = f", median of {args.repeat}" if args.repeat > 1 else ""
    context = ", ".join(
        f"{key}={value}" for key, value in ceiling_context(args).items()
    )
    return (
        f"\nsubscription_billing {title}  batch={args.batch_size} "
        f"({mode}, warm-up {args.warmup}{repeat}, memory: {memory})\n"
        f"ceiling context: {context}"
    )


def report(args, results, oca_note):
    ours = results["ours"]
    missed = []
    print(header(args, f"benchmark  N={args.n}"))
    print(row(ours))
    ceiling = results.get("ceiling")
    if ceiling:
        ratio = ours.per_second / ceiling.per_second
        if ratio < TARGET_CEILING:
            missed.append(f"ours/ceiling {ratio:.2f} < {TARGET_CEILING}")
        print(
            row(ceiling, f"ratio ours/ceiling {ratio:.2f} (target ≥ {TARGET_CEILING})")
        )
    single = results.get("ceiling_single")
    if single:
        print(row(single, f"ratio ours/it {ours.per_second / single.per_second:.2f}"))
    oca = results.get("oca")
    if oca:
        ratio = ours.per_second / oca.per_second
        if ratio < TARGET_OCA:
            missed.append(f"ours/OCA {ratio:.2f} < {TARGET_OCA}")
        print(row(oca, f"ratio ours/OCA {ratio:.2f} (target ≥ {TARGET_OCA})"))
    elif oca_note:
        print(oca_note)
    print(f"process ru_maxrss {maxrss_mb():.0f} MB")
    if missed:
        print("targets missed: " + ", ".join(missed))
    print_breakdown(ours)
    return bool(missed)


def report_scaling(args, results):
    print(header(args, "scaling"))
    ours = None
    for result in results:
        if result.name.startswith("ours"):
            ours = result
            print(row(result))
        else:
            ratio = ours.per_second / result.per_second
            print(row(result, f"ratio ours/ceiling {ratio:.2f}"))
    print(f"process ru_maxrss {maxrss_mb():.0f} MB")
    for result in results:
        print_breakdown(result)


def print_breakdown(result):
    invoices = result.invoices or 1
    if any(stat["calls"] for stat in result.breakdown.values()):
        print(f"\n{result.name}: per invoice, inclusive (nested calls overlap)")
        for label, stat in result.breakdown.items():
            if stat["calls"]:
                print(
                    f"  {label:<52}{stat['calls']:>6} calls "
                    f"{stat['queries'] / invoices:7.2f} queries "
                    f"{1000 * stat['seconds'] / invoices:7.2f} ms"
                )
    if result.statements:
        print(f"\n{result.name}: queries per invoice by statement and table")
        for key, count in list(result.statements.items())[:30]:
            print(f"  {count / invoices:7.2f}  {key}")


def write_json(args, results):
    items = results if isinstance(results, list) else list(results.values())
    payload = {
        "n": args.n,
        "scaling": args.scaling,
        "batch_size": args.batch_size,
        "repeat": args.repeat,
        "single_transaction": args.single_transaction,
        "tracemalloc": args.tracemalloc,
        "results": [result.as_dict() for result in items],
        "maxrss_mb": maxrss_mb(),
    }
    with open(args.json, "w", encoding="utf-8") as file:
        json.dump(payload, file, indent=2, default=str)


# ----------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Throughput of subscription_billing's recurring invoicing "
        "against a bare account.move.create and OCA contract.",
        epilog="It commits benchmark data: use a throwaway database "
        "(benchmarks/run_billing.sh makes one).",
    )
    parser.add_argument("--database", "-d", required=True)
    parser.add_argument("--config", "-c", required=True, help="Odoo config file")
    parser.add_argument("-n", type=int, default=1000, help="subscriptions (1000)")
    parser.add_argument("--batch-size", type=int, default=200, help="(200)")
    parser.add_argument("--skip-oca", action="store_true")
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument(
        "--ceiling-single",
        action="store_true",
        help="also time the ceiling as one account.move.create of all N",
    )
    parser.add_argument(
        "--ceiling-default-context",
        action="store_true",
        help="ceiling: Odoo's default create context instead of the addon's",
    )
    parser.add_argument(
        "--scaling",
        metavar="N1,N2,...",
        help="only the ours phase, for each N on new subscriptions",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every phase this many times on new data; report the median (1)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="records per phase billed once, unmeasured, before measuring (20)",
    )
    parser.add_argument(
        "--single-transaction",
        action="store_true",
        help="ours: one transaction for the whole run (commit=False) instead of "
        "a commit per batch",
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="do not ANALYZE the database after each data setup",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="memory as tracemalloc's peak: exact, but times several times slower",
    )
    parser.add_argument(
        "--no-breakdown",
        dest="breakdown",
        action="store_false",
        help="do not count the queries and time of each billing step",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="ours: count queries by statement and table (odoo.sql_db at debug "
        "level: slower, use a small N)",
    )
    parser.add_argument(
        "--query-log",
        metavar="FILE",
        help="with --profile: write ours' queries to FILE",
    )
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 when a target is missed (ours/ceiling ≥ {TARGET_CEILING}, "
        f"ours/OCA ≥ {TARGET_OCA})",
    )
    parser.add_argument("--log-level", default="warn", help="Odoo's (warn)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.batch_size < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("-n, --batch-size and --repeat must be positive")
    if args.query_log and not args.profile:
        parser.error("--query-log needs --profile")
    if args.scaling:
        try:
            args.scaling = [int(part) for part in args.scaling.split(",") if part]
        except ValueError:
            parser.error("--scaling takes a comma-separated list of integers")
        if not args.scaling or min(args.scaling) < 1:
            parser.error("--scaling takes positive integers")
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
        if not module_installed(env, MODULE):
            raise BenchError(f"{MODULE} is not installed on {args.database}")
        oca_note = ""
        with_oca = not args.skip_oca and not args.scaling
        if with_oca and not module_installed(env, "contract"):
            with_oca = False
            oca_note = "OCA contract is not installed: comparison skipped"
        elif args.skip_oca:
            oca_note = "OCA contract: skipped (--skip-oca)"
        with_ceiling = not args.skip_ceiling

        fixture = Fixture(env)
        if args.warmup:
            warm_up(env, fixture, args, with_ceiling, with_oca)
        if args.scaling:
            results = scaling(env, fixture, args)
            report_scaling(args, results)
            missed = False
        else:
            results = benchmark(env, fixture, args, with_oca)
            missed = report(args, results, oca_note)
        if args.json:
            write_json(args, results)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
