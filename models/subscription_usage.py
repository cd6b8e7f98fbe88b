# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..core import aggregation
from ..core.rating.base import to_decimal
from ..tools import UsageQuery, clean_decimal

# Limits of ingestion (README, "Usage ingestion"): an event over a limit is
# refused with a code, the rest of its batch is kept.
MAX_KEY_LENGTH = 255
# Metric code, subscription reference, customer reference.
MAX_REFERENCE_LENGTH = 255
MAX_TIMESTAMP_LENGTH = 64
MAX_PROPERTIES = 50
MAX_PROPERTY_KEY_LENGTH = 100
MAX_PROPERTY_VALUE_LENGTH = 1000
# The properties object is level 1: {"a": {"b": 1}} has 2 levels.
MAX_PROPERTIES_DEPTH = 5
# Bytes of the properties written as compact JSON (UTF-8).
MAX_PROPERTIES_SIZE = 8192
# Integers in properties are kept exactly up to this many bits (about 30 digits).
MAX_PROPERTY_INT_BITS = 100
# Quantities: bounds per metric (subscription.metric, max_quantity and
# quantity_decimals).
EVENT_FIELDS = (
    "idempotency_key",
    "subscription",
    "customer",
    "metric",
    "timestamp",
    "quantity",
    "properties",
)
# A number written as text: ASCII digits only, no spaces, no "_", no "nan".
NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# Characters refused in identifiers: control characters and lone surrogates
# (which PostgreSQL cannot store); in properties: NUL and lone surrogates.
BAD_IDENTIFIER_CHARS = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
BAD_PROPERTY_CHARS = re.compile("[\x00\ud800-\udfff]")
MAX_ID = 2**31 - 1
# Clocks of clients differ a little: a timestamp this far ahead is accepted.
CLOCK_SKEW = timedelta(minutes=5)
ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REFUSED = "refused"
PAYLOAD_FIELDS = ("subscription_id", "metric_id", "timestamp", "quantity", "properties")
# Moving an event (another subscription, metric or moment) checks it again
# as ingestion does.
WHERE_FIELDS = ("subscription_id", "metric_id", "timestamp")
# What checking an event reads of its subscription: fetched once per batch.
CHECKED_SUB_FIELDS = [
    "name",
    "company_id",
    "state",
    "date_start",
    "date_end",
    "usage_invoiced_until",
    "next_invoice_date",
    "plan_id",
]


def _parse_int(text):
    # Long integers stay Decimal: Python refuses to read more than 4,300 digits.
    return int(text) if len(text) <= 20 else Decimal(text)


def loads_exact(data):
    """JSON ``data`` with its numbers exact: decimals and long integers as
    :class:`~decimal.Decimal` (``NaN`` and ``Infinity`` too), never a float
    that rounds. Raises ``ValueError`` (not JSON) or ``RecursionError`` (nested
    too deeply to read)."""
    return json.loads(
        data, parse_float=Decimal, parse_int=_parse_int, parse_constant=Decimal
    )


def to_number(value):
    """``value`` as an exact finite :class:`~decimal.Decimal`, or ``None``.

    Numbers, and text written as a plain number (ASCII digits, optional sign,
    point and exponent); not booleans, ``NaN`` or infinities.
    """
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = to_decimal(value)
        elif isinstance(value, str) and NUMBER_TEXT.fullmatch(value):
            number = Decimal(value)
        else:
            return None
    except (InvalidOperation, ValueError, OverflowError):
        return None
    return number if number.is_finite() else None


def decimal_places(number):
    """Decimals of ``number`` without its trailing zeros (exact, any size)."""
    __, digits, exponent = number.as_tuple()
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if zeros == len(digits):
        return 0
    return max(0, -(exponent + zeros))


def shown(value, limit=40):
    """A short, safe picture of a hostile value for a message."""
    if isinstance(value, str):
        return repr(value[:limit] + "…" if len(value) > limit else value)
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list | tuple):
        return "[…]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    try:
        text = str(value)
    except ValueError:  # an integer of thousands of digits
        text = "9…"
    return text[:limit] + "…" if len(text) > limit else text


class UsageRefused(ValueError):
    """An event that cannot be recorded: a stable ``code`` and a message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class SubscriptionUsage(models.Model):
    """One usage event, recorded once whatever the retries.

    The idempotency key is unique per company (a database constraint), so a
    client that sends an event twice records it once. ``charge_id`` is set by
    the billing that rated the event; an event without it in a period already
    invoiced is *late* and goes to the next invoice.
    """

    _name = "subscription.usage"
    _inherit = ["subscription.engine.mixin"]
    _description = "Usage Event"
    _order = "timestamp desc, id desc"
    _rec_name = "idempotency_key"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "subscription.subscription",
        required=True,
        ondelete="restrict",
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        precompute=True,
        required=True,
        readonly=True,
    )
    partner_id = fields.Many2one(related="subscription_id.partner_id")
    metric_id = fields.Many2one(
        "subscription.metric", required=True, ondelete="restrict", check_company=True
    )
    timestamp = fields.Datetime(required=True, default=fields.Datetime.now)
    quantity = fields.Float(
        digits=(20, 6),
        default=1.0,
        help="Value of the event (1 for a plain count). Negative only for "
        "time-weighted metrics, where it lowers the level.",
    )
    properties = fields.Json(help='Free properties of the event, e.g. {"user": "u1"}.')
    properties_text = fields.Char(
        string="Properties (JSON)",
        compute="_compute_properties_text",
        inverse="_inverse_properties_text",
        help="The properties as a JSON object, for imports and display.",
    )
    idempotency_key = fields.Char(
        required=True, help="Unique per company: an event sent twice counts once."
    )
    charge_id = fields.Many2one(
        "subscription.usage.charge",
        string="Rated in",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        copy=False,
    )

    _idempotency_key_unique = models.Constraint(
        "UNIQUE(company_id, idempotency_key)",
        "An event with this idempotency key was already recorded for this company.",
    )
    _subscription_metric_timestamp = models.Index(
        "(subscription_id, metric_id, timestamp)"
    )
    _unbilled = models.Index("(subscription_id, timestamp) WHERE charge_id IS NULL")

    @api.depends("subscription_id")
    def _compute_company_id(self):
        for usage in self:
            usage.company_id = usage.subscription_id.company_id or self.env.company

    @api.depends("properties")
    def _compute_properties_text(self):
        for usage in self:
            usage.properties_text = (
                json.dumps(usage.properties, sort_keys=True)
                if usage.properties
                else False
            )

    def _inverse_properties_text(self):
        for usage in self:
            usage.properties = self._parse_properties(usage.properties_text)

    def _parse_properties(self, text):
        """Properties written as JSON text (imports, the form), numbers exact."""
        text = (text or "").strip()
        try:
            properties = loads_exact(text) if text else False
        except (ValueError, RecursionError) as error:
            raise ValidationError(
                self.env._(
                    "The properties %(text)s are not valid JSON (%(error)s): write "
                    'them as an object, e.g. {"user": "u1"}.',
                    text=shown(text),
                    error=shown(str(error), 80)[1:-1],
                )
            ) from None
        if properties and not isinstance(properties, dict):
            raise ValidationError(
                self.env._(
                    "The properties must be a JSON object, not %(text)s.",
                    text=shown(text),
                )
            )
        return properties

    @api.model_create_multi
    def create(self, vals_list):
        """ORM, external API and CSV import: every event is checked first.

        The caller's values are left as they are: an import that retries row
        by row after an error gets the same error again.
        """
        vals_list = [dict(vals) for vals in vals_list]
        if any(vals.get("charge_id") for vals in vals_list):
            self._check_charge_written()
        for vals in vals_list:
            self._check_ids(vals)
        subs = self.env["subscription.subscription"].browse(
            {
                vals["subscription_id"]
                for vals in vals_list
                if vals.get("subscription_id")
            }
        )
        context = self._ingest_context(subs)
        for vals in vals_list:
            if "properties_text" in vals:
                vals["properties"] = self._parse_properties(vals.pop("properties_text"))
            try:
                self._check_event(vals, context)
            except UsageRefused as refusal:
                raise ValidationError(str(refusal)) from None
        return super().create(vals_list)

    def _check_ids(self, vals):
        for name in ("subscription_id", "metric_id"):
            value = vals.get(name)
            if value and (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not 0 < value <= MAX_ID
            ):
                raise ValidationError(
                    self.env._(
                        "The event names no valid %(field)s (got %(value)s).",
                        field=self._fields[name].string,
                        value=shown(value),
                    )
                )

    def _check_charge_written(self):
        """Only the billing marks events as rated (``charge_id``)."""
        if not self._is_engine():
            raise ValidationError(
                self.env._(
                    "The invoice that rated a usage event is set by the billing: "
                    "it cannot be written."
                )
            )

    def write(self, vals):
        """Checked as at creation: the idempotency key, the timestamp, the
        quantity and the properties (bounds of the event's metric); an event
        moved to another subscription, metric or moment is checked as
        ingestion checks it."""
        if "charge_id" in vals:
            self._check_charge_written()
        if not set(vals) & {*PAYLOAD_FIELDS, "idempotency_key", "properties_text"}:
            return super().write(vals)
        if self.filtered("charge_id"):
            raise ValidationError(
                self.env._(
                    "Usage events already rated on an invoice cannot change; "
                    "record a correcting event instead."
                )
            )
        vals = dict(vals)
        if "properties_text" in vals:
            vals["properties"] = self._parse_properties(vals.pop("properties_text"))
        self._check_ids(vals)
        checked = {}
        try:
            if "idempotency_key" in vals:
                vals["idempotency_key"] = self._check_key(vals["idempotency_key"])
            if "timestamp" in vals:
                vals["timestamp"] = self._parse_timestamp(vals["timestamp"])
            metric_id = vals.get("metric_id")
            if metric_id is not None and (
                not isinstance(metric_id, int) or isinstance(metric_id, bool)
            ):
                raise UsageRefused(
                    "invalid_metric", self.env._("The event names no metric.")
                )
            if set(vals) & set(WHERE_FIELDS):
                self._check_moved(vals)
            for usage in self:
                checked = {
                    "quantity": vals.get("quantity", usage.quantity),
                    "properties": vals.get("properties", usage.properties),
                }
                metric = (
                    self.env["subscription.metric"].browse(metric_id)
                    if metric_id
                    else usage.metric_id
                )
                self._check_quantity(checked, metric)
        except UsageRefused as refusal:
            raise ValidationError(str(refusal)) from None
        for name in ("quantity", "properties"):
            if name in vals and checked:
                vals[name] = checked[name]
        return super().write(vals)

    def _check_moved(self, vals):
        """Check these events, with ``vals`` written, as ingestion would."""
        subs = self.subscription_id
        if vals.get("subscription_id"):
            subs |= subs.browse(vals["subscription_id"])
        context = self._ingest_context(subs)
        for usage in self:
            self._check_event(
                {
                    name: vals.get(name, usage[name])
                    for name in (
                        "quantity",
                        "properties",
                        "idempotency_key",
                        "timestamp",
                    )
                }
                | {
                    name: vals.get(name, usage[name].id)
                    for name in ("subscription_id", "metric_id")
                },
                context,
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if self.filtered("charge_id"):
            raise ValidationError(
                self.env._(
                    "Usage events already rated on an invoice cannot be deleted; "
                    "record a correcting event instead."
                )
            )

    # ------------------------------------------------------------------
    # Aggregation (billing)
    # ------------------------------------------------------------------

    @api.model
    def _aggregate(self, items):
        """Billed quantities of ``items``, in SQL, one query per metric.

        ``items``: :class:`~..tools.UsageQuery` (or tuples of its fields):
        subscription, metric, first day, last day, and ``values``: the list
        of event values too (the transactions of a percentage charge).
        Returns, in order, dicts with ``quantity`` (Decimal), ``count``
        (events counted) and ``transactions``.
        """
        items = [UsageQuery(*item) for item in items]
        results = [None] * len(items)
        by_metric = {}
        for index, item in enumerate(items):
            by_metric.setdefault(item.metric, []).append((index, item))
        self.env.flush_all()
        for metric, group in by_metric.items():
            if metric.aggregation == aggregation.WEIGHTED_SUM:
                self._aggregate_weighted(metric, group, results)
                continue
            want_values = any(item.values for __, item in group)
            # NUMERIC read as text: the exact decimals, not a float's digits.
            values = (
                SQL(
                    "ARRAY_AGG((%s)::text ORDER BY u.timestamp, u.id)",
                    metric._sql_value(),
                )
                if want_values and metric.aggregation == aggregation.SUM
                else SQL("NULL")
            )
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT v.k, COUNT(*), (%(aggregate)s)::text, %(values)s
                      FROM UNNEST(%(k)s::int[], %(s)s::int[], %(a)s::timestamp[],
                                  %(b)s::timestamp[]) AS v(k, sub, since, until)
                      JOIN subscription_usage u
                        ON u.subscription_id = v.sub AND u.metric_id = %(metric)s
                       AND u.timestamp >= v.since AND u.timestamp < v.until
                     WHERE %(filter)s
                     GROUP BY v.k
                    """,
                    aggregate=metric._sql_aggregate(),
                    values=values,
                    k=[index for index, __ in group],
                    s=[item.subscription.id for __, item in group],
                    a=[item.start for __, item in group],
                    b=[item.end + timedelta(days=1) for __, item in group],
                    metric=metric.id,
                    filter=metric._sql_filter(),
                )
            )
            for index, count, quantity, amounts in rows:
                # SQL aggregates skip NULL values (events without the
                # property): so do the transactions, which add up to the sum.
                quantity = self._numeric(quantity) or Decimal(0)
                transactions = (
                    None
                    if amounts is None or not items[index].values
                    else [
                        self._numeric(amount)
                        for amount in amounts
                        if amount is not None
                    ]
                )
                error = self._unrateable(metric, [quantity, *(transactions or ())])
                results[index] = {
                    "quantity": Decimal(0) if error else clean_decimal(quantity),
                    "count": count,
                    "transactions": None if error else transactions,
                    "error": error,
                }
            for index, item in group:
                if results[index] is None:
                    results[index] = {
                        "quantity": Decimal(0),
                        "count": 0,
                        "transactions": []
                        if item.values and metric.aggregation == aggregation.SUM
                        else None,
                        "error": False,
                    }
                elif results[index]["transactions"] is None and item.values:
                    results[index]["transactions"] = results[index]["count"]
        return results

    @api.model
    def _aggregate_weighted(self, metric, group, results):
        """Time-weighted sums, one query for the batch.

        Per item, the level at the period's start (the sum of all earlier
        changes, added up in SQL) then each change within the period, read
        as text (exact).
        """
        spans = {
            index: (
                datetime.combine(item.start, datetime.min.time()),
                datetime.combine(item.end + timedelta(days=1), datetime.min.time()),
            )
            for index, item in group
        }
        items = SQL(
            "UNNEST(%s::int[], %s::int[], %s::timestamp[], %s::timestamp[]) "
            "AS v(k, sub, since, until) JOIN subscription_usage u "
            "ON u.subscription_id = v.sub AND u.metric_id = %s",
            [index for index, __ in group],
            [item.subscription.id for __, item in group],
            [spans[index][0] for index, __ in group],
            [spans[index][1] for index, __ in group],
            metric.id,
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT v.k, NULL::timestamp, SUM(%(value)s)::text FROM %(items)s
                 WHERE u.timestamp < v.since AND %(filter)s GROUP BY v.k
                UNION ALL
                SELECT v.k, u.timestamp, (%(value)s)::text FROM %(items)s
                 WHERE u.timestamp >= v.since AND u.timestamp < v.until
                   AND %(filter)s
                ORDER BY 1, 2 NULLS FIRST
                """,
                value=metric._sql_value(),
                items=items,
                filter=metric._sql_filter(),
            )
        )
        initial = {}
        events = {index: [] for index in spans}
        for index, moment, value in rows:
            if moment is None:
                initial[index] = self._numeric(value) or Decimal(0)
            else:
                events[index].append(
                    {
                        "timestamp": moment,
                        "quantity": self._numeric(value) or Decimal(0),
                    }
                )
        for index, item in group:
            since, until = spans[index]
            level = initial.get(index, Decimal(0))
            error = self._unrateable(
                metric, [level, *(event["quantity"] for event in events[index])]
            )
            quantity = Decimal(0)
            if not error:
                try:
                    quantity = clean_decimal(
                        aggregation.weighted_sum(
                            events[index], since, until, initial=level
                        )
                    )
                except (ArithmeticError, aggregation.AggregationError) as exc:
                    error = self.env._(
                        "The usage of %(metric)s cannot be averaged over the "
                        "period: %(error)s",
                        metric=metric.code,
                        error=exc,
                    )
            results[index] = {
                "quantity": quantity,
                "count": len(events[index]),
                "transactions": len(events[index]) if item.values else None,
                "error": error,
            }

    @staticmethod
    def _numeric(text):
        """A ``NUMERIC`` read as text (``::text`` in SQL) as the exact Decimal.

        ``None`` (SQL NULL) stays ``None``; ``Infinity`` and ``NaN`` come back
        as such, for :meth:`_unrateable` to refuse.
        """
        return None if text is None else Decimal(text)

    @api.model
    def _unrateable(self, metric, values):
        """Why these aggregated ``values`` of ``metric`` cannot be rated, or
        ``False``: an event stored with an infinite or missing value (written
        past ingestion's checks) stops its own subscription, not the run."""
        for value in values:
            if not value.is_finite():
                return self.env._(
                    "The usage of %(metric)s in this period is not a finite number "
                    "(%(value)s): an event holds an infinite or invalid value. "
                    "Correct or delete that event, then bill again.",
                    metric=metric.code,
                    value=value,
                )
        return False
