# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Helpers shared by the models (no model imports another model's helpers)."""

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import NamedTuple

import psycopg2.errors
from markupsafe import Markup

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_date, formatLang, get_lang, mute_logger

from .core.rating import CHARGE_MODELS
from .core.rating.base import fmt_money, fmt_units, render_terms, to_decimal

_logger = logging.getLogger(__name__)

# The largest quantity or unit price a line takes (10^12).
MAX_LINE_VALUE = 10**12

# The largest magnitude a number field of ours takes (prices, quantities,
# tiers): far beyond any price or quantity, far below a float's range.
MAX_NUMBER = 10**15


def check_number_values(records, vals):
    """Refuse, before Odoo converts them, the values of ``vals`` for number
    fields of ``records``' model that are not finite numbers of a sensible
    size (NaN, infinities, 1e308, a 400-digit integer): Odoo would store
    ``Infinity`` or fail with an ``OverflowError`` deep in its rounding."""
    for name, value in vals.items():
        field = records._fields.get(name)
        if field is None or field.type not in ("float", "monetary", "integer"):
            continue
        if value is None or value is False:
            continue
        number = None
        if not isinstance(value, bool):
            try:
                number = float(value)
            except (TypeError, ValueError, OverflowError):
                number = None
        if number is None or not math.isfinite(number) or abs(number) > MAX_NUMBER:
            raise ValidationError(
                records.env._(
                    "%(field)s: %(value)s is not a number between -%(max)s and "
                    "%(max)s.",
                    field=field._description_string(records.env),
                    value=repr(value)[:40],
                    max=f"{MAX_NUMBER:,}",
                )
            )


# ---------------------------------------------------------------------------
# Claiming rows: the one place that writes ``FOR ... SKIP LOCKED``.
# ---------------------------------------------------------------------------


def claim_sql(select, limit=None, of=None):
    """``select`` (an ``SQL`` ``SELECT ... [ORDER BY ...]``) locked for this
    worker: ``[LIMIT n] FOR NO KEY UPDATE [OF tables] SKIP LOCKED``.

    ``of``: the table aliases to lock (a string or a tuple), when the query
    joins tables it must not lock.
    """
    of = (of,) if isinstance(of, str) else tuple(of or ())
    return SQL(
        "%s%s FOR NO KEY UPDATE%s SKIP LOCKED",
        select,
        SQL(" LIMIT %s", limit) if limit else SQL(""),
        SQL(" OF %s", SQL(", ").join(SQL.identifier(alias) for alias in of))
        if of
        else SQL(""),
    )


def claim_ids(env, select, limit=None, of=None, commit=False):
    """Ids of the first column of ``select``, claimed (see :func:`claim_sql`
    and :func:`claim_rows`)."""
    return [row[0] for row in claim_rows(env, claim_sql(select, limit, of), commit)]


def claim_rows(env, query, commit=False, attempts=5):
    """Rows of a ``FOR ... SKIP LOCKED`` claim ``query``.

    Under Odoo's REPEATABLE READ, a row another worker updated and committed
    after this transaction's snapshot cannot be locked: PostgreSQL raises a
    serialization failure. In committed runs (``commit``: nothing pending
    since the last commit) the claim is retried in a new transaction; in a
    caller's transaction, the error goes up (the caller retries later).
    """
    for attempt in range(attempts):
        env.flush_all()
        if not commit:
            return env.execute_query(query)
        try:
            with mute_logger("odoo.sql_db"):
                return env.execute_query(query)
        except psycopg2.errors.SerializationFailure:
            if attempt == attempts - 1:
                raise
            _logger.info("Claim: concurrent update, retrying in a new transaction")
            env.cr.rollback()
            env.invalidate_all()
    return []


CRON_METHOD = re.compile(r"\bmodel\.(\w+)\s*\(")


def cron_method(code):
    """The method a scheduled action's code calls on ``model`` (``None``
    when it calls none, or several)."""
    methods = set(CRON_METHOD.findall(code or ""))
    return methods.pop() if len(methods) == 1 else None


def trigger_copies(env):
    """Wake the copies of the scheduled action running in ``env`` (if any).

    Odoo runs one scheduled action on one cron worker at a time; a second
    worker shares a run through a copy of the action (*Duplicate*), whose
    claims skip the rows the first one holds. Called by a batch job that has
    more than one batch of work, so that every active copy starts at once
    instead of at its own next call. A copy is an active action of the same
    model whose code calls the same method (its arguments, such as the
    batch size, may differ), or, when the code calls no single method, has
    the same code. A copy that is already running runs once more when it
    ends and finds nothing left.
    """
    cron_id = env.context.get("cron_id")
    if not cron_id:
        return
    Cron = env["ir.cron"].sudo()
    cron = Cron.browse(cron_id).exists()
    if not cron:
        return
    domain = [
        ("id", "!=", cron.id),
        ("active", "=", True),
        ("model_id", "=", cron.model_id.id),
    ]
    method = cron_method(cron.code)
    if method:
        copies = Cron.search([*domain, ("code", "like", method)]).filtered(
            lambda copy: cron_method(copy.code) == method
        )
    else:
        copies = Cron.search([*domain, ("code", "=", cron.code)])
    for copy in copies:
        copy._trigger()


def claimed_batches(
    env,
    claim,
    commit=False,
    processed=len,
    remaining=None,
    fresh=True,
    invalidate=True,
):
    """The batches of a job that claims its work (``FOR ... SKIP LOCKED``),
    until none is left: the one loop of the batch jobs.

    ``claim(retry)`` returns the next batch (a recordset, claimed with
    :func:`claim_ids` or :func:`claim_rows`, ``commit=retry``), empty when
    nothing is left; ``retry`` tells whether nothing is pending since the
    last commit, so that the claim may restart the transaction on a
    serialization failure. The caller works on each batch yielded; then,
    with ``invalidate`` (the default), the cache is dropped (memory stays
    flat over long runs) and, with ``commit`` (a scheduled action), the batch
    is committed through ``ir.cron._commit_progress`` with
    ``processed(batch)`` items done and ``remaining()`` items left (when
    given); the loop stops when the cron is told to stop. Without
    ``commit``, everything stays in the caller's transaction. A batch the
    caller breaks out of is not committed here: stop through ``claim``
    (return nothing) instead.

    ``fresh``: nothing is pending at the start (the caller committed); when
    false, the first claim does not retry (a restart would lose the caller's
    work: the error goes up and the run tries again later).
    """
    retry = commit and fresh
    batches = 0
    while True:
        batch = claim(retry)
        if not batch:
            return
        batches += 1
        if commit and batches == 2:
            # More than one batch of work: the copies of the action join in
            # (committed with this batch).
            trigger_copies(env)
        yield batch
        if invalidate:
            env.invalidate_all()
        if not commit:
            continue
        left = remaining() if remaining is not None else None
        if env["ir.cron"]._commit_progress(processed(batch), remaining=left) <= 0:
            return
        retry = True


def for_each_isolated(records, fn, on_error, errors=Exception):
    """``fn(record)`` for each of ``records``, each in its own savepoint: a
    failure (one of ``errors``) rolls back that record's work only, is
    recorded by ``on_error(record, error)``, and the others go on. Other
    exceptions go up. Returns the records that failed."""
    failed = []
    for record in records:
        try:
            with records.env.cr.savepoint():
                fn(record)
        except errors as error:
            on_error(record, error)
            failed.append(record.id)
    return records.browse(failed)


def html_table(headers, rows, totals=()):
    """A small HTML table: text columns escaped, all but the first right-aligned;
    ``totals``: ``(label, value)`` rows of the footer."""

    def cells(row, tag):
        return Markup("").join(
            Markup("<%s%s>%s</%s>")
            % (tag, Markup(" class='text-end'") if index else Markup(""), cell, tag)
            for index, cell in enumerate(row)
        )

    span = len(headers) - 1
    return Markup(
        "<table class='table table-sm'><thead><tr>%s</tr></thead>"
        "<tbody>%s</tbody><tfoot>%s</tfoot></table>"
    ) % (
        cells(headers, "th"),
        Markup("").join(Markup("<tr>%s</tr>") % cells(row, "td") for row in rows),
        Markup("").join(
            Markup(
                "<tr><td colspan='%s' class='text-end'>%s</td>"
                "<td class='text-end'>%s</td></tr>"
            )
            % (span, label, value)
            for label, value in totals
        ),
    )


# ---------------------------------------------------------------------------
# Documents in the customer's language
# ---------------------------------------------------------------------------


class DocumentFormat:
    """Numbers, dates and phrases of a customer document (invoice line,
    email) in one language: the partner's (``partner.lang``).

    Numbers stay exact: the core's English text (``fmt_units``,
    ``fmt_money``: ``25,000.5``) gets the language's separators
    (``25 000,5``), never a float's digits.
    """

    def __init__(self, env, lang=None):
        data = get_lang(env, lang or None)
        self.lang = data.code
        self.env = env(context=dict(env.context, lang=self.lang))
        self._separators = {
            ord(","): "\x00",
            ord("."): data.decimal_point or ".",
        }
        self._thousands = data.thousands_sep or ""

    @classmethod
    def for_partner(cls, env, partner):
        """The format of ``partner``'s documents."""
        return cls(env, partner.lang)

    def number(self, english):
        """An English-formatted number (``1,500.25``) in this language."""
        return english.translate(self._separators).replace("\x00", self._thousands)

    def units(self, number, decimals=None):
        return self.number(fmt_units(number, decimals))

    def money(self, number):
        return self.number(fmt_money(number))

    def date(self, day):
        return format_date(self.env, day, lang_code=self.lang)

    def period(self, start, end):
        """``start → end``, both dates in this language."""
        return f"{self.date(start)} → {self.date(end)}"

    def days_period(self, start, end, days, full_days, partial):
        """The period of a service line; a prorated one shows its days."""
        label = self.period(start, end)
        if not partial:
            return label
        return self.env._(
            "%(period)s (%(days)s/%(full)s days)",
            period=label,
            days=days,
            full=full_days,
        )

    def explanation(self, terms):
        """A charge's computation (``RatingResult.explain_terms``)."""
        return render_terms(terms, self.units, self.money, self.phrase)

    def phrase(self, key, **values):
        """The phrases of a computation (``core.rating.base.ENGLISH_PHRASES``)."""
        env = self.env
        phrases = {
            "included": lambda: env._("%(units)s included", **values),
            "period_minimum": lambda: env._("%(amount)s (minimum)", **values),
            "period_maximum": lambda: env._("%(amount)s (maximum)", **values),
            "packages": lambda: env._("packages of %(size)s", **values),
            "packages_free": lambda: env._(
                "packages of %(size)s, %(free)s free", **values
            ),
            "per_transaction": lambda: env._("per transaction"),
            "minimum_per_transaction": lambda: env._(
                "minimum per transaction, %(count)s transaction", **values
            ),
            "minimum_per_transaction_plural": lambda: env._(
                "minimum per transaction, %(count)s transactions", **values
            ),
            "maximum_per_transaction": lambda: env._(
                "maximum per transaction, %(count)s transaction", **values
            ),
            "maximum_per_transaction_plural": lambda: env._(
                "maximum per transaction, %(count)s transactions", **values
            ),
            "dynamic_events": lambda: env._("sum of %(count)s event", **values),
            "dynamic_events_plural": lambda: env._("sum of %(count)s events", **values),
            "prorated": lambda: env._("prorated %(days)s/%(full_days)s days", **values),
        }
        return phrases[key]()


# ---------------------------------------------------------------------------
# Values that travel between the billing steps (subscription billing and
# usage rating): named fields instead of dicts and positional tuples.
# ---------------------------------------------------------------------------


class UsageQuery(NamedTuple):
    """What ``subscription.usage._aggregate`` measures: ``metric``'s usage of
    ``subscription`` from ``start`` to ``end`` (days, inclusive); ``values``:
    the list of event values too (the transactions of a percentage charge)."""

    subscription: object
    metric: object
    start: date
    end: date
    values: bool = False


class UsageItem(NamedTuple):
    """One usage line to rate over ``start..end``: the days of a usage period
    (``core.periods.Period``) the line is billed in; ``late``: the period was
    invoiced already and the item rates the usage that came after, on
    ``group``'s invoice (the billing's invoice group, opaque to the rating)."""

    group: object
    subscription: object
    period: object
    line: object
    start: date
    end: date
    late: bool

    @property
    def key(self):
        """The usage period of the invoice the item's charge goes on."""
        return (id(self.group), self.subscription, self.period.start)

    def query(self):
        """The :class:`UsageQuery` of the item's usage."""
        return UsageQuery(
            self.subscription,
            self.line.metric_id,
            self.start,
            self.end,
            CHARGE_MODELS[self.line.charge_model or "standard"].transactions,
        )

    @property
    def proration(self):
        """``(days, full_days)`` when the item bills part of its period, else
        ``None`` (what a model that prorates reads)."""
        days = (self.end - self.start).days + 1
        full_days = self.period.full_days
        return (days, full_days) if days != full_days else None


@dataclass
class RatedUsage:
    """A rated usage item: its ``subscription.usage.charge`` values
    (``charge_vals``), its invoice line values (``line_vals``) and its
    invoiced amount (``rounded``, with the currency)."""

    line: object
    period: object
    rounded: Decimal
    late: bool
    line_vals: dict
    charge_vals: dict


class BilledPeriod(NamedTuple):
    """A period (``core.periods.Period``) of a subscription on an invoice."""

    subscription: object
    period: object


@dataclass(eq=False)
class InvoiceGroup:
    """One invoice of a billing run, as prepared (a group is itself: compared
    and hashed by identity).

    ``subscriptions``: those it invoices (several when the customer
    consolidates its invoices); ``periods`` and ``usage_periods``: the
    :class:`BilledPeriod` of its service and usage; ``charges``: the rated
    usage (``tools.RatedUsage``); ``changes``: the changes whose pending
    proration it charges; ``move_vals``: the invoice values, with its lines.
    """

    subscriptions: object
    move_vals: dict
    periods: list = field(default_factory=list)
    usage_periods: list = field(default_factory=list)
    charges: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    @property
    def invoice_date(self):
        return self.move_vals["invoice_date"]

    @property
    def has_lines(self):
        return bool(self.move_vals["invoice_line_ids"])

    def add_lines(self, vals_list):
        """Add invoice lines (their values) to the invoice. A line without
        an analytic distribution leaves the key out: Odoo's analytic
        distribution models then apply to it as to any invoice line."""
        for vals in vals_list:
            if "analytic_distribution" in vals and not vals["analytic_distribution"]:
                del vals["analytic_distribution"]
        self.move_vals["invoice_line_ids"] += [
            Command.create(vals) for vals in vals_list
        ]


@dataclass
class BillingProgress:
    """How far a run bills a subscription: the last day its due service
    (``until``) and usage (``usage_until``) periods cover, billed now or
    before, and its renewed end (``None``: no renewal)."""

    renewed_end: date | None
    until: date | None = None
    usage_until: date | None = None


@dataclass
class BillingResult:
    """Outcome of a billing batch: the invoices written and the failed
    subscriptions."""

    moves: object
    failed: object


# ---------------------------------------------------------------------------
# Exact decimals: the one conversion of ORM values for the engine.
# ---------------------------------------------------------------------------


def exact_decimal(value):
    """A number read from the database as the Decimal it was written as.

    The one conversion of ORM values for the engine: a float (what Odoo
    hands back for ``NUMERIC`` columns) through its ``repr``, never
    ``Decimal(float)``; ``Decimal`` (from SQL as text) as is.
    """
    return clean_decimal(to_decimal(value or 0))


def clean_decimal(number):
    """``1000.000`` as ``1000``, ``0.050`` as ``0.05``: no meaningless zeros.

    Exact at any size (``1E+29`` stays 10**29); infinities and NaN are
    returned as they are, for the engine to refuse.
    """
    if not number.is_finite():
        return number
    if number == number.to_integral_value():
        return Decimal(int(number))
    return number.normalize(Context(prec=len(number.as_tuple().digits)))


# ---------------------------------------------------------------------------
# Display in the user's language (chatter messages, wizards, reports)
# ---------------------------------------------------------------------------


def format_quantity(env, value, decimals=None):
    """A quantity in the user's number format, without meaningless zeros:
    ``1,000``, ``2.5`` (``1 000`` and ``2,5`` in French). ``decimals``: at
    most that many (a metric's precision)."""
    number = exact_decimal(value)
    if decimals is not None:
        number = clean_decimal(
            number.quantize(Decimal(1).scaleb(-max(decimals, 0)), ROUND_HALF_UP)
        )
    places = max(-number.as_tuple().exponent, 0) if number.is_finite() else 0
    return formatLang(env, float(number), digits=places)


def format_day(env, day, lang_code=None):
    """A day in the user's language (``1 janv. 2026``, ``Jan 1, 2026``), for
    messages: never the ISO form."""
    return format_date(env, day, lang_code=lang_code, date_format="medium")


def format_days(env, start, end, lang_code=None):
    """A period, ``1 Jan 2026 – 31 Jan 2026`` in the user's language."""
    return f"{format_day(env, start, lang_code)} – {format_day(env, end, lang_code)}"
