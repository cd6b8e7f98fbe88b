# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Usage-based billing end to end: metrics, ingestion, rating, invoices."""

from datetime import date
from decimal import Decimal

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from ..core import rating
from ..models.subscription_line_mixin import (
    CHARGE_MODEL_FIELDS,
    CHARGE_MODEL_SELECTION,
    TIER_FIELDS,
)
from .common import UsageCommon


@tagged("post_install", "-at_install")
class TestUsageBilling(UsageCommon):
    def test_metric_aggregations_in_sql(self):
        Metric = self.env["subscription.metric"]
        metrics = {
            aggregation: Metric.create(
                {
                    "name": aggregation,
                    "code": f"pv_{aggregation}",
                    "aggregation": aggregation,
                    "field_name": "user"
                    if aggregation == "unique_count"
                    else ("pageviews" if aggregation in ("sum", "max") else False),
                }
            )
            for aggregation in ("count", "sum", "max", "unique_count", "latest")
        }
        plan = self._create_usage_plan(
            "Analytics",
            lines=[
                self._usage_line(metric, charge_model="standard", tier_ids=[])
                for metric in metrics.values()
            ],
        )
        sub = self._start(plan)
        with freeze_time("2026-03-20"):
            for aggregation in ("count", "sum", "max", "unique_count"):
                answers = self._send(
                    sub,
                    [
                        (
                            f"{aggregation}-1",
                            "2026-03-02T10:00:00Z",
                            1,
                            {"pageviews": 10, "user": "u1"},
                        ),
                        (
                            f"{aggregation}-2",
                            "2026-03-02T11:00:00Z",
                            1,
                            {"pageviews": 20, "user": "u1"},
                        ),
                    ],
                    metric=f"pv_{aggregation}",
                )
                self.assertEqual([a["status"] for a in answers], ["accepted"] * 2)
            self._send(
                sub,
                [
                    ("latest-1", "2026-03-03T10:00:00", 5),
                    ("latest-2", "2026-03-04T10:00:00", 7),
                    ("latest-3", "2026-03-05T10:00:00", 6),
                ],
                metric="pv_latest",
            )
        results = self.env["subscription.usage"]._aggregate(
            [
                (sub, metric, date(2026, 3, 1), date(2026, 3, 31), False)
                for metric in metrics.values()
            ]
        )
        quantities = dict(zip(metrics, (r["quantity"] for r in results), strict=True))
        self.assertEqual(
            quantities,
            {"count": 2, "sum": 30, "max": 20, "unique_count": 1, "latest": 6},
        )

    def test_usage_invoice_explains_graduated_tiers(self):
        sub = self._start()
        self.assertTrue(sub.has_usage)
        with freeze_time("2026-03-31 12:00:00"):
            answers = self._send(
                sub,
                [
                    ("e1", "2026-03-02T08:00:00Z", 5000),
                    ("e2", "2026-03-15T08:00:00+02:00", 5000),
                    ("e3", "2026-03-31T11:59:59", 5000),
                ],
            )
        self.assertEqual({a["status"] for a in answers}, {"accepted"})
        self._bill("2026-04-01")
        march, april = self._invoices(sub)
        self.assertEqual(march.amount_untaxed, 20.0, "no usage before March ends")
        usage_line = april.invoice_line_ids.filtered("subscription_usage_details")
        self.assertEqual(usage_line.price_unit, 600.0)
        self.assertEqual(
            usage_line.name,
            "API calls — 03/01/2026 → 03/31/2026: 15,000 — "
            "1,000 × 0.10 + 9,000 × 0.05 + 5,000 × 0.01",
        )
        self.assertEqual(april.amount_untaxed, 620.0)
        details = usage_line.subscription_usage_details
        self.assertEqual(
            [(t["units"], t["unit_price"], t["amount"]) for t in details["tiers"]],
            [
                ("1000", "0.1", "100.0"),
                ("9000", "0.05", "450.00"),
                ("5000", "0.01", "50.00"),
            ],
        )
        charge = sub.usage_charge_ids
        self.assertEqual(charge.quantity, 15000)
        self.assertEqual(charge.amount, 600.0)
        self.assertEqual(charge.invoice_line_id, usage_line)
        self.assertEqual(charge.event_count, 3)
        self.assertEqual(april.subscription_usage_charge_ids, charge)
        self.assertEqual(sub.usage_ids.charge_id, charge, "every event is rated once")
        self.assertEqual(sub.usage_invoiced_until, date(2026, 3, 31))
        self.assertEqual(sub.next_invoice_date, date(2026, 5, 1))
        # Running again bills nothing more.
        with self._assert_no_new_invoices():
            self._bill("2026-04-01")

    def test_retry_gets_the_same_answer_and_counts_once(self):
        sub = self._start()
        batch = [
            ("r1", "2026-03-02T08:00:00Z", 100),
            ("r2", "2026-03-03T08:00:00Z", 200),
            ("r2", "2026-03-03T08:00:00Z", 200),
        ]
        with freeze_time("2026-03-10"):
            first = self._send(sub, batch)
            second = self._send(sub, batch)
            # The same key for a different event is a duplicate, not counted.
            clash = self._send(sub, [("r1", "2026-03-04T08:00:00Z", 999)])
        self.assertEqual(first, second)
        self.assertEqual(
            [a["status"] for a in first], ["accepted", "accepted", "duplicate"]
        )
        self.assertEqual(clash[0]["status"], "duplicate")
        self.assertEqual(sub.usage_count, 2)
        self.assertEqual(sum(sub.usage_ids.mapped("quantity")), 300)

    def test_bad_events_are_refused_one_by_one_and_nothing_else_is_lost(self):
        sub = self._start()
        draft = self._create_subscription(plan=self.plan_usage)
        seats = self.env["subscription.metric"].create(
            {
                "name": "Users",
                "code": "users",
                "aggregation": "unique_count",
                "field_name": "user",
            }
        )
        sub.line_ids = [self._usage_line(seats, charge_model="standard", tier_ids=[])]
        good = {"subscription": sub.name, "metric": "api_calls", "quantity": 1}
        batch = [
            {**good, "idempotency_key": "ok-1", "timestamp": "2026-03-05T10:00:00Z"},
            {
                **good,
                "idempotency_key": "b1",
                "metric": "nope",
                "timestamp": "2026-03-05",
            },
            {
                **good,
                "idempotency_key": "b2",
                "subscription": "SUB/0000",
                "timestamp": "2026-03-05",
            },
            {
                **good,
                "idempotency_key": "b3",
                "quantity": -5,
                "timestamp": "2026-03-05",
            },
            {
                **good,
                "idempotency_key": "b4",
                "quantity": "ten",
                "timestamp": "2026-03-05",
            },
            {**good, "idempotency_key": "b5", "timestamp": "2026-04-30T00:00:00Z"},
            {**good, "idempotency_key": "b6", "timestamp": "yesterday"},
            {**good, "timestamp": "2026-03-05"},
            {
                **good,
                "idempotency_key": "b8",
                "metric": "users",
                "timestamp": "2026-03-05",
            },
            {**good, "idempotency_key": "b9", "timestamp": "2026-02-27T10:00:00Z"},
            {
                **good,
                "idempotency_key": "b10",
                "subscription": draft.name,
                "timestamp": "2026-03-05",
            },
            "not an event",
            {**good, "idempotency_key": "ok-2", "timestamp": "2026-03-06T10:00:00Z"},
        ]
        with freeze_time("2026-03-10"):
            answers = (
                self.env["subscription.usage"]
                .with_user(self.billing_user)
                .ingest(batch)
            )
        codes = [a.get("code", a["status"]) for a in answers]
        self.assertEqual(
            codes,
            [
                "accepted",
                "unknown_metric",
                "unknown_subscription",
                "negative_quantity",
                "invalid_quantity",
                "future_timestamp",
                "invalid_timestamp",
                "missing_idempotency_key",
                "missing_property",
                "outside_subscription",
                "subscription_not_started",
                "invalid_event",
                "accepted",
            ],
        )
        self.assertTrue(
            all(a.get("message") for a in answers if a["status"] == "refused")
        )
        self.assertEqual(
            sorted(sub.usage_ids.mapped("idempotency_key")), ["ok-1", "ok-2"]
        )
        with self.assertRaisesRegex(ValidationError, "at most 1000"):
            self.env["subscription.usage"].ingest([{}] * 1001)

    def test_orm_create_checks_events(self):
        sub = self._start()
        Usage = self.env["subscription.usage"].with_user(self.billing_user)
        with freeze_time("2026-03-10"):
            event = Usage.create(
                {
                    "subscription_id": sub.id,
                    "metric_id": self.metric_api.id,
                    "timestamp": "2026-03-05 10:00:00",
                    "quantity": 42,
                    "idempotency_key": "orm-1",
                }
            )
            self.assertEqual(event.company_id, sub.company_id)
            with self.assertRaisesRegex(ValidationError, "negative"):
                Usage.create(
                    {
                        "subscription_id": sub.id,
                        "metric_id": self.metric_api.id,
                        "quantity": -1,
                        "idempotency_key": "orm-2",
                    }
                )

    def test_csv_import_through_load(self):
        sub = self._start()
        Usage = self.env["subscription.usage"].with_user(self.billing_user)
        fields = [
            "subscription_id",
            "metric_id",
            "timestamp",
            "quantity",
            "idempotency_key",
        ]
        with freeze_time("2026-03-10"):
            result = Usage.load(
                fields,
                [
                    [sub.name, "api_calls", "2026-03-02 10:00:00", "10", "csv-1"],
                    [sub.name, "API calls", "2026-03-03 10:00:00", "15", "csv-2"],
                ],
            )
            self.assertFalse(result["messages"])
            self.assertEqual(len(result["ids"]), 2)
            # One bad row: the import stops and writes nothing of its file.
            with mute_logger("odoo.sql_db"):
                bad = Usage.load(
                    fields,
                    [
                        [sub.name, "api_calls", "2026-03-04 10:00:00", "5", "csv-3"],
                        [sub.name, "api_calls", "2026-03-04 11:00:00", "-5", "csv-4"],
                    ],
                )
        self.assertFalse(bad["ids"])
        self.assertIn("negative", bad["messages"][0]["message"])
        self.assertEqual(
            sorted(sub.usage_ids.mapped("idempotency_key")), ["csv-1", "csv-2"]
        )

    def test_late_event_goes_to_the_next_invoice_as_a_dated_line(self):
        sub = self._start()
        with freeze_time("2026-03-31"):
            self._send(sub, [("a", "2026-03-10T00:00:00Z", 15000)])
        self._bill("2026-04-01")
        with freeze_time("2026-04-05"):
            answers = self._send(sub, [("late", "2026-03-20T00:00:00Z", 1000)])
        self.assertEqual(answers[0]["status"], "accepted")
        self._bill("2026-05-01")
        may = self._invoices(sub)[-1]
        late_line = may.invoice_line_ids.filtered(
            lambda line: line.subscription_period_start == date(2026, 3, 1)
        )
        self.assertEqual(late_line.price_unit, 10.0, "1,000 more units at 0.01")
        self.assertIn("late usage 03/01/2026 → 03/31/2026: 16,000", late_line.name)
        self.assertIn("instead of 15,000", late_line.name)
        self.assertIn("600.00 already invoiced", late_line.name)
        april_line = may.invoice_line_ids.filtered(
            lambda line: (
                line.subscription_period_start == date(2026, 4, 1)
                and line.subscription_usage_details
            )
        )
        self.assertEqual(april_line.price_unit, 0.0)
        self.assertTrue(all(sub.usage_ids.mapped("charge_id")))
        # Nothing is rated twice: the next run adds no late line.
        self._bill("2026-06-01")
        june = self._invoices(sub)[-1]
        self.assertFalse(
            june.invoice_line_ids.filtered(
                lambda line: line.subscription_period_start == date(2026, 3, 1)
            )
        )

    def test_late_events_refused_by_plan_policy(self):
        plan = self._create_usage_plan("Strict", late_usage_policy="refuse")
        sub = self._start(plan)
        self._bill("2026-04-01")
        with freeze_time("2026-04-05"):
            answers = self._send(sub, [("late", "2026-03-20T00:00:00Z", 1)])
        self.assertEqual(answers[0]["code"], "late_usage")
        self.assertFalse(sub.usage_ids)

    def test_allowance_carries_over_with_cap_and_expiry(self):
        plan = self._create_usage_plan(
            "Allowance",
            lines=[
                self._usage_line(
                    charge_model="standard",
                    tier_ids=[],
                    usage_unit_price=0.01,
                    included_units=1000,
                    carry_over=True,
                    carry_over_cap=1500,
                    carry_over_expiry=2,
                )
            ],
        )
        sub = self._start(plan)
        usage = {3: 200, 4: 300, 5: 4000, 6: 0}
        for month, quantity in usage.items():
            with freeze_time(f"2026-{month:02d}-28"):
                self._send(
                    sub, [(f"m{month}", f"2026-{month:02d}-10T00:00:00Z", quantity)]
                )
            self._bill(f"2026-{month + 1:02d}-01")
        rows = [
            (
                c.usage_start.month,
                c.included,
                c.carried_in,
                c.allowance_used,
                c.expired,
                c.carried_out,
                c.billed_units,
                c.amount,
            )
            for c in sub.usage_charge_ids.sorted("usage_start")
        ]
        self.assertEqual(
            rows,
            [
                # March: 800 unused roll over.
                (3, 1000, 0, 200, 0, 800, 0, 0.0),
                # April: 300 from March's 800; 500 + 1,000 = 1,500 (the cap).
                (4, 1000, 800, 300, 0, 1500, 0, 0.0),
                # May: 1,500 carried + 1,000 included used; 1,500 billed.
                (5, 1000, 1500, 2500, 0, 0, 1500, 15.0),
                # June: nothing used, May's grant was fully used: 1,000 out.
                (6, 1000, 0, 0, 0, 1000, 0, 0.0),
            ],
        )
        may_line = sub.usage_charge_ids.filtered(lambda c: c.usage_start.month == 5)
        self.assertIn("2,500 included + 1,500 × 0.01", may_line.invoice_line_id.name)

    def test_minimum_spend_true_up(self):
        plan = self._create_usage_plan(
            "Committed",
            lines=[
                self._usage_line(
                    charge_model="standard", tier_ids=[], usage_unit_price=0.05
                )
            ],
            minimum_spend=100.0,
        )
        sub = self._start(plan)
        with freeze_time("2026-03-31"):
            self._send(sub, [("u", "2026-03-10T00:00:00Z", 1000)])
        self._bill("2026-04-01")
        april = self._invoices(sub)[-1]
        usage_line = april.invoice_line_ids.filtered("subscription_usage_details")
        self.assertEqual(usage_line.price_unit, 50.0, "1,000 units × 0.05")
        true_up = april.invoice_line_ids.filtered(
            lambda line: line.name.startswith("Minimum spend true-up")
        )
        self.assertEqual(true_up.price_unit, 50.0)
        self.assertEqual(april.amount_untaxed, 20.0 + 100.0)

    def test_weighted_sum_for_seats(self):
        seats = self.env["subscription.metric"].create(
            {"name": "Seats", "code": "seats", "aggregation": "weighted_sum"}
        )
        plan = self._create_usage_plan(
            "Seats",
            lines=[
                self._usage_line(
                    seats, charge_model="standard", tier_ids=[], usage_unit_price=2
                )
            ],
        )
        sub = self._start(plan, start="2026-04-01")
        with freeze_time("2026-04-29"):
            self._send(
                sub,
                [
                    ("s1", "2026-04-01T00:00:00Z", 10),
                    ("s2", "2026-04-16T00:00:00Z", 10),
                ],
                metric="seats",
            )
        self._bill("2026-05-01")
        charge = sub.usage_charge_ids
        self.assertEqual(charge.quantity, 15, "10 seats all month, 10 more for half")
        self.assertEqual(charge.amount, 30.0)
        # May starts at the level April ended with, without any new event.
        self._bill("2026-06-01")
        may = sub.usage_charge_ids.filtered(lambda c: c.usage_start.month == 5)
        self.assertEqual(may.quantity, 20)
        self.assertEqual(may.amount, 40.0)

    def test_preview_next_invoice_writes_nothing(self):
        sub = self._start()
        self._bill("2026-03-01")
        with freeze_time("2026-03-20"):
            self._send(sub, [("p", "2026-03-10T00:00:00Z", 2000)])
            counts = {
                model: self.env[model].search_count([])
                for model in (
                    "account.move",
                    "subscription.period",
                    "subscription.usage.charge",
                )
            }
            preview = sub.with_user(self.billing_user).preview_next_invoice()
            self.assertEqual(preview["invoice_date"], "2026-04-01")
            self.assertEqual(
                [line["subtotal"] for line in preview["lines"]], [20.0, 150.0]
            )
            self.assertEqual(preview["usage"][0]["quantity"], 2000.0)
            self.assertEqual(preview["amount_untaxed"], 170.0)
            self.assertIn(
                "1,000 × 0.10 + 1,000 × 0.05", preview["usage"][0]["explanation"]
            )
            html = (
                self.env["subscription.preview.wizard"]
                .new({"subscription_id": sub.id})
                .preview
            )
            self.assertIn("Apr 1, 2026", html)
            self.assertEqual(
                counts,
                {model: self.env[model].search_count([]) for model in counts},
            )
        self.assertFalse(sub.usage_ids.charge_id)

    def test_paid_option_added_by_staff(self):
        option_product = self._create_product(
            name="Priority support", lst_price=15.0, type="service"
        )
        plan = self._create_plan("With options", price=20.0)
        plan.line_ids = [
            Command.create(
                {
                    "product_id": option_product.id,
                    "price_unit": 15.0,
                    "is_optional": True,
                }
            )
        ]
        self.assertEqual(
            plan.recurring_amount, 20.0, "options are not in the base price"
        )
        sub = self._start(plan)
        self.assertEqual(len(sub.line_ids), 1)
        action = sub.with_user(self.billing_user).action_add_option()
        with freeze_time("2026-03-01"):
            wizard = Form(
                self.env[action["res_model"]]
                .with_user(self.billing_user)
                .with_context(**action["context"])
            )
            wizard.plan_line_id = plan.line_ids.filtered("is_optional")
            wizard.quantity = 3
            self.assertEqual(wizard.mrr_after, 65.0)
            self.assertEqual(wizard.amount_net, 0.0, "nothing invoiced yet")
            wizard.save().action_confirm()
        option = sub.line_ids.filtered(lambda line: line.product_id == option_product)
        self.assertEqual(option.quantity, 3)
        self.assertEqual(sub.recurring_amount, 20.0 + 45.0)
        self._bill("2026-03-01")
        self.assertEqual(self._invoices(sub).amount_untaxed, 65.0)

    def test_bad_pricing_is_refused(self):
        def tiers(*bounds):
            return {
                "tier_ids": [
                    Command.create(
                        {"from_units": low, "to_units": high, "unit_price": 1}
                    )
                    for low, high in bounds
                ]
            }

        cases = [
            ("gap", tiers((0, 100), (200, 0))),
            ("overlaps", tiers((0, 100), (50, 0))),
            (
                "between 0 and 100",
                {"charge_model": "percentage", "tier_ids": [], "rate_percent": 150},
            ),
            ("metric", {"metric_id": False}),
        ]
        for message, values in cases:
            with (
                self.subTest(message),
                self.assertRaisesRegex(ValidationError, message),
            ):
                self._create_usage_plan(message, lines=[self._usage_line(**values)])

    def test_volume_and_package_lines_on_one_invoice(self):
        calls = self.env["subscription.metric"].create(
            {"name": "SMS", "code": "sms", "aggregation": "count"}
        )
        plan = self._create_usage_plan(
            "Mixed",
            lines=[
                self._usage_line(
                    charge_model="volume",
                    tier_ids=[
                        Command.create(
                            {"from_units": 0, "to_units": 10000, "unit_price": 0.001}
                        ),
                        Command.create(
                            {
                                "from_units": 10000,
                                "to_units": 50000,
                                "unit_price": 0.0008,
                            }
                        ),
                        Command.create(
                            {
                                "from_units": 50000,
                                "to_units": 100000,
                                "unit_price": 0.0006,
                                "flat_fee": 10,
                            }
                        ),
                        Command.create(
                            {"from_units": 100000, "to_units": 0, "unit_price": 0.0004}
                        ),
                    ],
                ),
                self._usage_line(
                    calls,
                    charge_model="package",
                    tier_ids=[],
                    package_size=100,
                    package_price=5,
                    free_units=100,
                ),
            ],
        )
        sub = self._start(plan)
        with freeze_time("2026-03-31"):
            self._send(sub, [("v", "2026-03-10T00:00:00Z", 65000)])
            self._send(
                sub,
                [(f"sms-{n}", "2026-03-11T00:00:00Z", 1) for n in range(201)],
                metric="sms",
            )
        self._bill("2026-04-01")
        amounts = {c.metric_id.code: c.amount for c in sub.usage_charge_ids}
        self.assertEqual(amounts, {"api_calls": 49.0, "sms": 10.0})
        self.assertEqual(
            Decimal(str(self._invoices(sub)[-1].amount_untaxed)), Decimal("79.0")
        )


@tagged("post_install", "-at_install")
class TestUsageSecurity(UsageCommon):
    def test_portal_user_cannot_ingest(self):
        portal = self.env["res.users"].create(
            {
                "name": "Portal",
                "login": "portal_usage",
                "group_ids": [Command.set([self.env.ref("base.group_portal").id])],
            }
        )
        with self.assertRaises(UserError):
            self.env["subscription.usage"].with_user(portal).ingest([])


@tagged("post_install", "-at_install")
class TestUsageForms(UsageCommon):
    def test_configure_metric_and_graduated_usage_line_in_the_forms(self):
        metric_form = Form(self.env["subscription.metric"])
        metric_form.name = "Storage"
        metric_form.code = "storage_gb"
        metric_form.aggregation = "weighted_sum"
        metric = metric_form.save()
        plan_form = Form(self.env["subscription.plan"])
        plan_form.name = "Storage plan"
        plan_form.minimum_spend = 10.0
        with plan_form.line_ids.new() as line:
            line.line_type = "usage"
            line.product_id = self.product_api
            line.metric_id = metric
            line.charge_model = "graduated"
            line.included_units = 5
            line.carry_over = True
            line.carry_over_cap = 10
            for start, end, price in ((0, 100, 0.5), (100, 0, 0.25)):
                with line.tier_ids.new() as tier:
                    tier.from_units = start
                    tier.to_units = end
                    tier.unit_price = price
        plan = plan_form.save()
        line = plan.line_ids
        self.assertEqual(line.line_type, "usage")
        self.assertEqual(len(line.tier_ids), 2)
        self.assertEqual(line._rate_usage(155).amount, Decimal("62.50"))
        sub = self._start(plan)
        self.assertEqual(sub.line_ids.metric_id, metric)
        self.assertEqual(len(sub.line_ids.tier_ids), 2, "tiers are copied")

    def test_every_charge_model_has_its_fields_and_its_choice(self):
        """The engine's charge models meet the ORM in one table: each model
        has its choice on the line and a field for each of its properties
        (and for each property of its tiers)."""
        models = set(rating.CHARGE_MODELS)
        self.assertEqual(set(CHARGE_MODEL_FIELDS), models)
        self.assertEqual({name for name, __ in CHARGE_MODEL_SELECTION}, models)
        line_fields = self.env["subscription.line"]._fields
        tier_fields = self.env["subscription.pricing.tier"]._fields
        for name, model in rating.CHARGE_MODELS.items():
            fields_of = CHARGE_MODEL_FIELDS[name]
            self.assertEqual(set(fields_of), {*model.properties, *model.optional})
            for field in fields_of.values():
                self.assertIn(field, line_fields, name)
            for key in model.tiers:
                self.assertIn(TIER_FIELDS[key], tier_fields, name)
        self.assertEqual(
            {name for name, model in rating.CHARGE_MODELS.items() if model.tiers},
            {"graduated", "volume", "graduated_percentage"},
        )
