# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import SubscriptionCommon


@tagged("post_install", "-at_install")
class TestBadInput(SubscriptionCommon):
    def test_plan_without_lines_cannot_start(self):
        plan = self.env["subscription.plan"].create({"name": "Empty"})
        sub = self._create_subscription(plan=plan)
        with self.assertRaisesRegex(UserError, "has no lines to invoice.*Empty"):
            sub.action_start()
        self.assertEqual(sub.state, "draft")
        self.assertFalse(sub.next_invoice_date)

    def test_zero_or_negative_period(self):
        for count in (0, -1):
            with self.assertRaisesRegex(
                ValidationError, "Plan Broken: the billing period"
            ):
                self.env["subscription.plan"].create(
                    {"name": "Broken", "billing_interval": count}
                )
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.env["subscription.plan"].create({"name": "Broken", "notice_days": -3})

    def test_end_before_start(self):
        with self.assertRaisesRegex(
            ValidationError, "ends on 2026-02-01, before it starts"
        ):
            self._create_subscription(start="2026-03-01", date_end="2026-02-01")

    def test_calendar_alignment_out_of_range(self):
        with self.assertRaisesRegex(ValidationError, "alignment day must be 1 to 31"):
            self._create_plan("Bad day", alignment="calendar", alignment_day=32)
        with self.assertRaisesRegex(ValidationError, "weekday must be 1"):
            self._create_plan(
                "Bad weekday",
                alignment="calendar",
                billing_unit="week",
                alignment_day=9,
            )

    def test_product_without_income_account_cannot_start(self):
        product = self.env["product.product"].create(
            {"name": "Unaccounted", "type": "service"}
        )
        product.categ_id.property_account_income_categ_id = False
        self.env.company.income_account_id = False
        sub = self._create_subscription()
        sub.line_ids = [Command.create({"product_id": product.id, "price_unit": 1.0})]
        with self.assertRaisesRegex(UserError, "Unaccounted has no income account"):
            sub.action_start()
        self.assertEqual(sub.state, "draft")

    def test_currency_differs_from_pricelist(self):
        code = "EUR" if self.env.company.currency_id.name == "USD" else "USD"
        foreign = self.setup_other_currency(code)
        pricelist = self.env["product.pricelist"].create(
            {"name": "Foreign", "currency_id": foreign.id}
        )
        # Billed in the pricelist's currency (it prices the plan), unless the
        # subscription's currency is forced to another one.
        with self.assertRaisesRegex(ValidationError, "pricelist Foreign"):
            self._create_subscription(
                pricelist_id=pricelist.id,
                currency_id=self.env.company.currency_id.id,
            )

    def test_plan_schedule_frozen_once_billed(self):
        with freeze_time("2026-03-01"):
            sub = self._create_subscription()
            sub.action_start()
            self._run_billing()
        with self.assertRaisesRegex(
            ValidationError, "cannot change: create a new plan"
        ):
            self.plan_monthly.billing_interval = 3
        self.plan_monthly.name = "Renamed"  # other fields stay editable
        self.assertEqual(self.plan_monthly.billing_interval, 1)

    def test_close_rules(self):
        plan = self._create_plan(
            "Committed", commitment_interval=6, commitment_unit="month", notice_days=30
        )
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan)
            sub.action_start()
            self._run_billing()
            reason = self.env.ref("subscription_billing.close_reason_too_expensive")
            wizard = self.env["subscription.change.wizard"].with_context(
                default_subscription_id=sub.id, default_operation="cancel"
            )

            def cancel(day):
                return wizard.create(
                    {"date": day, "policy": "immediate", "close_reason_id": reason.id}
                ).action_confirm()

            with self.assertRaisesRegex(UserError, "earliest last day is 2026-03-31"):
                cancel("2026-03-16")
            with self.assertRaisesRegex(UserError, "committed until 2026-08-31"):
                cancel("2026-06-01")
            self.assertFalse(sub.change_ids, "nothing half-applied")
            cancel("2026-09-01")
            self.assertEqual(sub.date_end, self._date("2026-08-31"))
            self.assertEqual(sub.state, "active", "runs until its last day")
            self.assertEqual(sub.close_reason_id, reason)
        with freeze_time("2026-09-01"):
            self._run_billing()
        self.assertEqual(sub.state, "closed")
        self.assertEqual(sub.invoiced_until, self._date("2026-08-31"))
        self.assertEqual(len(sub.period_ids), 6)

    @freeze_time("2026-03-01")
    def test_started_subscription_keeps_its_plan_and_start(self):
        sub = self._create_subscription()
        sub.action_start()
        other = self._create_plan("Other")
        with self.assertRaisesRegex(UserError, "cannot change once started"):
            sub.plan_id = other
        with self.assertRaisesRegex(UserError, "cannot change once started"):
            sub.date_start = "2026-02-01"
        self.assertEqual(sub.plan_id, self.plan_monthly)

    def test_notice_period(self):
        plan = self._create_plan("Notice", notice_days=30)
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan)
            sub.action_start()
            with self.assertRaisesRegex(UserError, "earliest last day is 2026-03-31"):
                sub.cancel(date="2026-03-21", policy="immediate")
