# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 13: usage is billed on the exact decimals, and no stored figure can
stop a billing run.

The database hands ``NUMERIC`` columns back as floats; what the invoice bills
must be what the engine gives on the exact decimals that were sent.
"""

import re
from decimal import Decimal as D
from itertools import count

from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..core import rating
from .common import UsageCommon

_KEYS = count()
BILLING_LOGGER = "odoo.addons.subscription_billing.models.subscription_subscription"


@tagged("post_install", "-at_install")
class TestExactUsageMoney(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Metric = cls.env["subscription.metric"]
        cls.metric_kwh = Metric.create(
            {
                "name": "Energy",
                "code": "kwh",
                "aggregation": "sum",
                "quantity_decimals": 3,
            }
        )
        cls.metric_payments = Metric.create(
            {
                "name": "Payments",
                "code": "payments",
                "aggregation": "sum",
                "quantity_decimals": 2,
            }
        )

    def _plan(self, metric, **line):
        return self._create_usage_plan(
            f"Plan {next(_KEYS)}",
            lines=[self._usage_line(metric, tier_ids=[], **line)],
        )

    def _send_quantities(self, sub, metric, quantities, day="2026-03-10"):
        with freeze_time("2026-03-31"):
            answers = self._send(
                sub,
                [
                    (f"e{next(_KEYS)}", f"{day}T{index % 24:02d}:00:00Z", quantity)
                    for index, quantity in enumerate(quantities)
                ],
                metric=metric.code,
            )
        self.assertEqual({a["status"] for a in answers}, {"accepted"})

    @staticmethod
    def _usage_line_of(invoice):
        return invoice.invoice_line_ids.filtered("subscription_usage_details")

    # ------------------------------------------------------------------
    # The three examples of the issue
    # ------------------------------------------------------------------

    def test_event_of_2_675_at_1_00_bills_2_68(self):
        plan = self._plan(self.metric_kwh, charge_model="standard", usage_unit_price=1)
        sub = self._start(plan)
        self._send_quantities(sub, self.metric_kwh, [2.675])
        self._bill("2026-04-01")
        line = self._usage_line_of(self._invoices(sub)[-1])
        self.assertEqual(line.price_unit, 2.68, "2.675 × 1.00, rounded half up")
        self.assertIn("03/31/2026: 2.675 — 2.675 × 1.00", line.name)
        self.assertNotIn("2.674999", line.name)
        details = line.subscription_usage_details
        self.assertEqual(details["quantity"], "2.675")
        self.assertEqual(details["amount"], "2.675")
        self.assertEqual(sub.usage_charge_ids.explanation, "2.675 × 1.00")

    def test_percentage_on_exact_transactions(self):
        # 10.10 + 20.20 + 0.10 + 0.20 = 30.60 exactly: 1.2% is 0.3672 -> 0.37
        # (the float digits did not add up, and billing stopped).
        plan = self._plan(
            self.metric_payments, charge_model="percentage", rate_percent=1.2
        )
        sub = self._start(plan)
        self._send_quantities(sub, self.metric_payments, [10.10, 20.20, 0.10, 0.20])
        self._bill("2026-04-01")
        self.assertFalse(sub.billing_error)
        line = self._usage_line_of(self._invoices(sub)[-1])
        self.assertEqual(line.price_unit, 0.37)
        self.assertEqual(line.subscription_usage_details["quantity"], "30.6")
        self.assertEqual(line.subscription_usage_details["amount"], "0.3672")
        self.assertIn("30.60 × 1.2%", line.name)

    def test_percentage_fee_and_free_transactions_from_plan_line_to_invoice(self):
        # 1.2% + 0.10 per transaction, the first 3 transactions free: the 4th,
        # of 50.00, costs 0.60 + 0.10 = 0.70. The plan line could not be saved.
        plan = self._plan(
            self.metric_payments,
            charge_model="percentage",
            rate_percent=1.2,
            fixed_fee=0.10,
            free_transactions=3,
        )
        self.assertEqual(plan.line_ids.filtered("metric_id").free_transactions, 3)
        sub = self._start(plan)
        self.assertEqual(sub.line_ids.filtered("metric_id").fixed_fee, 0.10)
        self._send_quantities(sub, self.metric_payments, [12.50, 7.25, 30.00, 50.00])
        self._bill("2026-04-01")
        invoice = self._invoices(sub)[-1]
        self.assertEqual(invoice.state, "posted")
        line = self._usage_line_of(invoice)
        self.assertEqual(line.price_unit, 0.70)
        self.assertIn("50.00 × 1.2% + 1 × 0.10 (per transaction)", line.name)
        self.assertEqual(invoice.amount_untaxed, 20.0 + 0.70)

    def test_percentage_terms_that_need_transactions_can_be_saved(self):
        plan_form = Form(self.env["subscription.plan"])
        plan_form.name = "Card fees"
        with plan_form.line_ids.new() as line:
            line.line_type = "usage"
            line.product_id = self.product_api
            line.metric_id = self.metric_payments
            line.charge_model = "percentage"
            line.rate_percent = 1.2
            line.fixed_fee = 0.10
            line.free_transactions = 3
        plan = plan_form.save()
        self.assertEqual(plan.line_ids.free_transactions, 3)
        terms = [
            {"fixed_fee": 0.30},
            {"fixed_fee": 0.30, "free_amount": 100},
            {"transaction_min_amount": 0.50},
            {"transaction_max_amount": 5},
            {"free_transactions": 2, "transaction_max_amount": 5},
        ]
        for values in terms:
            plan = self._plan(
                self.metric_payments,
                charge_model="percentage",
                rate_percent=1,
                **values,
            )
            line = plan.line_ids.filtered("metric_id")
            sub = self._create_subscription(plan=plan)
            self.assertEqual(
                sub.line_ids.filtered("metric_id").charge_model, "percentage"
            )
            # Terms are still checked, without rating.
            with self.assertRaisesRegex(UserError, "min_amount .* is greater than"):
                line.write({"min_amount": 10, "max_amount": 5})

    # ------------------------------------------------------------------
    # Labels and details: the metric's precision
    # ------------------------------------------------------------------

    def test_labels_and_portal_figures_use_the_metric_precision(self):
        plan = self._plan(
            self.metric_payments,
            charge_model="standard",
            usage_unit_price=2,
            included_units=1.5,
        )
        sub = self._start(plan)
        self._bill("2026-03-01")
        self._send_quantities(sub, self.metric_payments, [2.5, 1.15])
        with freeze_time("2026-03-31"):
            preview = sub.preview_next_invoice()
        self.assertEqual(
            preview["usage"][0]["display"],
            {
                "quantity": "3.65",
                "included": "1.5",
                "carried_in": "0",
                "used": "1.5",
                "billed": "2.15",
            },
        )
        self._bill("2026-04-01")
        line = self._usage_line_of(self._invoices(sub)[-1])
        self.assertIn("03/31/2026: 3.65 — 1.5 included + 2.15 × 2.00", line.name)
        self.assertEqual(line.price_unit, 4.3)
        self.assertEqual(sub.usage_charge_ids._display()["billed"], "2.15")
        # Stored before the metric had fewer decimals: shown in full.
        self.metric_payments.quantity_decimals = 1
        self.assertEqual(sub.usage_charge_ids._display()["quantity"], "3.65")
        self.assertEqual(self.metric_payments._format_quantity(D("3.000")), "3")

    def test_average_shown_with_the_metric_decimals(self):
        seats = self.env["subscription.metric"].create(
            {
                "name": "Seats",
                "code": "seats_avg",
                "aggregation": "weighted_sum",
                "quantity_decimals": 2,
            }
        )
        plan = self._plan(seats, charge_model="standard", usage_unit_price=3)
        sub = self._start(plan, start="2026-04-01")
        self._bill("2026-04-01")
        with freeze_time("2026-04-29"):
            self._send(
                sub,
                [
                    ("a1", "2026-04-01T00:00:00Z", 1),
                    ("a2", "2026-04-21T00:00:00Z", 1),
                ],
                metric="seats_avg",
            )
        self._bill("2026-05-01")
        # 1 seat for 30 days, 1 more for the last 10: 40 / 30 = 1.3333...
        line = self._usage_line_of(self._invoices(sub)[-1])
        self.assertIn("04/30/2026: 1.33 — 1.33 × 3.00", line.name)
        self.assertEqual(line.subscription_usage_details["quantity"][:6], "1.3333")
        self.assertEqual(line.price_unit, 4.0, "1.3333... × 3.00")
        self.assertEqual(sub.usage_charge_ids._display()["quantity"], "1.33")

    # ------------------------------------------------------------------
    # Stored figures that cannot be rated stop their subscription only
    # ------------------------------------------------------------------

    def _insert_event(self, sub, metric, quantity, properties="{}"):
        """An event written by SQL, past ingestion's checks."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO subscription_usage
                   (company_id, subscription_id, metric_id, timestamp, quantity,
                    properties, idempotency_key, create_uid, create_date,
                    write_uid, write_date)
            VALUES (%s, %s, %s, '2026-03-15 10:00:00', %s::numeric, %s, %s,
                    1, NOW(), 1, NOW())
            """,
            (
                sub.company_id.id,
                sub.id,
                metric.id,
                quantity,
                properties,
                f"sql-{next(_KEYS)}",
            ),
        )
        self.env.invalidate_all()

    def test_unrateable_stored_usage_fails_alone(self):
        plan = self._plan(self.metric_kwh, charge_model="standard", usage_unit_price=1)
        good = self._start(plan)
        values = ("1e29", "1e308", "Infinity", "1" * 400)
        bad = {quantity: self._start(plan) for quantity in values}
        self._bill("2026-03-01")
        self._send_quantities(good, self.metric_kwh, [3])
        for quantity, sub in bad.items():
            self._send_quantities(sub, self.metric_kwh, [1])
            self._insert_event(sub, self.metric_kwh, quantity)
        with mute_logger(
            "odoo.addons.subscription_billing.models.subscription_subscription"
        ):
            self._bill("2026-04-01")
        # The good subscription is billed: March's usage and April's fee.
        april = self._invoices(good)[-1]
        self.assertEqual(april.invoice_date.isoformat(), "2026-04-01")
        self.assertEqual(self._usage_line_of(april).price_unit, 3.0)
        self.assertFalse(good.billing_error)
        messages = {
            "1e29": "more than the engine rates",
            "1e308": "more than the engine rates",
            "Infinity": "not a finite number (Infinity)",
            # Stored exactly (ingestion used to turn it into Infinity).
            "1" * 400: "1.11E+399 units is more than the engine rates",
        }
        for quantity, sub in bad.items():
            # Its error is on its record; nothing of April was invoiced.
            self.assertIn(messages[quantity], sub.billing_error, quantity)
            self.assertEqual(
                [m.invoice_date.isoformat() for m in self._invoices(sub)],
                ["2026-03-01"],
                quantity,
            )
            self.assertFalse(sub.usage_charge_ids)
            self.assertEqual(str(sub.next_invoice_date), "2026-04-01")
            self.assertTrue(sub.activity_ids)
            # The preview says why, it does not crash.
            with freeze_time("2026-04-01"), self.assertRaises(UserError) as error:
                sub.preview_next_invoice()
            self.assertIn(messages[quantity], str(error.exception))
            with freeze_time("2026-04-01"):
                html = sub._render_preview()
            self.assertIn("text-danger", html)

    def test_unrateable_percentage_transactions_fail_alone(self):
        plan = self._plan(
            self.metric_payments, charge_model="percentage", rate_percent=1
        )
        good = self._start(plan)
        bad = self._start(plan)
        self._bill("2026-03-01")
        for sub in good | bad:
            self._send_quantities(sub, self.metric_payments, [100])
        self._insert_event(bad, self.metric_payments, "NaN")
        with mute_logger(
            "odoo.addons.subscription_billing.models.subscription_subscription"
        ):
            self._bill("2026-04-01")
        self.assertEqual(self._usage_line_of(self._invoices(good)[-1]).price_unit, 1.0)
        self.assertIn("not a finite number (NaN)", bad.billing_error)
        self.assertEqual(len(self._invoices(bad)), 1)

    def test_property_that_is_not_a_number_fails_alone(self):
        metric = self.env["subscription.metric"].create(
            {
                "name": "Bytes",
                "code": "bytes",
                "aggregation": "sum",
                "field_name": "bytes",
            }
        )
        plan = self._plan(metric, charge_model="standard", usage_unit_price=1)
        good = self._start(plan)
        bad = self._start(plan)
        self._bill("2026-03-01")
        with freeze_time("2026-03-31"):
            for sub in good | bad:
                self._send(
                    sub,
                    [
                        (f"b{sub.id}-1", "2026-03-10T00:00:00Z", 1, {"bytes": 5}),
                        (f"b{sub.id}-2", "2026-03-11T00:00:00Z", 1, {"bytes": 2}),
                    ],
                    metric="bytes",
                )
        self._insert_event(bad, metric, "1", '{"bytes": "lots"}')
        self._insert_event(good, metric, "1", '{"other": 1}')
        self._insert_event(good, metric, "1", '{"bytes": " 0.5 "}')
        with mute_logger(BILLING_LOGGER):
            self._bill("2026-04-01")
        # Numbers given as text count; an event without the property does not.
        self.assertEqual(self._usage_line_of(self._invoices(good)[-1]).price_unit, 7.5)
        self.assertIn("not a finite number (NaN)", bad.billing_error)
        self.assertEqual(len(self._invoices(bad)), 1)

    def test_amount_an_invoice_line_cannot_hold_exactly_fails_alone(self):
        # 9,999,999,999,999.999 in a currency of 3 decimals is below the
        # engine's bound but has 16 digits: the invoice line's float would
        # read 9,999,999,999,999.998.
        kwd = self.setup_other_currency("KWD", rounding=0.001)
        pricelist = self.env["product.pricelist"].create(
            {"name": "KWD", "currency_id": kwd.id}
        )
        plan = self._create_usage_plan(
            "KWD plan",
            lines=[
                self._usage_line(
                    self.metric_kwh,
                    tier_ids=[],
                    charge_model="standard",
                    usage_unit_price=1,
                )
            ],
            currency_id=kwd.id,
        )
        good = self._start(plan, pricelist_id=pricelist.id)
        bad = self._start(plan, pricelist_id=pricelist.id)
        self.assertEqual(bad.currency_id, kwd)
        self._bill("2026-03-01")
        self._send_quantities(good, self.metric_kwh, [1.234])
        self._insert_event(bad, self.metric_kwh, "9999999999999.999")
        with mute_logger(BILLING_LOGGER):
            self._bill("2026-04-01")
        self.assertEqual(
            self._usage_line_of(self._invoices(good)[-1]).price_unit, 1.234
        )
        self.assertIn(
            "The amount 9,999,999,999,999.999 cannot be invoiced exactly",
            bad.billing_error,
        )
        self.assertEqual(len(self._invoices(bad)), 1)

    # ------------------------------------------------------------------
    # Property: the invoice bills the engine's result on the exact decimals
    # ------------------------------------------------------------------

    @settings(max_examples=12, deadline=None)
    @given(
        decimals=st.integers(0, 6),
        scaled=st.lists(st.integers(0, 10**9), min_size=1, max_size=6),
        model=st.sampled_from(["standard", "percentage"]),
        price=st.decimals(min_value=0, max_value=5, places=4),
    )
    def test_invoice_bills_the_engine_result_on_exact_decimals(
        self, decimals, scaled, model, price
    ):
        # Quantities with the metric's decimals, at most 6 + 9 digits.
        quantities = [D(value).scaleb(-decimals) for value in scaled]
        metric = self.env["subscription.metric"].create(
            {
                "name": "Random",
                "code": f"random_{next(_KEYS)}",
                "aggregation": "sum",
                "quantity_decimals": decimals,
            }
        )
        if model == "standard":
            line = {"charge_model": "standard", "usage_unit_price": float(price)}
            properties = {"unit_price": price}
        else:
            rate = min(price * 20, D(100)).quantize(D("0.001"))
            line = {"charge_model": "percentage", "rate_percent": float(rate)}
            properties = {"rate": rate}
        plan = self._plan(metric, **line)
        sub = self._start(plan)
        self._send_quantities(sub, metric, [float(q) for q in quantities])
        self._bill("2026-04-01")
        total = sum(quantities, D(0))
        expected = rating.rate(
            model,
            total,
            properties,
            transactions=quantities if model == "percentage" else None,
        )
        invoice_line = self._usage_line_of(self._invoices(sub)[-1])
        self.assertFalse(sub.billing_error)
        self.assertEqual(invoice_line.price_unit, float(expected.rounded("0.01")))
        details = invoice_line.subscription_usage_details
        self.assertEqual(D(details["quantity"]), total)
        self.assertEqual(D(details["amount"]), expected.amount)
        self.assertIn(f": {metric._format_quantity(total)} —", invoice_line.name)
        self.assertIn(expected.explain(), invoice_line.name)


@tagged("post_install", "-at_install")
class TestUsagePortalFigures(HttpCase):
    """The portal's meter and past usage show the exact figures."""

    def test_portal_meter_and_past_usage_show_exact_figures(self):
        income = self.env.company.income_account_id or self.env[
            "account.account"
        ].search([("account_type", "=", "income")], limit=1)
        product = self.env["product.product"].create(
            {
                "name": "Metered energy",
                "type": "service",
                "lst_price": 0.0,
                "property_account_income_id": income.id,
                "taxes_id": [Command.clear()],
            }
        )
        metric = self.env["subscription.metric"].create(
            {"name": "Energy", "code": "kwh_portal", "quantity_decimals": 3}
        )
        plan = self.env["subscription.plan"].create(
            {
                "name": "Energy plan",
                "invoice_policy": "post",
                "line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": "Energy",
                            "line_type": "usage",
                            "metric_id": metric.id,
                            "charge_model": "standard",
                            "usage_unit_price": 1.0,
                            "included_units": 1.5,
                        }
                    )
                ],
            }
        )
        partner = self.env["res.partner"].create(
            {"name": "Watt SA", "email": "watt@example.com"}
        )
        new_test_user(
            self.env, login="watt", groups="base.group_portal", partner_id=partner.id
        )
        Usage = self.env["subscription.usage"]
        with freeze_time("2026-03-01"):
            sub = self.env["subscription.subscription"].create(
                {
                    "partner_id": partner.id,
                    "plan_id": plan.id,
                    "date_start": "2026-03-01",
                }
            )
            sub.action_start()
        with freeze_time("2026-03-31"):
            Usage.ingest(
                [
                    {
                        "idempotency_key": f"w{index}",
                        "subscription": sub.name,
                        "metric": "kwh_portal",
                        "timestamp": f"2026-03-1{index}T00:00:00Z",
                        "quantity": quantity,
                    }
                    for index, quantity in enumerate([2.675, 0.1])
                ]
            )
        with freeze_time("2026-04-01"):
            self.env["subscription.subscription"]._generate_due_invoices("2026-04-01")
        self.assertEqual(sub.usage_charge_ids.amount, 1.28, "2.775 - 1.5 included")
        with freeze_time("2026-04-20"):
            Usage.ingest(
                [
                    {
                        "idempotency_key": "w-april",
                        "subscription": sub.name,
                        "metric": "kwh_portal",
                        "timestamp": "2026-04-10T00:00:00Z",
                        "quantity": 0.125,
                    }
                ]
            )
            self.authenticate("watt", "watt")
            page = self.url_open(f"/my/subscriptions/{sub.id}").text
        meter = re.search(r"o_portal_usage_meter.*?</small>", page, re.S).group(0)
        self.assertIn("0.125 used", meter)
        self.assertIn("of 1.5 included", meter)
        past = re.search(r"o_portal_past_usage.*?</table>", page, re.S).group(0)
        # Included, carried over and billed are hidden on a phone (not gone).
        cells = re.findall(r'<td class="text-end[^"]*">([^<]*)</td>', past)
        self.assertEqual(cells[:4], ["2.775", "1.5", "0", "1.275"])
