# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
# ruff: noqa: E501 (the corpus is a table: one case a line)
"""Hostile inputs to usage ingestion, kept as a table-driven corpus.

Each bad event of ``EVENTS`` goes to the HTTP endpoint in a batch with a good
event: the good one must be accepted, the bad one refused with exactly its
code, and nothing of it written. ``BODIES`` are whole request bodies that are
refused with one JSON error. The events that plain JSON can carry go through
Odoo's JSON-2 API too, which must answer the same, without a traceback.

To add a case, add a line: ``(name, event, code)``. ``event`` is a dict of
values that replace (or, with ``DROP``, remove) those of a good event, or
``Whole(value)`` for an event sent as is; ``Raw(text)`` is JSON text sent
verbatim (numbers that Python's ``json`` cannot write).
"""

import json
from decimal import Decimal

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import UsageCommon

URL = "/subscription_billing/usage"
JSON2 = "/json/2/subscription.usage/ingest"
DROP = object()


class Whole:
    """An event sent as it is, not merged into a good event."""

    def __init__(self, value):
        self.value = value


class Raw:
    """JSON text written verbatim into the body (e.g. ``1e400``)."""

    def __init__(self, text):
        self.text = text


def nested(depth, leaf=1):
    value = leaf
    for __ in range(depth):
        value = {"a": value}
    return value


BIG_INT = "9" * 400
HUGE_INT = "9" * 5000
NUL = "\u0000"
SURROGATE = "\ud800"

EVENTS = [
    # The event itself
    ("event_string", Whole("not an event"), "invalid_event"),
    ("event_number", Whole(42), "invalid_event"),
    ("event_null", Whole(None), "invalid_event"),
    ("event_list", Whole([{"quantity": 1}]), "invalid_event"),
    ("event_true", Whole(True), "invalid_event"),
    ("event_empty", Whole({}), "missing_idempotency_key"),
    # Unknown fields
    ("field_unknown", {"extra": 1}, "unknown_field"),
    ("field_case", {"Quantity": 5}, "unknown_field"),
    ("field_nul", {"quantity" + NUL: 5}, "unknown_field"),
    ("field_surrogate", {SURROGATE: 1}, "unknown_field"),
    ("field_id", {"id": 5}, "unknown_field"),
    ("field_charge", {"charge_id": 1}, "unknown_field"),
    ("field_company", {"company_id": 1}, "unknown_field"),
    ("field_empty_name", {"": 1}, "unknown_field"),
    # Idempotency key
    ("key_missing", {"idempotency_key": DROP}, "missing_idempotency_key"),
    ("key_empty", {"idempotency_key": ""}, "missing_idempotency_key"),
    ("key_blank", {"idempotency_key": "   "}, "missing_idempotency_key"),
    ("key_null", {"idempotency_key": None}, "missing_idempotency_key"),
    ("key_int", {"idempotency_key": 123}, "invalid_idempotency_key"),
    ("key_float", {"idempotency_key": 1.5}, "invalid_idempotency_key"),
    ("key_true", {"idempotency_key": True}, "invalid_idempotency_key"),
    ("key_list", {"idempotency_key": ["k"]}, "invalid_idempotency_key"),
    ("key_object", {"idempotency_key": {"k": 1}}, "invalid_idempotency_key"),
    ("key_nul", {"idempotency_key": "k" + NUL + "1"}, "invalid_idempotency_key"),
    ("key_control", {"idempotency_key": "k\n1"}, "invalid_idempotency_key"),
    ("key_surrogate", {"idempotency_key": "k" + SURROGATE}, "invalid_idempotency_key"),
    ("key_256", {"idempotency_key": "k" * 256}, "invalid_idempotency_key"),
    ("key_100k", {"idempotency_key": "k" * 100_000}, "invalid_idempotency_key"),
    # Metric
    ("metric_missing", {"metric": DROP}, "unknown_metric"),
    ("metric_unknown", {"metric": "nope"}, "unknown_metric"),
    ("metric_empty", {"metric": ""}, "unknown_metric"),
    ("metric_case", {"metric": "API_CALLS"}, "unknown_metric"),
    ("metric_list", {"metric": ["api_calls"]}, "invalid_metric"),
    ("metric_object", {"metric": {"code": "api_calls"}}, "invalid_metric"),
    ("metric_int", {"metric": 42}, "invalid_metric"),
    ("metric_float", {"metric": 1.5}, "invalid_metric"),
    ("metric_true", {"metric": True}, "invalid_metric"),
    ("metric_nul", {"metric": "api" + NUL + "calls"}, "invalid_metric"),
    ("metric_surrogate", {"metric": SURROGATE}, "invalid_metric"),
    ("metric_10k", {"metric": "m" * 10_000}, "invalid_metric"),
    # Subscription
    ("sub_list", {"subscription": ["SUB"]}, "invalid_subscription"),
    ("sub_object", {"subscription": {"name": "SUB"}}, "invalid_subscription"),
    ("sub_float", {"subscription": 1.5}, "invalid_subscription"),
    ("sub_true", {"subscription": True}, "invalid_subscription"),
    ("sub_nul", {"subscription": "SUB" + NUL}, "invalid_subscription"),
    ("sub_surrogate", {"subscription": SURROGATE}, "invalid_subscription"),
    ("sub_10k", {"subscription": "S" * 10_000}, "invalid_subscription"),
    ("sub_int64", {"subscription": 2**63}, "invalid_subscription"),
    ("sub_int400", {"subscription": Raw(BIG_INT)}, "invalid_subscription"),
    ("sub_negative", {"subscription": -1}, "unknown_subscription"),
    ("sub_unknown_id", {"subscription": 2**31 - 1}, "unknown_subscription"),
    ("sub_unknown", {"subscription": "SUB/none"}, "unknown_subscription"),
    ("sub_none", {"subscription": DROP}, "unknown_subscription"),
    # Customer
    ("customer_list", {"customer": ["CUST-42"]}, "invalid_customer"),
    ("customer_object", {"customer": {"ref": "CUST-42"}}, "invalid_customer"),
    ("customer_int", {"customer": 42}, "invalid_customer"),
    ("customer_true", {"customer": True}, "invalid_customer"),
    ("customer_nul", {"customer": "CUST" + NUL}, "invalid_customer"),
    ("customer_surrogate", {"customer": SURROGATE}, "invalid_customer"),
    ("customer_10k", {"customer": "C" * 10_000}, "invalid_customer"),
    (
        "customer_list_only",
        {"subscription": DROP, "customer": ["CUST-42"]},
        "invalid_customer",
    ),
    (
        "customer_object_only",
        {"subscription": DROP, "customer": {"ref": "CUST-42"}},
        "invalid_customer",
    ),
    (
        "customer_nul_only",
        {"subscription": DROP, "customer": "CUST" + NUL},
        "invalid_customer",
    ),
    (
        "customer_unknown",
        {"subscription": DROP, "customer": "nobody"},
        "unknown_subscription",
    ),
    # Timestamp
    ("ts_missing", {"timestamp": DROP}, "invalid_timestamp"),
    ("ts_null", {"timestamp": None}, "invalid_timestamp"),
    ("ts_int", {"timestamp": 1_700_000_000}, "invalid_timestamp"),
    ("ts_true", {"timestamp": True}, "invalid_timestamp"),
    ("ts_list", {"timestamp": ["2026-03-01T00:00:00Z"]}, "invalid_timestamp"),
    ("ts_object", {"timestamp": {"at": "2026-03-01"}}, "invalid_timestamp"),
    ("ts_min_offset", {"timestamp": "0001-01-01T00:00:00+05:00"}, "invalid_timestamp"),
    ("ts_max_offset", {"timestamp": "9999-12-31T23:59:59-05:00"}, "invalid_timestamp"),
    ("ts_feb_30", {"timestamp": "2026-02-30T00:00:00Z"}, "invalid_timestamp"),
    ("ts_month_13", {"timestamp": "2026-13-01T00:00:00Z"}, "invalid_timestamp"),
    ("ts_hour_25", {"timestamp": "2026-03-01T25:00:00Z"}, "invalid_timestamp"),
    ("ts_offset_99", {"timestamp": "2026-03-01T00:00:00+99:00"}, "invalid_timestamp"),
    ("ts_word", {"timestamp": "yesterday"}, "invalid_timestamp"),
    ("ts_blank", {"timestamp": "   "}, "invalid_timestamp"),
    ("ts_number_text", {"timestamp": "1e5"}, "invalid_timestamp"),
    ("ts_nul", {"timestamp": NUL}, "invalid_timestamp"),
    ("ts_trailing_nul", {"timestamp": "2026-03-01T00:00:00" + NUL}, "invalid_timestamp"),
    ("ts_surrogate", {"timestamp": SURROGATE}, "invalid_timestamp"),
    ("ts_100k", {"timestamp": "2" * 100_000}, "invalid_timestamp"),
    ("ts_year_1", {"timestamp": "0001-01-01T00:00:00Z"}, "outside_subscription"),
    ("ts_year_9999", {"timestamp": "9999-12-31T23:59:59Z"}, "future_timestamp"),
    # Quantity: not numbers
    ("qty_text", {"quantity": "ten"}, "invalid_quantity"),
    ("qty_empty", {"quantity": ""}, "invalid_quantity"),
    ("qty_true", {"quantity": True}, "invalid_quantity"),
    ("qty_false", {"quantity": False}, "invalid_quantity"),
    ("qty_null", {"quantity": None}, "invalid_quantity"),
    ("qty_list", {"quantity": [1]}, "invalid_quantity"),
    ("qty_object", {"quantity": {"value": 1}}, "invalid_quantity"),
    ("qty_nan", {"quantity": float("nan")}, "invalid_quantity"),
    ("qty_inf", {"quantity": float("inf")}, "invalid_quantity"),
    ("qty_minus_inf", {"quantity": float("-inf")}, "invalid_quantity"),
    ("qty_text_nan", {"quantity": "nan"}, "invalid_quantity"),
    ("qty_text_inf", {"quantity": "Infinity"}, "invalid_quantity"),
    ("qty_underscore", {"quantity": "1_000"}, "invalid_quantity"),
    ("qty_arabic_digits", {"quantity": "\u0661\u0662"}, "invalid_quantity"),
    ("qty_hex", {"quantity": "0x10"}, "invalid_quantity"),
    ("qty_spaces", {"quantity": " 12 "}, "invalid_quantity"),
    ("qty_nul", {"quantity": "1" + NUL}, "invalid_quantity"),
    # Quantity: out of bounds
    ("qty_1e29", {"quantity": 1e29}, "quantity_too_large"),
    ("qty_1e308", {"quantity": 1e308}, "quantity_too_large"),
    ("qty_400_digits", {"quantity": Raw(BIG_INT)}, "quantity_too_large"),
    ("qty_5000_digits", {"quantity": Raw(HUGE_INT)}, "quantity_too_large"),
    ("qty_1e400", {"quantity": Raw("1e400")}, "quantity_too_large"),
    ("qty_text_1e29", {"quantity": "1e29"}, "quantity_too_large"),
    ("qty_over_max", {"quantity": 1_000_000_001}, "quantity_too_large"),
    ("qty_long_decimal", {"quantity": Raw("12345678901234567890.5")}, "quantity_too_large"),
    ("qty_1e-7", {"quantity": 1e-7}, "too_many_decimals"),
    ("qty_7_decimals", {"quantity": 0.1234567}, "too_many_decimals"),
    ("qty_exact_tail", {"quantity": Raw("0.10000000000000000000001")}, "too_many_decimals"),
    ("qty_1e-400", {"quantity": Raw("1e-400")}, "too_many_decimals"),
    ("qty_negative", {"quantity": -1}, "negative_quantity"),
    ("qty_minus_1e308", {"quantity": -1e308}, "negative_quantity"),
    ("units_decimal", {"metric": "units", "quantity": 1.5}, "too_many_decimals"),
    ("units_over_max", {"metric": "units", "quantity": 1001}, "quantity_too_large"),
    ("seats_minus_1e308", {"metric": "seats", "quantity": -1e308}, "quantity_too_large"),
    ("seats_1e16", {"metric": "seats", "quantity": 1e16}, "quantity_too_large"),
    # Properties: shape and characters
    ("props_text", {"properties": "user=u1"}, "invalid_properties"),
    ("props_list", {"properties": [1, 2]}, "invalid_properties"),
    ("props_number", {"properties": 42}, "invalid_properties"),
    ("props_true", {"properties": True}, "invalid_properties"),
    ("props_key_nul", {"properties": {"a" + NUL: 1}}, "invalid_properties"),
    ("props_value_nul", {"properties": {"a": "b" + NUL}}, "invalid_properties"),
    ("props_nested_nul", {"properties": {"a": ["x", {"y": NUL}]}}, "invalid_properties"),
    ("props_key_surrogate", {"properties": {SURROGATE: 1}}, "invalid_properties"),
    ("props_value_surrogate", {"properties": {"a": "\udfff"}}, "invalid_properties"),
    ("props_nan", {"properties": {"a": float("nan")}}, "invalid_properties"),
    ("props_inf", {"properties": {"a": float("inf")}}, "invalid_properties"),
    ("props_1e400", {"properties": {"a": Raw("1e400")}}, "invalid_properties"),
    ("props_inexact", {"properties": {"a": Raw("0.1000000000000000000001")}}, "invalid_properties"),
    ("props_huge_int", {"properties": {"a": Raw(HUGE_INT)}}, "invalid_properties"),
    # Properties: limits
    ("props_51", {"properties": {f"p{n}": n for n in range(51)}}, "too_many_properties"),
    ("props_key_101", {"properties": {"k" * 101: 1}}, "property_too_long"),
    ("props_value_1001", {"properties": {"a": "v" * 1001}}, "property_too_long"),
    ("props_value_1mb", {"properties": {"a": "v" * 1_000_000}}, "property_too_long"),
    ("props_nested_long", {"properties": {"a": ["v" * 2000]}}, "property_too_long"),
    ("props_depth_6", {"properties": nested(6)}, "properties_too_deep"),
    ("props_depth_500", {"properties": {"a": Raw("[" * 500 + "]" * 500)}}, "properties_too_deep"),
    ("props_20kb", {"properties": {f"p{n}": "v" * 500 for n in range(40)}}, "properties_too_large"),
    ("props_long_list", {"properties": {"a": list(range(10_000))}}, "properties_too_large"),
    # Properties: the value a metric bills
    ("amount_missing", {"metric": "amount"}, "missing_property"),
    ("amount_text", {"metric": "amount", "properties": {"amount": "ten"}}, "invalid_property"),
    ("amount_underscore", {"metric": "amount", "properties": {"amount": "1_000"}}, "invalid_property"),
    ("amount_arabic", {"metric": "amount", "properties": {"amount": "\u0661"}}, "invalid_property"),
    ("amount_spaces", {"metric": "amount", "properties": {"amount": " 12"}}, "invalid_property"),
    ("amount_text_inf", {"metric": "amount", "properties": {"amount": "Infinity"}}, "invalid_property"),
    ("amount_true", {"metric": "amount", "properties": {"amount": True}}, "invalid_property"),
    ("amount_null", {"metric": "amount", "properties": {"amount": None}}, "invalid_property"),
    ("amount_list", {"metric": "amount", "properties": {"amount": [1]}}, "invalid_property"),
    ("amount_1e29", {"metric": "amount", "properties": {"amount": 1e29}}, "quantity_too_large"),
    ("amount_text_1e400", {"metric": "amount", "properties": {"amount": "1e400"}}, "quantity_too_large"),
    ("amount_7_decimals", {"metric": "amount", "properties": {"amount": 0.1234567}}, "too_many_decimals"),
    ("amount_negative", {"metric": "amount", "properties": {"amount": -5}}, "negative_quantity"),
]  # fmt: skip

# Whole bodies: (name, raw body, HTTP status, error code). Nothing is written.
BODIES = [
    ("body_not_json", b"{not json", 400, "invalid_json"),
    ("body_trailing", b'{"events": []} x', 400, "invalid_json"),
    ("body_not_utf8", b'{"events": ["\xff\xfe"]}', 400, "invalid_json"),
    ("body_empty", b"", 400, "invalid_body"),
    ("body_null", b"null", 400, "invalid_body"),
    ("body_list", b"[]", 400, "invalid_body"),
    ("body_string", b'"events"', 400, "invalid_body"),
    ("body_events_object", b'{"events": {}}', 400, "invalid_body"),
    ("body_events_string", b'{"events": "x"}', 400, "invalid_body"),
    ("body_events_null", b'{"events": null}', 400, "invalid_body"),
    ("body_unknown_field", b'{"events": [], "extra": 1}', 400, "invalid_body"),
    ("body_nul_field", b'{"events": [], "events\\u0000": 1}', 400, "invalid_body"),
    ("body_deep_lists", b"[" * 100_000 + b"]" * 100_000, 400, "json_too_deep"),
    (
        "body_deep_event",
        b'{"events": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        400,
        "json_too_deep",
    ),
    ("body_11mb", b'{"events": [], "x": "' + b"x" * 11_000_000 + b'"}', 413, "body_too_large"),
]  # fmt: skip

# Whole bodies over JSON-2 (subscription.usage/ingest): one clean JSON error.
JSON2_BODIES = [
    ("json2_deep_lists", b"[" * 100_000 + b"]" * 100_000, 400, "json_too_deep"),
    (
        "json2_deep_event",
        b'{"events": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        400,
        "json_too_deep",
    ),
    ("json2_5000_digits", b'{"events": [{"quantity": ' + HUGE_INT.encode() + b"}]}", 400, "invalid_json"),
    ("json2_not_json", b"{not json", 400, "invalid_json"),
    ("json2_11mb", b'{"events": [], "x": "' + b"x" * 11_000_000 + b'"}', 413, "body_too_large"),
]  # fmt: skip


def dumps(value):
    """JSON of ``value``, with the ``Raw`` parts written verbatim."""
    raws = []

    def default(part):
        if isinstance(part, Raw):
            raws.append(part.text)
            return f"@raw{len(raws) - 1}@"
        raise TypeError(part)

    text = json.dumps(value, default=default)
    for index, raw in enumerate(raws):
        text = text.replace(f'"@raw{index}@"', raw)
    return text


def has_raw(value):
    try:
        json.dumps(value)
    except TypeError:
        return True
    return False


@tagged("post_install", "-at_install")
class TestUsageHostile(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        income = cls.env.company.income_account_id or cls.env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        product = cls.env["product.product"].create(
            {
                "name": "Usage",
                "type": "service",
                "property_account_income_id": income.id,
            }
        )
        Metric = cls.env["subscription.metric"]
        metrics = [
            Metric.create({"name": "API calls", "code": "api_calls"}),
            Metric.create({"name": "Amount", "code": "amount", "field_name": "amount"}),
            Metric.create(
                {"name": "Seats", "code": "seats", "aggregation": "weighted_sum"}
            ),
            Metric.create(
                {
                    "name": "Units",
                    "code": "units",
                    "quantity_decimals": 0,
                    "max_quantity": 1000,
                }
            ),
        ]
        plan = cls.env["subscription.plan"].create(
            {
                "name": "Metered",
                "line_ids": [
                    Command.create(
                        {
                            "line_type": "usage",
                            "product_id": product.id,
                            "metric_id": metric.id,
                            "charge_model": "standard",
                            "usage_unit_price": 0.05,
                        }
                    )
                    for metric in metrics
                ],
            }
        )
        customer = cls.env["res.partner"].create({"name": "Initech", "ref": "CUST-42"})
        cls.sub = cls.env["subscription.subscription"].create(
            {
                "partner_id": customer.id,
                "plan_id": plan.id,
                "date_start": fields.Date.today().replace(day=1),
            }
        )
        cls.sub.action_start()
        integration = new_test_user(
            cls.env,
            login="usage_feed",
            groups="subscription_billing.group_subscription_user",
        )
        cls.key = (
            cls.env["res.users.apikeys"]
            .with_user(integration)
            .sudo()
            ._generate(None, "usage feed", None)
        )

    def _good(self, key):
        return {
            "idempotency_key": key,
            "subscription": self.sub.name,
            "metric": "api_calls",
            "timestamp": f"{fields.Date.today()}T00:00:00Z",
            "quantity": 1,
        }

    def _bad(self, index, change):
        if isinstance(change, Whole):
            return change.value
        event = self._good(f"bad-{index}")
        for name, value in change.items():
            if value is DROP:
                event.pop(name, None)
            else:
                event[name] = value
        return event

    def _post(self, url, body):
        return self.url_open(
            url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.key}",
            },
            timeout=60,
            method="POST",
        )

    def _count(self):
        return self.env["subscription.usage"].sudo().search_count([])

    def _run_events(self, url, cases, prefix):
        """Mismatches of ``cases`` at ``url``: ``[]`` when every one is clean."""
        mismatches = []
        for index, (name, change, code) in enumerate(cases):
            before = self._count()
            body = {
                "events": [self._good(f"{prefix}-{index}"), self._bad(index, change)]
            }
            response = self._post(url, dumps(body))
            written = self._count() - before
            got = f"HTTP {response.status_code}"
            answers = None
            if response.status_code == 200:
                answers = response.json()
                answers = answers if url == JSON2 else answers["results"]
                got = [answer.get("code", answer["status"]) for answer in answers]
            clean = (
                answers is not None
                and got == ["accepted", code]
                and written == 1
                and "Traceback" not in response.text
            )
            if not clean:
                mismatches.append((name, code, got, written))
        return mismatches

    def test_hostile_events_are_refused_one_by_one(self):
        self.assertGreaterEqual(len(EVENTS), 100)
        self.assertEqual(len({name for name, *__ in EVENTS}), len(EVENTS))
        mismatches = self._run_events(URL, EVENTS, "good")
        self.assertEqual(mismatches, [], f"{len(mismatches)} of {len(EVENTS)} bad")

    def test_hostile_events_over_json2(self):
        cases = [case for case in EVENTS if not has_raw(case[1])]
        self.assertGreaterEqual(len(cases), 100)
        mismatches = self._run_events(JSON2, cases, "json2")
        self.assertEqual(mismatches, [], f"{len(mismatches)} of {len(cases)} bad")

    def test_hostile_bodies_get_one_json_error(self):
        mismatches = []
        for name, body, status, code in BODIES:
            before = self._count()
            response = self._post(URL, body)
            try:
                error = response.json()["error"]["code"]
            except (ValueError, KeyError, TypeError):
                error = None
            if (response.status_code, error) != (
                status,
                code,
            ) or self._count() != before:
                mismatches.append((name, status, code, response.status_code, error))
        self.assertEqual(mismatches, [])

    def test_hostile_bodies_over_json2(self):
        mismatches = []
        for name, body, status, code in JSON2_BODIES:
            before = self._count()
            response = self._post(JSON2, body)
            try:
                error = response.json().get("code")
            except (ValueError, AttributeError):
                error = None
            if (
                (response.status_code, error) != (status, code)
                or "Traceback" in response.text
                or self._count() != before
            ):
                mismatches.append((name, status, code, response.status_code, error))
        self.assertEqual(mismatches, [])

    def test_events_at_the_limits_are_accepted(self):
        today = fields.Date.today()
        at_limits = [
            {"idempotency_key": "k" * 255},
            {"quantity": 1_000_000_000},
            {"quantity": Raw("999999999.999999")},
            {"quantity": "0.000001"},
            {"metric": "units", "quantity": 1000},
            {"metric": "seats", "quantity": -1_000_000_000},
            {"metric": "amount", "properties": {"amount": "999999999.5"}},
            {"timestamp": f"{today}T01:00:00+01:00"},
            {"properties": {f"p{n}": n for n in range(50)}},
            {"properties": {"k" * 100: "v" * 1000}},
            {"properties": nested(5)},
            {"properties": {f"p{n}": "v" * 1000 for n in range(8)}},
            {"properties": {"a": Raw("9" * 30), "b": 0.1, "c": Raw("1E+3")}},
            {"properties": {"text": "line\nbreak, é, 日本"}},
        ]
        body = {
            "events": [
                {**self._good(f"limit-{index}"), **change}
                for index, change in enumerate(at_limits)
            ]
        }
        before = self._count()
        response = self._post(URL, dumps(body))
        answers = response.json()["results"]
        self.assertEqual(
            [a.get("code", a["status"]) for a in answers],
            ["accepted"] * len(at_limits),
        )
        self.assertEqual(self._count() - before, len(at_limits))
        usage = self.env["subscription.usage"].browse(answers[12]["id"])
        self.assertEqual(usage.properties, {"a": int("9" * 30), "b": 0.1, "c": 1000})

    def test_quantities_are_stored_exactly(self):
        body = {
            "events": [
                {**self._good("exact-1"), "quantity": Raw("123456789.123456")},
                {**self._good("exact-2"), "quantity": Raw("2.675")},
                {**self._good("exact-3"), "quantity": Raw("1E+9")},
            ]
        }
        answers = self._post(URL, dumps(body)).json()["results"]
        self.assertEqual([a["status"] for a in answers], ["accepted"] * 3)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT quantity::text FROM subscription_usage WHERE id = ANY(%s) "
            "ORDER BY id",
            [[a["id"] for a in answers]],
        )
        self.assertEqual(
            [Decimal(q) for (q,) in self.env.cr.fetchall()],
            [Decimal("123456789.123456"), Decimal("2.675"), Decimal("1000000000")],
        )
        # A retry of the same exact events is the same answer.
        self.assertEqual(self._post(URL, dumps(body)).json()["results"], answers)

    def test_json2_create_and_write_are_checked(self):
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.key}",
        }
        metric = self.env["subscription.metric"].search([("code", "=", "api_calls")])
        vals = {
            "subscription_id": self.sub.id,
            "metric_id": metric.id,
            "timestamp": f"{fields.Date.today()} 00:00:00",
            "idempotency_key": "json2-create",
        }
        before = self._count()
        for bad in (
            {"quantity": 1e308},
            {"quantity": 1e-7},
            {"properties": {"a": NUL}},
            {"properties": {"a": "v" * 1001}},
            {"properties_text": "{not json"},
            {"idempotency_key": "k" + NUL},
            {"timestamp": "0001-01-01T00:00:00+05:00"},
            {"subscription_id": [self.sub.id]},
        ):
            with self.subTest(bad=shown_keys(bad)), mute_logger("odoo.http"):
                response = self.url_open(
                    "/json/2/subscription.usage/create",
                    data=json.dumps({"vals_list": [{**vals, **bad}]}),
                    headers=headers,
                )
                self.assertEqual(response.status_code, 422, response.text[:300])
                self.assertIn("ValidationError", response.json()["name"])
        self.assertEqual(self._count(), before)
        response = self.url_open(
            "/json/2/subscription.usage/create",
            data=json.dumps({"vals_list": [vals]}),
            headers=headers,
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        [usage_id] = response.json()
        with mute_logger("odoo.http"):
            response = self.url_open(
                "/json/2/subscription.usage/write",
                data=json.dumps({"ids": [usage_id], "vals": {"quantity": 1e29}}),
                headers=headers,
            )
        self.assertEqual(response.status_code, 422, response.text[:300])
        usage = self.env["subscription.usage"].browse(usage_id)
        self.assertEqual(usage.quantity, 1.0)


def shown_keys(values):
    return ", ".join(sorted(values))


@tagged("post_install", "-at_install")
class TestUsageHostileOrm(UsageCommon):
    """create() and write() outside ingestion, and CSV imports."""

    def setUp(self):
        super().setUp()
        self.sub = self._start()
        self.Usage = self.env["subscription.usage"].with_user(self.billing_user)
        self.vals = {
            "subscription_id": self.sub.id,
            "metric_id": self.metric_api.id,
            "timestamp": "2026-03-05 10:00:00",
            "quantity": 1,
            "idempotency_key": "orm",
        }

    @freeze_time("2026-03-10")
    def test_create_refuses_hostile_values(self):
        cases = [
            ({"quantity": 1e29}, "larger than the metric"),
            ({"quantity": 1e308}, "larger than the metric"),
            ({"quantity": 10**400}, "larger than the metric"),
            ({"quantity": Decimal("1e400")}, "larger than the metric"),
            ({"quantity": 0.1234567}, "more decimals"),
            ({"quantity": float("inf")}, "not a number"),
            ({"quantity": float("nan")}, "not a number"),
            ({"quantity": "1_000"}, "not a number"),
            ({"properties": {"a": NUL}}, "cannot be stored"),
            ({"properties": {"a": float("nan")}}, "kept exactly"),
            ({"properties": {"a": "v" * 1001}}, "at most 1000 characters"),
            ({"properties": nested(6)}, "at most 5 levels"),
            ({"properties": [1]}, "must be a JSON object"),
            ({"properties_text": "{bad"}, "not valid JSON"),
            ({"properties_text": "[" * 100_000}, "not valid JSON"),
            ({"properties_text": '{"a": 1e400}'}, "kept exactly"),
            ({"idempotency_key": "k" + NUL}, "control characters"),
            ({"idempotency_key": 42}, "control characters"),
            ({"idempotency_key": "k" * 256}, "at most 255"),
            ({"timestamp": "0001-01-01T00:00:00+05:00"}, "not an ISO 8601"),
            ({"timestamp": "2026-02-30 00:00:00"}, "not an ISO 8601"),
            ({"subscription_id": "SUB"}, "no valid Subscription"),
            ({"metric_id": 2**40}, "no valid Metric"),
        ]
        for values, message in cases:
            with (
                self.subTest(values=shown_keys(values)),
                self.assertRaisesRegex(ValidationError, message),
            ):
                self.Usage.create({**self.vals, **values})
        self.assertFalse(self.sub.usage_ids)
        usage = self.Usage.create(
            {**self.vals, "quantity": "2.5", "properties_text": '{"a": 0.1, "b": 7}'}
        )
        self.assertEqual(usage.quantity, 2.5)
        self.assertEqual(usage.properties, {"a": 0.1, "b": 7})

    @freeze_time("2026-03-10")
    def test_create_leaves_the_callers_values_alone(self):
        vals = {**self.vals, "properties_text": "{bad"}
        with self.assertRaisesRegex(ValidationError, "not valid JSON"):
            self.Usage.create(vals)
        self.assertEqual(vals, {**self.vals, "properties_text": "{bad"})
        with self.assertRaisesRegex(ValidationError, "not valid JSON"):
            self.Usage.create(vals)  # a retry with the same values: the same error
        self.assertFalse(self.sub.usage_ids)

    @freeze_time("2026-03-10")
    def test_csv_import_with_a_bad_row_writes_nothing(self):
        names = [
            "subscription_id",
            "metric_id",
            "timestamp",
            "quantity",
            "idempotency_key",
            "properties_text",
        ]
        good = [self.sub.name, "api_calls", "2026-03-04 10:00:00", "5", "csv-1", ""]
        for bad, message in (
            (["2026-03-04 11:00:00", "5", "csv-2", '{"user": '], "not valid JSON"),
            (["2026-03-04 11:00:00", "5", "csv-2", '"u1"'], "JSON object"),
            (["2026-03-04 11:00:00", "5", "csv-2", '{"a": "\\u0000"}'], "stored"),
            (["2026-03-04 11:00:00", "1e308", "csv-2", ""], "larger than"),
            (["2026-03-04 11:00:00", "inf", "csv-2", ""], "not a number"),
            (["2026-03-04 11:00:00", "0.1234567", "csv-2", ""], "decimals"),
        ):
            with self.subTest(bad=bad):
                result = self.Usage.load(
                    names, [good, [self.sub.name, "api_calls", *bad]]
                )
                self.assertFalse(result["ids"], "nothing of the file is written")
                errors = [m for m in result["messages"] if m["type"] == "error"]
                self.assertTrue(errors)
                self.assertIn(message, errors[-1]["message"])
                self.assertEqual(errors[-1]["record"], 1, "the bad row is named")
        self.sub.invalidate_recordset()
        self.assertFalse(self.sub.usage_ids)

    @freeze_time("2026-03-10")
    def test_write_is_checked(self):
        usage = self.Usage.create(dict(self.vals))
        for values, message in (
            ({"quantity": 1e308}, "larger than"),
            ({"quantity": -1}, "negative"),
            ({"quantity": 0.1234567}, "decimals"),
            ({"properties": {"a": NUL}}, "cannot be stored"),
            ({"properties_text": "[1]"}, "JSON object"),
            ({"properties_text": "{bad"}, "not valid JSON"),
            ({"idempotency_key": "k" + NUL}, "control characters"),
            ({"timestamp": "9999-12-31T23:59:59-05:00"}, "not an ISO 8601"),
        ):
            with (
                self.subTest(values=shown_keys(values)),
                self.assertRaisesRegex(ValidationError, message),
            ):
                usage.write(values)
        self.assertEqual(usage.quantity, 1.0)
        self.assertFalse(usage.properties)
        usage.write({"quantity": 4.25, "properties_text": '{"user": "u1"}'})
        self.assertEqual(usage.quantity, 4.25)
        self.assertEqual(usage.properties, {"user": "u1"})

    def test_metric_bounds_are_configured_in_the_form(self):
        with Form(self.env["subscription.metric"]) as form:
            form.name = "Storage"
            form.code = "storage_gb"
            self.assertEqual(form.quantity_decimals, 6)
            self.assertEqual(form.max_quantity, 1e9)
            form.quantity_decimals = 3
            form.max_quantity = 1e12
        metric = form.record
        self.assertEqual(metric._quantity_bounds(), (Decimal("1e12"), 3))
        for values in (
            {"quantity_decimals": 7},
            {"quantity_decimals": -1},
            {"quantity_decimals": 3, "max_quantity": 1e13},
            {"quantity_decimals": 0, "max_quantity": 1e16},
            {"max_quantity": 0},
        ):
            with (
                self.subTest(values=values),
                self.assertRaisesRegex(ValidationError, "significant digits"),
            ):
                metric.write(values)
