# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Analytic distribution: from the plan to the subscription lines, and on
every invoice line the billing run writes (and its analytic lines)."""

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import SaleCommon, UsageCommon


class AnalyticMixin:
    """An analytic plan with two accounts: Project A and Dept B."""

    @classmethod
    def _setup_analytic(cls):
        cls.analytic_plan = cls.env["account.analytic.plan"].create(
            {"name": "Subscriptions"}
        )
        Account = cls.env["account.analytic.account"]
        cls.project_a = Account.create(
            {"name": "Project A", "plan_id": cls.analytic_plan.id}
        )
        cls.dept_b = Account.create({"name": "Dept B", "plan_id": cls.analytic_plan.id})
        # 60 % Project A, 40 % Dept B.
        cls.split = {str(cls.project_a.id): 60.0, str(cls.dept_b.id): 40.0}

    def _analytic_amounts(self, move_lines):
        """``{account name: amount}`` of the analytic lines of ``move_lines``
        (income: positive)."""
        amounts = {}
        # The accountant's view of the analytic lines (the test's check).
        for line in move_lines.sudo().analytic_line_ids:
            account = line[self.analytic_plan._column_name()]
            amounts[account.name] = amounts.get(account.name, 0.0) + line.amount
        return amounts


@tagged("post_install", "-at_install")
class TestAnalyticDistribution(AnalyticMixin, UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_analytic()
        cls.product_extra = cls._create_product(
            name="Onboarding", lst_price=80.0, type="service"
        )

    def test_recurring_line_from_the_plan_default(self):
        """Plan default 60/40, its line has none: the subscription line takes
        the plan's; March's 20.00 line carries it; analytic lines 12.00
        (Project A) and 8.00 (Dept B)."""
        plan = self._create_plan("Analytic", analytic_distribution=self.split)
        sub = self._start(plan)
        self.assertEqual(sub.line_ids.analytic_distribution, self.split)
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        self.assertEqual(invoice.state, "posted")
        line = invoice.invoice_line_ids
        self.assertEqual(line.analytic_distribution, self.split)
        self.assertEqual(
            self._analytic_amounts(line), {"Project A": 12.0, "Dept B": 8.0}
        )

    def test_plan_line_distribution_wins_and_the_user_edits_it(self):
        """The plan line's own distribution (100 % Dept B) goes before the
        plan's default; the user changes the draft subscription's line to
        60/40, and the invoice follows the subscription line."""
        plan = self._create_plan("Analytic lines", analytic_distribution=self.split)
        plan.line_ids.analytic_distribution = {str(self.dept_b.id): 100.0}
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan)
        self.assertEqual(
            sub.line_ids.analytic_distribution, {str(self.dept_b.id): 100.0}
        )
        sub.with_user(self.billing_user).line_ids.analytic_distribution = self.split
        with freeze_time("2026-03-01"):
            sub.action_start()
        self._bill("2026-03-01")
        line = self._invoices(sub).invoice_line_ids
        self.assertEqual(line.analytic_distribution, self.split)

    def test_usage_line(self):
        """A usage line at 0.05 with 60/40: 1,000 units are 50.00, analytic
        30.00 and 20.00; the recurring 20.00 line has no distribution."""
        plan = self._create_usage_plan(
            "Metered analytic",
            lines=[
                self._usage_line(
                    charge_model="standard",
                    tier_ids=[],
                    usage_unit_price=0.05,
                    analytic_distribution=self.split,
                )
            ],
        )
        sub = self._start(plan)
        with freeze_time("2026-03-31"):
            self._send(sub, [("u1", "2026-03-10T00:00:00Z", 1000)])
        self._bill("2026-04-01")
        april = self._invoices(sub)[-1]
        usage = april.invoice_line_ids.filtered("subscription_usage_details")
        self.assertEqual(usage.price_subtotal, 50.0)
        self.assertEqual(usage.analytic_distribution, self.split)
        self.assertEqual(
            self._analytic_amounts(usage), {"Project A": 30.0, "Dept B": 20.0}
        )
        recurring = april.invoice_line_ids - usage
        self.assertFalse(recurring.analytic_distribution)
        self.assertFalse(recurring.analytic_line_ids)

    def test_one_off_charge(self):
        """A one-off charge of 80.00 × 2 takes the plan's default (60/40):
        analytic 96.00 and 64.00; another charge set to 100 % Dept B keeps
        its own: 50.00 to Dept B."""
        plan = self._create_plan("Charges", analytic_distribution=self.split)
        sub = self._start(plan)
        self._bill("2026-03-01")
        with freeze_time("2026-03-10"):
            first = self.env["subscription.charge"].browse(
                sub.with_user(self.billing_user).add_charge(
                    self.product_extra.id, 80.0, quantity=2
                )
            )
            second = self.env["subscription.charge"].browse(
                sub.with_user(self.billing_user).add_charge(self.product_extra.id, 50.0)
            )
        self.assertEqual(first.analytic_distribution, self.split)
        second.with_user(self.billing_user).analytic_distribution = {
            str(self.dept_b.id): 100.0
        }
        self._bill("2026-04-01")
        self.assertEqual(
            self._analytic_amounts(first.invoice_line_id),
            {"Project A": 96.0, "Dept B": 64.0},
        )
        self.assertEqual(
            self._analytic_amounts(second.invoice_line_id), {"Dept B": 50.0}
        )

    def test_discount_line(self):
        """20.00 at 60/40 less a 10 % discount: the -2.00 line carries 60/40
        (analytic -1.20 and -0.80); the invoice's analytic: 10.80 and 7.20."""
        plan = self._create_plan("Discounted", analytic_distribution=self.split)
        sub = self._start(plan)
        self.env["subscription.discount"].with_user(self.billing_user).create(
            {
                "subscription_id": sub.id,
                "value": 10.0,
                "duration": "once",
                "date_start": "2026-03-01",
            }
        )
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        self.assertEqual(invoice.amount_untaxed, 18.0)
        discount = invoice.invoice_line_ids.filtered("subscription_discount_id")
        self.assertEqual(discount.price_subtotal, -2.0)
        self.assertEqual(discount.analytic_distribution, self.split)
        self.assertEqual(
            self._analytic_amounts(discount), {"Project A": -1.2, "Dept B": -0.8}
        )
        self.assertEqual(
            self._analytic_amounts(invoice.invoice_line_ids),
            {"Project A": 10.8, "Dept B": 7.2},
        )

    def test_discount_over_lines_of_two_distributions(self):
        """20.00 at 100 % Project A and 5.00 at 100 % Dept B, 10 % off: the
        -2.50 line is 80 % Project A (20 / 25), 20 % Dept B."""
        plan = self._create_plan("Two lines")
        plan.line_ids.analytic_distribution = {str(self.project_a.id): 100.0}
        plan.line_ids = [
            Command.create(
                {
                    "product_id": self.product_seat.id,
                    "price_unit": 5.0,
                    "analytic_distribution": {str(self.dept_b.id): 100.0},
                }
            )
        ]
        sub = self._start(plan)
        self.env["subscription.discount"].create(
            {
                "subscription_id": sub.id,
                "value": 10.0,
                "duration": "once",
                "date_start": "2026-03-01",
            }
        )
        self._bill("2026-03-01")
        discount = self._invoices(sub).invoice_line_ids.filtered(
            "subscription_discount_id"
        )
        self.assertEqual(discount.price_subtotal, -2.5)
        self.assertEqual(
            discount.analytic_distribution,
            {str(self.project_a.id): 80.0, str(self.dept_b.id): 20.0},
        )
        self.assertEqual(
            self._analytic_amounts(discount), {"Project A": -2.0, "Dept B": -0.5}
        )

    def test_prorated_change_lines(self):
        """3 seats × 10.00 at 60/40, billed in advance for March; on March
        16th the quantity goes to 5: the new line version keeps 60/40, and
        every prorated line of the change (2 seats for the 16 days left of
        31) carries it, on the document that bills them."""
        plan = self._create_plan("Seats", price=10.0, product=self.product_seat)
        plan.line_ids.write({"quantity": 3, "analytic_distribution": self.split})
        sub = self._start(plan)
        self._bill("2026-03-01")
        with freeze_time("2026-03-16"):
            result = sub.with_user(self.billing_user).change_quantity(
                sub.line_ids.id, 5
            )
        change = self.env["subscription.change"].browse(result["change_id"])
        self.assertEqual(change.state, "applied")
        self.assertTrue(change.proration_lines)
        self.assertEqual(
            [line["analytic_distribution"] for line in change.proration_lines],
            [self.split] * len(change.proration_lines),
        )
        if not change.move_id:
            self._bill("2026-04-01")
        lines = change.move_id.invoice_line_ids.filtered(
            lambda line: (
                line.subscription_period_start
                and str(line.subscription_period_start) == "2026-03-16"
            )
        )
        self.assertTrue(lines)
        for line in lines:
            self.assertEqual(line.analytic_distribution, self.split)
        current = sub.line_ids.filtered("is_current")
        self.assertEqual(current.analytic_distribution, self.split)


@tagged("post_install", "-at_install")
class TestAnalyticFromQuotation(AnalyticMixin, SaleCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_analytic()

    def test_quotation_line_distribution_reaches_the_invoice(self):
        """The plan line's 100 % Dept B fills the quotation's seat line; the
        salesperson sets it to 60/40: the subscription line and the first
        invoice's 3 × 10.00 = 30.00 line carry 60/40 (18.00 and 12.00); the
        one-time setup fee keeps its own (100 % Project A)."""
        self.plan_seats.line_ids.analytic_distribution = {str(self.dept_b.id): 100.0}
        with freeze_time("2026-03-01"):
            order = self._create_quotation(
                [(self.product_seat, 3), (self.product_setup, 1)]
            )
            seat, setup = order.order_line
            self.assertEqual(seat.analytic_distribution, {str(self.dept_b.id): 100.0})
            seat.analytic_distribution = self.split
            setup.analytic_distribution = {str(self.project_a.id): 100.0}
            order.with_user(self.salesperson).action_confirm()
            sub = order.subscription_id
            self.assertEqual(sub.line_ids.analytic_distribution, self.split)
            self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(invoice.amount_untaxed, 130.0)
        lines = invoice.invoice_line_ids
        seat_line = lines.filtered(lambda line: line.product_id == self.product_seat)
        setup_line = lines - seat_line
        self.assertEqual(seat_line.analytic_distribution, self.split)
        self.assertEqual(
            self._analytic_amounts(seat_line), {"Project A": 18.0, "Dept B": 12.0}
        )
        self.assertEqual(
            setup_line.analytic_distribution, {str(self.project_a.id): 100.0}
        )
