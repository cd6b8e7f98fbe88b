# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 17: the dynamic charge model, a billing day per subscription, and
the Lago parity options of the charge models, from the line to the invoice.

Amounts are computed by hand in the docstrings (the engine's convention:
exact decimals, one rounding half up to the cent on the invoice line; a
partial period is prorated by days of the full period that contains it).
"""

from itertools import count

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import UsageCommon

_KEYS = count()
# Seats: 1-10 at 10.00, 11-50 at 8.00, more at 6.00, each with 20.00 flat.
SEAT_TIERS = [
    {"from_units": 0, "to_units": 10, "unit_price": 10.0, "flat_fee": 20.0},
    {"from_units": 10, "to_units": 50, "unit_price": 8.0, "flat_fee": 20.0},
    {"from_units": 50, "to_units": 0, "unit_price": 6.0, "flat_fee": 20.0},
]
# Graduated: 0-100 at 1.00 with a 5.00 flat fee, then 0.50.
FLAT_TIERS = [
    {"from_units": 0, "to_units": 100, "unit_price": 1.0, "flat_fee": 5.0},
    {"from_units": 100, "to_units": 0, "unit_price": 0.5},
]


@tagged("post_install", "-at_install")
class TestDynamicBillingDay(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Metric = cls.env["subscription.metric"]
        cls.metric_amount = Metric.create(
            {
                "name": "Pass-through costs",
                "code": "costs",
                "aggregation": "sum",
                "field_name": "amount",
                "quantity_decimals": 3,
                "max_quantity": 1e6,
            }
        )
        cls.metric_seats = Metric.create(
            {"name": "Seats", "code": "seats", "aggregation": "max"}
        )
        cls.metric_payments = Metric.create(
            {
                "name": "Payments",
                "code": "payments",
                "aggregation": "sum",
                "quantity_decimals": 2,
            }
        )

    def _plan(self, metric, tiers=(), **line):
        return self._create_usage_plan(
            f"Plan {next(_KEYS)}",
            lines=[
                self._usage_line(
                    metric,
                    tier_ids=[Command.create(tier) for tier in tiers],
                    **line,
                )
            ],
        )

    def _events(self, sub, metric, events, day="2026-03-10"):
        """Ingest ``events``: ``(quantity, properties)``; the answers."""
        with freeze_time("2026-03-31"):
            return self._send(
                sub,
                [
                    (f"k{next(_KEYS)}", f"{day}T{i % 24:02d}:00:00Z", qty, props)
                    for i, (qty, props) in enumerate(events)
                ],
                metric=metric.code,
            )

    @staticmethod
    def _usage_line_of(invoice):
        return invoice.invoice_line_ids.filtered("subscription_usage_details")

    # ------------------------------------------------------------------
    # Dynamic charge
    # ------------------------------------------------------------------

    def test_dynamic_sum_of_three_events(self):
        """Events of 1.10, 2.25 and 0.005: the period bills their exact sum,
        3.355, rounded once on its one invoice line: 3.36."""
        plan = self._plan(self.metric_amount, charge_model="dynamic")
        sub = self._start(plan)
        answers = self._events(
            sub,
            self.metric_amount,
            [(1, {"amount": "1.10"}), (1, {"amount": 2.25}), (1, {"amount": "0.005"})],
        )
        self.assertEqual({a["status"] for a in answers}, {"accepted"})
        self._bill("2026-04-01")
        self.assertFalse(sub.billing_error)
        line = self._usage_line_of(self._invoices(sub)[-1])
        self.assertEqual(len(line), 1, "one invoice line for the period")
        self.assertEqual(line.price_unit, 3.36)
        details = line.subscription_usage_details
        self.assertEqual(details["amount"], "3.355")
        self.assertEqual(details["events"], 3)
        charge = sub.usage_charge_ids
        self.assertEqual(charge.explanation, "3.355 (sum of 3 events)")
        self.assertEqual(charge.event_count, 3)
        self.assertIn("3.355 (sum of 3 events)", line.name)

    def test_dynamic_hostile_amounts_refused_per_event(self):
        """NaN, infinity, a huge, negative, non-numeric, boolean or missing
        amount: each event is refused with its code, the valid ones of the
        batch are kept and billed: 2.50 + 0.50 = 3.00."""
        plan = self._plan(self.metric_amount, charge_model="dynamic")
        sub = self._start(plan)
        answers = self._events(
            sub,
            self.metric_amount,
            [
                (1, {"amount": "2.50"}),
                (1, {"amount": "NaN"}),
                (1, {"amount": float("nan")}),
                (1, {"amount": float("inf")}),
                (1, {"amount": "1e30"}),
                (1, {"amount": -1}),
                (1, {"amount": "12 EUR"}),
                (1, {"amount": True}),
                (1, {"amount": "0.0001"}),
                (1, {}),
                (1, {"amount": 0.5}),
            ],
        )
        codes = [a.get("code") or a["status"] for a in answers]
        self.assertEqual(
            codes,
            [
                "accepted",
                "invalid_property",
                # JSON has no NaN nor infinity: the properties are refused.
                "invalid_properties",
                "invalid_properties",
                "quantity_too_large",
                "negative_quantity",
                "invalid_property",
                "invalid_property",
                "too_many_decimals",
                "missing_property",
                "accepted",
            ],
        )
        for answer in answers:
            if answer["status"] == "refused":
                self.assertTrue(answer["message"])
        self._bill("2026-04-01")
        line = self._usage_line_of(self._invoices(sub)[-1])
        self.assertEqual(line.price_unit, 3.0)
        self.assertEqual(sub.usage_charge_ids.explanation, "3.00 (sum of 2 events)")

    def test_dynamic_needs_a_sum_metric(self):
        with self.assertRaisesRegex(ValidationError, "must aggregate by sum"):
            self._plan(self.metric_seats, charge_model="dynamic")

    # ------------------------------------------------------------------
    # Billing day
    # ------------------------------------------------------------------

    def test_billing_day_15_from_3_march(self):
        """Billed on the 15th from 3 March: the first period is 3 to 14 March,
        12 days of the full period 15 February to 14 March (28 days), so
        20.00 × 12 / 28 = 8.571… → 8.57 (the plan's calendar proration); then
        15 March to 14 April at 20.00."""
        Sub = self.env["subscription.subscription"].with_user(self.billing_user)
        with freeze_time("2026-03-03"):
            sub = Sub.create(
                {
                    "partner_id": self.customer.id,
                    "plan_id": self.plan_monthly.id,
                    "date_start": "2026-03-03",
                    "billing_day": 15,
                }
            )
            sub.action_start()
        self.assertEqual(sub.next_invoice_date, self._date("2026-03-03"))
        self._bill("2026-03-03")
        first = self._invoices(sub)
        self.assertEqual(len(first), 1)
        line = first.invoice_line_ids
        self.assertEqual(line.price_subtotal, 8.57)
        self.assertEqual(line.subscription_period_start, self._date("2026-03-03"))
        self.assertEqual(line.subscription_period_end, self._date("2026-03-14"))
        self.assertEqual(sub.next_invoice_date, self._date("2026-03-15"))
        self._bill("2026-03-15")
        second = self._invoices(sub) - first
        self.assertEqual(second.invoice_line_ids.price_subtotal, 20.0)
        self.assertEqual(
            second.invoice_line_ids.subscription_period_end, self._date("2026-04-14")
        )
        self.assertEqual(sub.next_invoice_date, self._date("2026-04-15"))

    def test_billing_day_and_an_intro_phase_of_three_full_periods(self):
        """50 % of 20.00 for 3 months, billed on the 15th from 3 March: the
        partial first period 3 to 14 March is at the intro price, prorated
        (10.00 × 12 / 28 = 4.285… → 4.29) and does not count; the 3 months
        are 15 March to 14 June at 10.00; 20.00 from 15 June."""
        plan = self._create_plan(
            "Intro on the 15th",
            price=20.0,
            phase_ids=[
                Command.create(
                    {"name": "Introductory", "duration": 3, "price_percent": 50}
                )
            ],
        )
        sub = self._start(plan, start="2026-03-03", billing_day=15)
        change = sub.change_ids
        self.assertEqual(str(change.effective_date), "2026-06-15")
        self.assertEqual(str(sub.phase_end_date), "2026-06-14")
        for day in ("2026-03-03", "2026-03-15", "2026-04-15", "2026-05-15"):
            self._bill(day)
        self._bill("2026-06-15")
        self.assertEqual(
            [move.amount_untaxed for move in self._invoices(sub)],
            [4.29, 10.0, 10.0, 10.0, 20.0],
        )
        self.assertEqual(change.state, "applied")

    def test_billing_day_without_one_follows_the_plan(self):
        """No billing day: the anniversary plan bills 3 March to 2 April."""
        sub = self._start(self.plan_monthly, start="2026-03-03")
        self._bill("2026-03-03")
        line = self._invoices(sub).invoice_line_ids
        self.assertEqual(line.price_subtotal, 20.0)
        self.assertEqual(line.subscription_period_end, self._date("2026-04-02"))

    def test_billing_day_checks(self):
        Sub = self.env["subscription.subscription"].with_user(self.billing_user)
        vals = {"partner_id": self.customer.id, "plan_id": self.plan_monthly.id}
        for day in (32, -1, 99):
            with (
                self.subTest(day=day),
                self.assertRaisesRegex(ValidationError, "billing day must be 1 to 31"),
            ):
                Sub.create({**vals, "billing_day": day})
        weekly = self._create_plan("Weekly", billing_unit="week")
        with self.assertRaisesRegex(ValidationError, "bills by days or weeks"):
            Sub.create({**vals, "plan_id": weekly.id, "billing_day": 5})
        sub = Sub.create({**vals, "date_start": "2026-03-03", "billing_day": 10})
        sub.billing_day = 20  # a draft: free to change
        with freeze_time("2026-03-03"):
            sub.action_start()
        with self.assertRaisesRegex(UserError, "cannot change once started"):
            sub.billing_day = 5
        sub.write({"billing_day": 20})  # the same day: nothing changes
        self.assertEqual(sub.billing_day, 20)
        # A later change to a weekly plan bills by weeks, ignoring the day.
        sub._as_engine().plan_id = weekly
        schedule = sub._get_schedule()
        self.assertEqual(schedule.recurrence.unit, "week")
        self.assertEqual(schedule.reference, self._date("2026-03-03"))

    # ------------------------------------------------------------------
    # Lago parity options
    # ------------------------------------------------------------------

    def test_graduated_flat_fee_at_zero_usage(self):
        """No usage: off, the line bills 0.00; on, the first tier's flat fee,
        0 × 1.00 + 5.00 = 5.00."""
        for option, expected in ((False, 0.0), (True, 5.0)):
            with self.subTest(option=option):
                plan = self._plan(
                    self.metric_api,
                    FLAT_TIERS,
                    charge_model="graduated",
                    charge_flat_at_zero=option,
                )
                sub = self._start(plan)
                self._bill("2026-04-01")
                charge = sub.usage_charge_ids
                self.assertEqual(charge.amount, expected)
                if option:
                    self.assertEqual(charge.explanation, "0 × 1.00 + 5.00")

    def test_percentage_free_whichever_first(self):
        """2% + 0.10 per transaction, 3 free transactions and 100.00 free:
        off, the line cannot be saved; on, 10 + 20 + 30 are free (the count
        runs out first), 50 and 40 pay 90 × 2% + 2 × 0.10 = 2.00."""
        terms = {
            "charge_model": "percentage",
            "rate_percent": 2,
            "fixed_fee": 0.10,
            "free_transactions": 3,
            "free_amount": 100,
        }
        with self.assertRaisesRegex(ValidationError, "not both"):
            self._plan(self.metric_payments, **terms)
        plan = self._plan(self.metric_payments, free_whichever_first=True, **terms)
        sub = self._start(plan)
        self._events(sub, self.metric_payments, [(q, {}) for q in (10, 20, 30, 50, 40)])
        self._bill("2026-04-01")
        line = self._usage_line_of(self._invoices(sub)[-1])
        self.assertEqual(line.price_unit, 2.0)
        self.assertIn("90.00 × 2% + 2 × 0.10 (per transaction)", line.name)

    def test_volume_prorated_on_a_partial_period(self):
        """12 seats from 3 March, billed on the 15th: the usage period 3 to 14
        March is 12 of 28 days. Off: 12 × 8.00 + 20.00 = 116.00; on, the tier
        of the 12 seats, prorated: 116.00 × 12 / 28 = 49.714… → 49.71."""
        for option, expected in ((False, 116.0), (True, 49.71)):
            with self.subTest(option=option):
                plan = self._plan(
                    self.metric_seats,
                    SEAT_TIERS,
                    charge_model="volume",
                    volume_prorated=option,
                )
                sub = self._start(plan, start="2026-03-03", billing_day=15)
                with freeze_time("2026-03-10"):
                    answers = self._send(
                        sub,
                        [(f"s{next(_KEYS)}", "2026-03-05T10:00:00Z", 12)],
                        metric="seats",
                    )
                self.assertEqual(answers[0]["status"], "accepted")
                self._bill("2026-03-15")
                charge = sub.usage_charge_ids
                self.assertEqual(charge.usage_start, self._date("2026-03-03"))
                self.assertEqual(charge.usage_end, self._date("2026-03-14"))
                self.assertEqual(charge.amount, expected)
                if option:
                    self.assertEqual(
                        charge.explanation, "12 × 8.00 + 20.00 (prorated 12/28 days)"
                    )

    def test_options_on_the_subscription_line(self):
        """The options travel from the plan line to the subscription line."""
        plan = self._plan(
            self.metric_seats, SEAT_TIERS, charge_model="volume", volume_prorated=True
        )
        sub = self._start(plan)
        self.assertTrue(sub.line_ids.filtered("metric_id").volume_prorated)
