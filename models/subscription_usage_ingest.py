# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Ingestion of usage events (``subscription.usage.ingest``, the batch API
behind the HTTP endpoint): each event is recorded once, checked against its
subscription, its metric and the limits of ``subscription_usage.py``, and
answered (accepted, duplicate, or refused with a code)."""

import json
import math
from datetime import UTC, date, datetime, time
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..const import MAX_BATCH, RUNNING_STATES
from ..core import aggregation
from ..core.rating.base import to_decimal
from .subscription_usage import (
    ACCEPTED,
    BAD_IDENTIFIER_CHARS,
    BAD_PROPERTY_CHARS,
    CHECKED_SUB_FIELDS,
    CLOCK_SKEW,
    DUPLICATE,
    EVENT_FIELDS,
    MAX_ID,
    MAX_KEY_LENGTH,
    MAX_PROPERTIES,
    MAX_PROPERTIES_DEPTH,
    MAX_PROPERTIES_SIZE,
    MAX_PROPERTY_INT_BITS,
    MAX_PROPERTY_KEY_LENGTH,
    MAX_PROPERTY_VALUE_LENGTH,
    MAX_REFERENCE_LENGTH,
    MAX_TIMESTAMP_LENGTH,
    REFUSED,
    UsageRefused,
    decimal_places,
    shown,
    to_number,
)


class SubscriptionUsage(models.Model):
    _inherit = "subscription.usage"

    # ------------------------------------------------------------------
    # Ingestion
    # ------------------------------------------------------------------

    @api.model
    def ingest(self, events):
        """Record a batch of events; answer each one.

        ``events``: list of dicts with ``idempotency_key``, ``metric`` (code),
        ``subscription`` (reference or id) or ``customer`` (the customer's
        reference), ``timestamp`` (ISO 8601, UTC when without offset),
        ``quantity`` (default 1) and ``properties`` (object).

        Returns, in order, ``{"idempotency_key", "status", "id"}`` with the
        status ``accepted`` (also when the same event is sent again:
        retries get the same answer), ``duplicate`` (the key is taken by a
        different event, or repeated in the batch) or ``refused`` with a
        ``code`` and a ``message``. Accepted events are written together,
        in this transaction: all of them or, on error, none. Any value of an
        event is answered this way, never by an error of the batch (limits
        and codes: README, "Usage ingestion"); the batch itself must be a
        list of at most ``MAX_BATCH`` events.
        """
        self.check_access("create")
        if not isinstance(events, list):
            raise ValidationError(self.env._("Send the events as a list."))
        if len(events) > MAX_BATCH:
            raise ValidationError(
                self.env._(
                    "A batch holds at most %(max)s events (got %(count)s): split it.",
                    max=MAX_BATCH,
                    count=len(events),
                )
            )
        subs = self._resolve_subscriptions(events)
        context = self._ingest_context(subs)
        metrics = self._resolve_metrics(events)
        answers = []
        rows = []
        seen = {}
        for event in events:
            key = event.get("idempotency_key") if isinstance(event, dict) else None
            # Echoed only when it is a key: never a hostile value back.
            answer = {"idempotency_key": key if self._valid_text(key) else None}
            answers.append(answer)
            try:
                vals = self._event_vals(event, subs, metrics)
                self._check_event(vals, context)
            except UsageRefused as refusal:
                answer.update(status=REFUSED, code=refusal.code, message=str(refusal))
                continue
            batch_key = (vals["company_id"], vals["idempotency_key"])
            if batch_key in seen:
                answer.update(
                    status=DUPLICATE,
                    message=self.env._("Repeats an earlier event of this batch."),
                )
                continue
            seen[batch_key] = answer
            rows.append(vals)
        written = self._insert_events(rows)
        clashes = [
            vals
            for vals in rows
            if (vals["company_id"], vals["idempotency_key"]) not in written
        ]
        existing = self._existing_events(clashes)
        for vals in rows:
            batch_key = (vals["company_id"], vals["idempotency_key"])
            answer = seen[batch_key]
            if batch_key in written:
                answer.update(status=ACCEPTED, id=written[batch_key])
                continue
            usage_id, payload = existing[batch_key]
            if payload == self._payload(vals):
                # The same event again (a retry): the same answer.
                answer.update(status=ACCEPTED, id=usage_id)
            else:
                answer.update(
                    status=DUPLICATE,
                    id=usage_id,
                    message=self.env._(
                        "The idempotency key %(key)s is already used by another "
                        "event; this one was not recorded.",
                        key=vals["idempotency_key"],
                    ),
                )
        return answers

    @api.model
    def _valid_text(self, value, limit=MAX_KEY_LENGTH):
        """Whether ``value`` is text that may name something: not empty, at most
        ``limit`` characters, without control characters or lone surrogates."""
        return (
            isinstance(value, str)
            and 0 < len(value) <= limit
            and not BAD_IDENTIFIER_CHARS.search(value)
        )

    @api.model
    def _resolve_subscriptions(self, events):
        """Subscriptions named by the events, by id, reference or customer ref.

        Values that cannot name a subscription are left out here and refused
        per event by :meth:`_event_subscription`.
        """
        Sub = self.env["subscription.subscription"]
        names, ids, refs = set(), set(), set()
        for event in events:
            if not isinstance(event, dict):
                continue
            value = event.get("subscription")
            if isinstance(value, int) and not isinstance(value, bool):
                if 0 < value <= MAX_ID:
                    ids.add(value)
            elif self._valid_text(value, MAX_REFERENCE_LENGTH):
                names.add(value)
            elif self._valid_text(event.get("customer"), MAX_REFERENCE_LENGTH):
                refs.add(event["customer"])
        domain = [("id", "in", list(ids))] if ids else [("id", "=", False)]
        if names:
            domain = ["|", ("name", "in", list(names)), *domain]
        subs = Sub.search_fetch(domain, CHECKED_SUB_FIELDS) if ids or names else Sub
        by_name = {}
        for sub in subs:
            by_name[sub.name] = by_name.get(sub.name, Sub) | sub
        by_customer = {}
        if refs:
            for sub in Sub.search_fetch(
                [
                    ("commercial_partner_id.ref", "in", list(refs)),
                    ("state", "in", RUNNING_STATES),
                ],
                [*CHECKED_SUB_FIELDS, "commercial_partner_id"],
            ):
                by_customer.setdefault(sub.commercial_partner_id.ref, Sub)
                by_customer[sub.commercial_partner_id.ref] |= sub
                subs |= sub
        return {
            "by_id": {sub.id: sub for sub in subs},
            "by_name": by_name,
            "by_customer": by_customer,
            "records": subs,
        }

    @api.model
    def _resolve_metrics(self, events):
        codes = {
            event.get("metric")
            for event in events
            if isinstance(event, dict)
            and self._valid_text(event.get("metric"), MAX_REFERENCE_LENGTH)
        }
        metrics = self.env["subscription.metric"].search([("code", "in", list(codes))])
        by_code = {}
        for metric in metrics:
            by_code.setdefault(metric.code, []).append(metric)
        return by_code

    @api.model
    def _ingest_context(self, subs):
        """What checking events of ``subs`` needs, read once.

        Billing runs lock subscriptions ``FOR NO KEY UPDATE``, which the key
        share lock of an event's insert does not wait for: ingestion never
        stalls behind billing. An event committed while its period is being
        invoiced is not rated by that run (which reads its own snapshot and
        marks only what it rated): it stays unrated and goes to the next
        invoice as late usage. Nothing is lost, nothing is rated twice.
        """
        subs = subs["records"] if isinstance(subs, dict) else subs
        if not subs:
            return {}
        lines = self.env["subscription.line"].search_fetch(
            [("subscription_id", "in", subs.ids), ("line_type", "=", "usage")],
            ["subscription_id", "metric_id", "date_start", "date_end"],
        )
        metrics_of = {}
        for line in lines:
            metrics_of.setdefault(line.subscription_id.id, {}).setdefault(
                line.metric_id.id, []
            ).append((line.date_start, line.date_end))
        return {
            "metrics_of": metrics_of,
            "now": fields.Datetime.now(),
            "sub_ids": set(subs.exists().ids),
            "metric_ids": set(lines.metric_id.ids),
        }

    def _event_vals(self, event, subs, metrics):
        """Values of a new event from its JSON form, or :class:`UsageRefused`."""
        if not isinstance(event, dict):
            raise UsageRefused(
                "invalid_event", self.env._("An event must be a JSON object.")
            )
        unknown = [name for name in event if name not in EVENT_FIELDS]
        if unknown:
            raise UsageRefused(
                "unknown_field",
                self.env._(
                    "Unknown field %(field)s: an event has only %(fields)s.",
                    field=shown(unknown[0]),
                    fields=", ".join(EVENT_FIELDS),
                ),
            )
        key = self._check_key(event.get("idempotency_key"))
        sub = self._event_subscription(event, subs)
        code = event.get("metric")
        if code not in (None, "") and not self._valid_text(code, MAX_REFERENCE_LENGTH):
            raise UsageRefused(
                "invalid_metric",
                self.env._(
                    "The metric must be given by its code, as text of at most "
                    "%(max)s characters (got %(value)s).",
                    max=MAX_REFERENCE_LENGTH,
                    value=shown(code),
                ),
            )
        company = sub.company_id
        choice = (code, company.id)  # codes are strings: no clash with the codes
        if choice not in metrics:
            metrics[choice] = [
                m
                for m in metrics.get(code, ())
                if not m.company_id or m.company_id == company
            ]
        candidates = metrics[choice]
        if not candidates:
            raise UsageRefused(
                "unknown_metric",
                self.env._(
                    "Unknown metric %(metric)s: use the code of a billable metric.",
                    metric=shown(code),
                ),
            )
        metric = candidates[0]
        return {
            "company_id": company.id,
            "subscription_id": sub.id,
            "metric_id": metric.id,
            "timestamp": self._parse_timestamp(event.get("timestamp")),
            "quantity": event.get("quantity", 1),
            "properties": event.get("properties"),
            "idempotency_key": key,
        }

    def _check_key(self, key):
        """The idempotency key, stripped, or :class:`UsageRefused`."""
        if key is None or key is False or (isinstance(key, str) and not key.strip()):
            raise UsageRefused(
                "missing_idempotency_key",
                self.env._(
                    "The event has no idempotency_key: give each event a unique "
                    "key, so that a retry cannot count it twice."
                ),
            )
        if not self._valid_text(key, MAX_KEY_LENGTH):
            raise UsageRefused(
                "invalid_idempotency_key",
                self.env._(
                    "The idempotency key must be text of at most %(max)s "
                    "characters, without control characters (got %(value)s).",
                    max=MAX_KEY_LENGTH,
                    value=shown(key),
                ),
            )
        return key.strip()

    def _event_subscription(self, event, subs):
        value = event.get("subscription")
        ref = event.get("customer")
        if ref not in (None, "") and not self._valid_text(ref, MAX_REFERENCE_LENGTH):
            raise UsageRefused(
                "invalid_customer",
                self.env._(
                    "The customer must be given by their reference, as text of at "
                    "most %(max)s characters (got %(value)s).",
                    max=MAX_REFERENCE_LENGTH,
                    value=shown(ref),
                ),
            )
        if value not in (None, ""):
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and value <= MAX_ID
            ):
                sub = subs["by_id"].get(value)
            elif self._valid_text(value, MAX_REFERENCE_LENGTH):
                sub = subs["by_name"].get(value)
                if sub and len(sub) > 1:
                    # The same reference in several companies of the user.
                    raise UsageRefused(
                        "ambiguous_subscription",
                        self.env._(
                            "Several subscriptions are named %(sub)s (%(companies)s): "
                            "name the subscription by its id.",
                            sub=shown(value),
                            companies=", ".join(sub.company_id.mapped("name")),
                        ),
                    )
            else:
                raise UsageRefused(
                    "invalid_subscription",
                    self.env._(
                        "The subscription must be given by its reference (text of "
                        "at most %(max)s characters) or its id (got %(value)s).",
                        max=MAX_REFERENCE_LENGTH,
                        value=shown(value),
                    ),
                )
            if not sub:
                raise UsageRefused(
                    "unknown_subscription",
                    self.env._(
                        "Unknown subscription %(sub)s: use its reference or id.",
                        sub=shown(value),
                    ),
                )
            return sub
        if not ref:
            raise UsageRefused(
                "unknown_subscription",
                self.env._(
                    "Name the subscription (reference or id) or the customer's "
                    "reference."
                ),
            )
        found = subs["by_customer"].get(ref)
        if not found:
            raise UsageRefused(
                "unknown_subscription",
                self.env._(
                    "No running subscription for the customer reference %(ref)s.",
                    ref=shown(ref),
                ),
            )
        if len(found) > 1:
            metric = event.get("metric")
            billing = found.filtered(
                lambda s: (
                    metric
                    in s.line_ids.filtered(
                        lambda line: line.line_type == "usage"
                    ).metric_id.mapped("code")
                )
            )
            if len(billing) != 1:
                raise UsageRefused(
                    "ambiguous_customer",
                    self.env._(
                        "The customer %(ref)s has several subscriptions (%(subs)s): "
                        "name the subscription.",
                        ref=shown(ref),
                        subs=", ".join(found.mapped("name")),
                    ),
                )
            found = billing
        return found

    def _parse_timestamp(self, value):
        """A naive UTC datetime, or :class:`UsageRefused`.

        Text in ISO 8601 (UTC when without offset) or a datetime; a date and
        time that exists in UTC (not before year 1, not after year 9999).
        """

        def refused():  # built only when refused: translating costs
            return UsageRefused(
                "invalid_timestamp",
                self.env._(
                    "The timestamp %(value)s is not an ISO 8601 date and time "
                    "(e.g. 2026-03-14T09:30:00Z).",
                    value=shown(value),
                ),
            )

        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time.min)
        elif isinstance(value, str) and value.strip():
            text = value.strip()
            if len(text) > MAX_TIMESTAMP_LENGTH or not text.isascii():
                raise refused()
            if BAD_IDENTIFIER_CHARS.search(text):
                raise refused()
            try:
                moment = datetime.fromisoformat(
                    text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
                )
            except ValueError:
                raise refused() from None
        else:
            raise UsageRefused(
                "invalid_timestamp",
                self.env._(
                    "The event has no timestamp: give its date and time in ISO "
                    "8601 (e.g. 2026-03-14T09:30:00Z)."
                ),
            )
        if moment.tzinfo is not None:
            try:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            except (OverflowError, ValueError):
                # 0001-01-01T00:00:00+05:00 is before year 1 in UTC.
                raise refused() from None
        return moment.replace(microsecond=0)

    def _check_event(self, vals, context):
        """Refuse an event that cannot be billed as given (:class:`UsageRefused`)."""
        sub = self.env["subscription.subscription"].browse(vals.get("subscription_id"))
        metric = self.env["subscription.metric"].browse(vals.get("metric_id"))
        # Known to exist: read once for the whole batch by _ingest_context.
        if not sub or (sub.id not in context.get("sub_ids", ()) and not sub.exists()):
            raise UsageRefused(
                "unknown_subscription", self.env._("The event names no subscription.")
            )
        if not metric or (
            metric.id not in context.get("metric_ids", ()) and not metric.exists()
        ):
            raise UsageRefused(
                "unknown_metric", self.env._("The event names no metric.")
            )
        vals["idempotency_key"] = self._check_key(vals.get("idempotency_key"))
        moment = vals.get("timestamp") or fields.Datetime.now()
        if not isinstance(moment, datetime):
            moment = vals["timestamp"] = self._parse_timestamp(moment)
        now = context.get("now") or fields.Datetime.now()
        if moment > now + CLOCK_SKEW:
            raise UsageRefused(
                "future_timestamp",
                self.env._(
                    "The timestamp %(moment)s (UTC) is in the future: usage is "
                    "recorded once it happened.",
                    moment=moment,
                ),
            )
        self._check_quantity(vals, metric)
        if metric.id not in context.get("metrics_of", {}).get(sub.id, ()):
            raise UsageRefused(
                "metric_not_billed",
                self.env._(
                    "Subscription %(sub)s does not bill the metric %(metric)s: add a "
                    "usage line for it before sending its events.",
                    sub=sub.name,
                    metric=metric.code,
                ),
            )
        self._check_life(sub, moment)
        day = moment.date()
        if not any(
            (not start or start <= day) and (not end or day <= end)
            for start, end in context["metrics_of"][sub.id][metric.id]
        ):
            raise UsageRefused(
                "metric_not_billed",
                self.env._(
                    "Subscription %(sub)s does not bill the metric %(metric)s on "
                    "%(day)s (a change or a pause stopped it).",
                    sub=sub.name,
                    metric=metric.code,
                    day=day,
                ),
            )

    def _check_quantity(self, vals, metric):
        """Check the quantity and the properties of ``vals`` for ``metric``;
        leave them in ``vals`` as they are stored (the quantity exact)."""
        quantity = vals.get("quantity", 1)
        number = to_number(quantity)
        if number is None:
            raise UsageRefused(
                "invalid_quantity",
                self.env._(
                    "The quantity %(value)s is not a number.", value=shown(quantity)
                ),
            )
        vals["quantity"] = self._check_bounds(number, metric)
        properties = vals["properties"] = self._clean_properties(vals.get("properties"))
        if not metric.field_name:
            return
        if metric.field_name not in (properties or {}):
            raise UsageRefused(
                "missing_property",
                self.env._(
                    "The metric %(metric)s needs the property %(property)r, "
                    "which this event lacks.",
                    metric=metric.code,
                    property=metric.field_name,
                ),
            )
        if metric.aggregation in (
            aggregation.SUM,
            aggregation.MAX,
            aggregation.LATEST,
            aggregation.WEIGHTED_SUM,
        ):
            # Read in SQL as (properties ->> field)::numeric: a plain number.
            value = properties[metric.field_name]
            number = to_number(value)
            if number is None:
                raise UsageRefused(
                    "invalid_property",
                    self.env._(
                        "The property %(property)r must be a number for the "
                        "metric %(metric)s (got %(value)s).",
                        property=metric.field_name,
                        metric=metric.code,
                        value=shown(value),
                    ),
                )
            self._check_bounds(number, metric, metric.field_name)

    def _check_bounds(self, number, metric, prop=None):
        """``number`` if ``metric`` takes it (sign, magnitude, decimals)."""

        def what():  # built only when refused: translating costs
            if prop:
                return self.env._("The property %(property)r", property=prop)
            return self.env._("The quantity")

        if number < 0 and metric.aggregation != aggregation.WEIGHTED_SUM:
            raise UsageRefused(
                "negative_quantity",
                self.env._(
                    "%(what)s %(value)s is negative: usage of %(metric)s cannot "
                    "be taken back (only time-weighted metrics take decreases).",
                    what=what(),
                    value=shown(number),
                    metric=metric.code,
                ),
            )
        limit, decimals = metric._quantity_bounds()
        if abs(number) > limit:
            raise UsageRefused(
                "quantity_too_large",
                self.env._(
                    "%(what)s %(value)s is larger than the metric %(metric)s takes "
                    "in one event (at most %(max)s).",
                    what=what(),
                    value=shown(number),
                    metric=metric.code,
                    max=limit,
                ),
            )
        if decimal_places(number) > decimals:
            raise UsageRefused(
                "too_many_decimals",
                self.env._(
                    "%(what)s %(value)s has more decimals than the metric "
                    "%(metric)s keeps (%(decimals)s).",
                    what=what(),
                    value=shown(number),
                    metric=metric.code,
                    decimals=decimals,
                ),
            )
        return number

    def _clean_properties(self, properties):
        """The properties as stored (``False`` for none), or :class:`UsageRefused`.

        A JSON object within the limits: at most ``MAX_PROPERTIES`` keys and
        ``MAX_PROPERTIES_DEPTH`` levels, keys of ``MAX_PROPERTY_KEY_LENGTH``
        and texts of ``MAX_PROPERTY_VALUE_LENGTH`` characters, without NUL or
        lone surrogates, finite numbers kept exactly, ``MAX_PROPERTIES_SIZE``
        bytes in all. Read without recursion: any nesting is safe to check.
        """
        if properties is None or properties is False:
            return False
        if not isinstance(properties, dict):
            raise UsageRefused(
                "invalid_properties",
                self.env._("The properties must be a JSON object."),
            )
        if not properties:
            return False
        if len(properties) > MAX_PROPERTIES:
            raise UsageRefused(
                "too_many_properties",
                self.env._(
                    "An event has at most %(max)s properties (got %(count)s).",
                    max=MAX_PROPERTIES,
                    count=len(properties),
                ),
            )
        bound, exact = self._check_property_tree(properties)
        cleaned = self._exact_properties(properties) if exact else properties
        if bound > MAX_PROPERTIES_SIZE:
            text = json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False)
            if len(text.encode()) > MAX_PROPERTIES_SIZE:
                raise self._properties_too_large()
        return cleaned

    def _check_property_tree(self, properties):
        """Check every node of ``properties`` (without recursion); answer an
        upper bound of their size as compact JSON (6 bytes a character, as
        ``\\uXXXX``, with quotes and separators: the JSON is written out only
        when this bound is over the limit) and whether numbers read as
        Decimal are to be converted."""
        stack = [(properties, 1)]
        nodes = 0
        bound = 0
        exact = False  # whether numbers read as Decimal are to be converted
        while stack:
            value, depth = stack.pop()
            nodes += 1
            if nodes > MAX_PROPERTIES_SIZE:
                raise self._properties_too_large()
            if isinstance(value, str):
                if len(value) > MAX_PROPERTY_VALUE_LENGTH or BAD_PROPERTY_CHARS.search(
                    value
                ):
                    self._check_property_text(value, MAX_PROPERTY_VALUE_LENGTH)
                bound += 6 * len(value) + 3
            elif isinstance(value, dict | list):
                if depth > MAX_PROPERTIES_DEPTH:
                    raise UsageRefused(
                        "properties_too_deep",
                        self.env._(
                            "The properties nest at most %(max)s levels deep.",
                            max=MAX_PROPERTIES_DEPTH,
                        ),
                    )
                bound += 3
                if isinstance(value, dict):
                    for name in value:
                        if (
                            not isinstance(name, str)
                            or len(name) > MAX_PROPERTY_KEY_LENGTH
                            or BAD_PROPERTY_CHARS.search(name)
                        ):
                            self._check_property_text(name, MAX_PROPERTY_KEY_LENGTH)
                        bound += 6 * len(name) + 4
                    stack.extend((item, depth + 1) for item in value.values())
                else:
                    stack.extend((item, depth + 1) for item in value)
            elif isinstance(value, bool) or value is None:
                bound += 6
            else:
                self._property_number(value)
                exact = exact or isinstance(value, Decimal)
                bound += 40
        return bound, exact

    def _properties_too_large(self):
        return UsageRefused(
            "properties_too_large",
            self.env._(
                "The properties of an event take at most %(max)s bytes as JSON.",
                max=MAX_PROPERTIES_SIZE,
            ),
        )

    def _check_property_text(self, text, limit):
        if not isinstance(text, str) or BAD_PROPERTY_CHARS.search(text):
            raise UsageRefused(
                "invalid_properties",
                self.env._(
                    "The property %(value)s holds a character that cannot be "
                    "stored (NUL or a lone surrogate).",
                    value=shown(text),
                ),
            )
        if len(text) > limit:
            raise UsageRefused(
                "property_too_long",
                self.env._(
                    "A property name or text is at most %(max)s characters (got "
                    "%(count)s).",
                    max=limit,
                    count=len(text),
                ),
            )

    def _property_number(self, value):
        """A number of the properties as stored: an exact int or float."""

        def refused():  # built only when refused: translating costs
            return UsageRefused(
                "invalid_properties",
                self.env._(
                    "The property value %(value)s is not a number that can be kept "
                    "exactly: send a finite number of at most 15 significant "
                    "digits, an integer of at most 30 digits, or text.",
                    value=shown(value),
                ),
            )

        if isinstance(value, int):
            if value.bit_length() > MAX_PROPERTY_INT_BITS:
                raise refused()
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise refused()
            return value
        if not isinstance(value, Decimal) or not value.is_finite():
            raise refused()
        __, digits, exponent = value.as_tuple()
        if exponent >= 0:  # an integer: exact as an int
            if len(digits) + exponent > 30:
                raise refused()
            return int(value)
        number = float(value)
        if not math.isfinite(number) or to_decimal(number) != value:
            raise refused()
        return number

    def _exact_properties(self, value):
        """``value`` with its numbers as :meth:`_property_number` keeps them
        (called once the nesting is known to be shallow)."""
        if isinstance(value, dict):
            return {name: self._exact_properties(item) for name, item in value.items()}
        if isinstance(value, list):
            return [self._exact_properties(item) for item in value]
        if isinstance(value, str | bool) or value is None:
            return value
        return self._property_number(value)

    def _check_life(self, sub, moment):
        if sub.state == "draft":
            raise UsageRefused(
                "subscription_not_started",
                self.env._("Subscription %(sub)s is not started yet.", sub=sub.name),
            )
        day = moment.date()
        if day < sub.date_start or (sub.date_end and day > sub.date_end):
            raise UsageRefused(
                "outside_subscription",
                self.env._(
                    "The event of %(moment)s is outside the life of subscription "
                    "%(sub)s (%(start)s → %(end)s).",
                    moment=moment,
                    sub=sub.name,
                    start=sub.date_start,
                    end=sub.date_end or "…",
                ),
            )
        if sub.usage_invoiced_until and day <= sub.usage_invoiced_until:
            if sub.plan_id.late_usage_policy == "refuse":
                raise UsageRefused(
                    "late_usage",
                    self.env._(
                        "The usage of subscription %(sub)s is invoiced until "
                        "%(until)s; its plan refuses late events.",
                        sub=sub.name,
                        until=sub.usage_invoiced_until,
                    ),
                )
            if not sub.next_invoice_date:
                raise UsageRefused(
                    "late_usage",
                    self.env._(
                        "Subscription %(sub)s is invoiced in full: no invoice is "
                        "left to carry this late event.",
                        sub=sub.name,
                    ),
                )

    @api.model
    def _payload(self, vals):
        properties = vals.get("properties") or {}
        return (
            vals["subscription_id"],
            vals["metric_id"],
            fields.Datetime.to_datetime(vals["timestamp"]),
            self._exact_quantity(vals.get("quantity", 1)),
            json.dumps(properties, sort_keys=True),
        )

    @api.model
    def _exact_quantity(self, quantity):
        number = to_number(quantity)
        return number.normalize() if number is not None else None

    @api.model
    def _insert_events(self, rows):
        """Insert ``rows`` at once; ``{(company, key): id}`` of those written."""
        if not rows:
            return {}
        uid = self.env.uid
        self.env.flush_all()
        # Two requests sending the same new events at once: the second one
        # gets a serialization failure here, and Odoo's RPC and HTTP layers
        # retry it; the retry answers "accepted" (a replay). Not an error.
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO subscription_usage
                       (company_id, subscription_id, metric_id, timestamp, quantity,
                        properties, idempotency_key, create_uid, write_uid,
                        create_date, write_date)
                SELECT c, s, m, t, q, p, k, %(uid)s, %(uid)s,
                       NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                  FROM UNNEST(%(c)s::int[], %(s)s::int[], %(m)s::int[],
                              %(t)s::timestamp[], %(q)s::numeric[], %(p)s::jsonb[],
                              %(k)s::varchar[]) AS v(c, s, m, t, q, p, k)
                ON CONFLICT (company_id, idempotency_key) DO NOTHING
                RETURNING company_id, idempotency_key, id
                """,
                uid=uid,
                c=[vals["company_id"] for vals in rows],
                s=[vals["subscription_id"] for vals in rows],
                m=[vals["metric_id"] for vals in rows],
                t=[vals["timestamp"] for vals in rows],
                q=[vals["quantity"] for vals in rows],
                p=[
                    json.dumps(vals["properties"]) if vals["properties"] else None
                    for vals in rows
                ],
                k=[vals["idempotency_key"] for vals in rows],
            ),
            log_exceptions=False,
        )
        result = self.env.cr.fetchall()
        self.env["subscription.subscription"].invalidate_model(
            ["usage_ids", "usage_count"]
        )
        return {(company, key): usage_id for company, key, usage_id in result}

    @api.model
    def _existing_events(self, rows):
        if not rows:
            return {}
        result = self.env.execute_query(
            SQL(
                """
                SELECT u.company_id, u.idempotency_key, u.id, u.subscription_id,
                       u.metric_id, u.timestamp, u.quantity::text, u.properties
                  FROM subscription_usage u
                  JOIN UNNEST(%s::int[], %s::varchar[]) AS v(c, k)
                    ON u.company_id = v.c AND u.idempotency_key = v.k
                """,
                [vals["company_id"] for vals in rows],
                [vals["idempotency_key"] for vals in rows],
            )
        )
        return {
            (company, key): (
                usage_id,
                self._payload(
                    {
                        "subscription_id": sub_id,
                        "metric_id": metric_id,
                        "timestamp": moment,
                        "quantity": quantity,
                        "properties": properties,
                    }
                ),
            )
            for (
                company,
                key,
                usage_id,
                sub_id,
                metric_id,
                moment,
                quantity,
                properties,
            ) in result
        }
