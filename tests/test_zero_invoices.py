# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Plans that skip 0.00 invoices: the period is billed (recorded, its usage
rated) without an invoice, once; the default still issues 0.00 invoices."""

from freezegun import freeze_time
from markupsafe import Markup

from odoo import Command
from odoo.tests import tagged

from .common import UsageCommon


@tagged("post_install", "-at_install")
class TestZeroInvoices(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_free = cls._create_product(
            name="Free tier", lst_price=0.0, type="service"
        )

    @classmethod
    def _metered_plan(cls, name, **values):
        """A free recurring line (0.00) and API calls at 0.01 with 1,000
        included per month, billed in advance (usage in arrears)."""
        return cls._create_plan(
            name,
            price=0.0,
            product=cls.product_free,
            **values,
        ).with_context(tracking_disable=True)

    def _with_usage_line(self, plan):
        plan.line_ids = [
            self._usage_line(
                charge_model="standard",
                tier_ids=[],
                usage_unit_price=0.01,
                included_units=1000,
            )
        ]
        return plan

    def _notes(self, sub):
        return sub.message_ids.filtered(
            lambda message: "nothing due" in (message.body or "")
        )

    def test_allowance_covers_usage_no_invoice_then_overage_bills(self):
        """March: the free line (0.00), in advance: nothing due, no invoice.
        April 1st: March's 600 calls are within the 1,000 included (0.00) and
        April's free line: no invoice; both periods recorded, the usage rated
        at 0.00 and linked to its period. Again on April 1st: nothing billed.
        May 1st: April's 1,500 calls, 500 over × 0.01 = 5.00: an invoice of
        5.00 (with May's free line)."""
        plan = self._with_usage_line(
            self._metered_plan("Free metered", skip_zero_invoices=True)
        )
        sub = self._start(plan)
        with self._assert_no_new_invoices():
            self._bill("2026-03-01")
        self.assertEqual(sub.period_ids.mapped("no_invoice_reason"), ["zero"])
        with freeze_time("2026-03-31"):
            self._send(sub, [("m1", "2026-03-10T00:00:00Z", 600)])
        with self._assert_no_new_invoices():
            self._bill("2026-04-01")
        periods = sub.period_ids.sorted(lambda p: (p.period_start, p.kind))
        self.assertEqual(
            [
                (str(p.period_start), p.kind, p.invoice_id.id, p.no_invoice_reason)
                for p in periods
            ],
            [
                ("2026-03-01", "service", False, "zero"),
                ("2026-03-01", "usage", False, "zero"),
                ("2026-04-01", "service", False, "zero"),
            ],
        )
        charge = sub.usage_charge_ids
        self.assertEqual((charge.quantity, charge.amount), (600.0, 0.0))
        self.assertEqual(charge.period_id, periods[1])
        self.assertFalse(charge.invoice_line_id)
        usage = self.env["subscription.usage"].search(
            [("subscription_id", "=", sub.id)]
        )
        self.assertEqual(usage.charge_id, charge, "the event is rated")
        self.assertEqual(str(sub.invoiced_until), "2026-04-30")
        self.assertEqual(str(sub.usage_invoiced_until), "2026-03-31")
        self.assertEqual(len(self._notes(sub)), 2, "one note per run")
        self.assertEqual(
            self._notes(sub).mapped("body"),
            [
                Markup(
                    "<p>Period Apr 1, 2026 – Apr 30, 2026 billed: nothing due "
                    "($&nbsp;0.00), no invoice issued.<br>Usage of Mar 1, 2026 – "
                    "Mar 31, 2026 billed: nothing due ($&nbsp;0.00), no invoice "
                    "issued.</p>"
                ),
                Markup(
                    "<p>Period Mar 1, 2026 – Mar 31, 2026 billed: nothing due "
                    "($&nbsp;0.00), no invoice issued.</p>"
                ),
            ],
        )
        # Re-run on the same day: nothing billed, nothing noted again.
        with self._assert_no_new_invoices():
            self._bill("2026-04-01")
        self.assertEqual(len(sub.period_ids), 3)
        self.assertEqual(len(self._notes(sub)), 2)
        # April: 1,500 calls, 500 billed.
        with freeze_time("2026-04-30"):
            self._send(sub, [("m2", "2026-04-10T00:00:00Z", 1500)])
        self._bill("2026-05-01")
        invoice = self._invoices(sub)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.amount_untaxed, 5.0)
        self.assertEqual(invoice.state, "posted")
        may = sub.period_ids.filtered(lambda p: str(p.period_start) >= "2026-04-01")
        self.assertEqual(
            sorted((str(p.period_start), p.kind) for p in may.filtered("invoice_id")),
            [("2026-04-01", "usage"), ("2026-05-01", "service")],
        )
        self.assertFalse(may.filtered("invoice_id").filtered("no_invoice_reason"))
        # A later run never issues the skipped periods' invoice.
        with self._assert_no_new_invoices():
            self._bill("2026-05-01")

    def test_default_policy_issues_zero_invoices(self):
        """The same plan, option off (the default): March's 0.00 invoice and
        April's 0.00 invoice (usage within the allowance) are issued."""
        plan = self._with_usage_line(self._metered_plan("Free metered, invoiced"))
        self.assertFalse(plan.skip_zero_invoices)
        sub = self._start(plan)
        self._bill("2026-03-01")
        with freeze_time("2026-03-31"):
            self._send(sub, [("m1", "2026-03-10T00:00:00Z", 600)])
        self._bill("2026-04-01")
        invoices = self._invoices(sub)
        self.assertEqual(len(invoices), 2)
        self.assertEqual(invoices.mapped("amount_total"), [0.0, 0.0])
        self.assertFalse(sub.period_ids.filtered("no_invoice_reason"))
        self.assertTrue(sub.usage_charge_ids.invoice_line_id)

    def test_consolidated_invoice_skipped_only_when_whole(self):
        """One customer consolidates: a free plan (0.00) and a paid one
        (20.00) share March's invoice of 20.00 (the free line is on it); in a
        month where both are 0.00 (the paid one fully discounted), nothing
        is issued."""
        self.customer.subscription_consolidate_invoices = True
        free = self._metered_plan("Free", skip_zero_invoices=True)
        paid = self._create_plan("Paid", price=20.0, skip_zero_invoices=True)
        with freeze_time("2026-03-01"):
            subs = self._create_subscription(plan=free) | self._create_subscription(
                plan=paid
            )
            subs.action_start()
        self._bill("2026-03-01")
        invoice = self._invoices(subs)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.subscription_ids, subs)
        self.assertEqual(invoice.amount_untaxed, 20.0)
        self.assertEqual(
            sorted(invoice.invoice_line_ids.mapped("price_unit")), [0.0, 20.0]
        )
        self.assertEqual(len(subs.period_ids), 2)
        self.assertFalse(subs.period_ids.filtered("no_invoice_reason"))
        # April: the paid line is 100 % off: both 0.00, no invoice.
        paid_sub = subs.filtered(lambda sub: sub.plan_id == paid)
        paid_sub.line_ids._as_engine().discount = 100.0
        with self._assert_no_new_invoices():
            self._bill("2026-04-01")
        april = subs.period_ids.filtered(lambda p: p.period_start.month == 4)
        self.assertEqual(len(april), 2)
        self.assertEqual(april.mapped("no_invoice_reason"), ["zero", "zero"])

    def test_one_time_line_is_always_invoiced(self):
        """A free setup line (one-time, 0.00) is recorded by its invoice
        line: the first invoice (0.00) is issued even when skipping."""
        plan = self._metered_plan("Free with setup", skip_zero_invoices=True)
        plan.line_ids = [
            Command.create(
                {
                    "line_type": "one_time",
                    "product_id": self.product_free.id,
                    "name": "Free setup",
                    "price_unit": 0.0,
                }
            )
        ]
        sub = self._start(plan)
        self._bill("2026-03-01")
        self.assertEqual(len(self._invoices(sub)), 1)
        self._bill("2026-04-01")
        self.assertEqual(len(self._invoices(sub)), 1, "April: nothing due")
        self.assertEqual(
            sub.period_ids.sorted("period_start").mapped("no_invoice_reason"),
            [False, "zero"],
        )
