# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Quotations that sell a subscription: confirmation creates and starts it,
and its first invoice is one document, whoever issues it."""

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SaleCommon


@tagged("post_install", "-at_install")
class TestSaleSubscription(SaleCommon):
    def _confirm(self, order):
        order.with_user(self.salesperson).action_confirm()
        return order.subscription_id

    def _invoice_order(self, order):
        """The salesperson's *Create Invoice* (Odoo's wizard, regular invoice)."""
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_user(self.salesperson)
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "delivered"})
        )
        wizard.create_invoices()
        return order.invoice_ids

    @freeze_time("2026-03-01")
    def test_confirm_creates_started_subscription(self):
        """The subscription carries the order's customer, addresses, plan, lines,
        pricelist, payment term, fiscal position, salesperson and company."""
        term = self.env.ref("account.account_payment_term_30days")
        order = self._create_quotation(
            [(self.product_seat, 3), (self.product_setup, 1)],
            payment_term_id=term.id,
        )
        self.assertEqual(order.subscription_order_kind, "new")
        seat, setup = order.order_line
        self.assertTrue(seat.subscription_is_recurring)
        self.assertFalse(setup.subscription_is_recurring)
        self.assertEqual(seat.price_unit, 10.0, "priced by the plan line")
        self.assertEqual(seat.subscription_recurrence, "Monthly")
        self.assertEqual(setup.subscription_recurrence, "Once")
        self.assertEqual(order.subscription_recurring_amount, 30.0)
        self.assertEqual(order.amount_untaxed, 130.0)

        sub = self._confirm(order)
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.partner_id, self.customer)
        self.assertEqual(sub.partner_invoice_id, order.partner_invoice_id)
        self.assertEqual(sub.plan_id, self.plan_seats)
        self.assertEqual(sub.payment_term_id, term)
        self.assertEqual(sub.pricelist_id, order.pricelist_id)
        self.assertEqual(sub.fiscal_position_id, order.fiscal_position_id)
        self.assertEqual(sub.user_id, self.salesperson)
        self.assertEqual(sub.company_id, order.company_id)
        self.assertEqual(str(sub.date_start), "2026-03-01")
        self.assertEqual(order.subscription_start_date, sub.date_start)
        self.assertEqual(sub.line_ids.product_id, self.product_seat)
        self.assertEqual(sub.line_ids.quantity, 3)
        self.assertEqual(sub.line_ids.price_unit, 10.0)
        self.assertEqual(sub.line_ids.sale_line_id, seat)
        self.assertEqual(sub.sale_order_ids, order)
        self.assertEqual(sub.sale_order_count, 1)
        self.assertEqual(order.action_view_subscription()["res_id"], sub.id)

    @freeze_time("2026-03-01")
    def test_quotation_of_a_plan_with_an_intro_phase_shows_the_phase_price(self):
        """Seats at 10.00, 50 % for 3 months: the quotation shows 3 × 5.00 =
        15.00 per month and "then 30.00 per month from Jun 1, 2026"; the
        subscription starts at 5.00 (standard 10.00, not halved twice), its
        first invoice is 15.00 + the setup 100.00 = 115.00."""
        plan = self._create_plan(
            "Seats intro",
            price=10.0,
            product=self.product_seat,
            phase_ids=[
                Command.create(
                    {"name": "Introductory", "duration": 3, "price_percent": 50}
                )
            ],
        )
        order = self._create_quotation(
            [(self.product_seat, 3), (self.product_setup, 1)], plan=plan
        )
        seat, setup = order.order_line
        self.assertEqual(seat.price_unit, 5.0, "the first phase's price")
        self.assertEqual(setup.price_unit, 100.0, "one-time: no phase")
        self.assertEqual(order.subscription_recurring_amount, 15.0)
        note = order.subscription_phase_note.replace("\xa0", " ")
        self.assertRegex(
            note,
            r"^Introductory until May 31, 2026, then \S* ?30\.00 \S* ?per month "
            r"from Jun 1, 2026$",
        )
        sub = self._confirm(order)
        line = sub.line_ids
        self.assertEqual((line.price_unit, line.standard_price_unit), (5.0, 10.0))
        self.assertEqual(str(sub.change_ids.effective_date), "2026-06-01")
        self.assertEqual(sub.phase_next_amount, 30.0)
        invoice = order._create_invoices()
        self.assertEqual(invoice.amount_untaxed, 115.0)

    @freeze_time("2026-03-01")
    def test_quotation_without_phases_has_no_phase_note(self):
        order = self._create_quotation([(self.product_seat, 3)])
        self.assertEqual(order.order_line.price_unit, 10.0)
        self.assertFalse(order.subscription_phase_note)

    def test_order_invoiced_then_billing_run_bills_first_period_once(self):
        """Confirmed, invoiced by the salesperson, then caught by the billing
        run: one invoice for the first period (3 seats x 10.00 + setup 100.00
        = 130.00); the run bills April alone (30.00)."""
        with freeze_time("2026-03-01"):
            order = self._create_quotation(
                [(self.product_seat, 3), (self.product_setup, 1)]
            )
            sub = self._confirm(order)
            self.assertEqual(order.invoice_status, "to invoice")
            invoices = self._invoice_order(order)
            self.assertEqual(len(invoices), 1)
            self.assertEqual(invoices.amount_untaxed, 130.0)
            self.assertEqual(
                sorted(invoices.invoice_line_ids.mapped("price_subtotal")),
                [30.0, 100.0],
            )
            self.assertEqual(invoices.subscription_ids, sub)
            self.assertEqual(order.invoice_status, "invoiced")
            self.assertEqual(sub.period_ids.invoice_id, invoices)
            # Invoicing again: nothing left, a clear refusal.
            with self.assertRaises(UserError):
                self._invoice_order(order)
            self._run_billing()
        self.assertEqual(len(sub.period_ids), 1)
        self.assertEqual(self._invoices(sub), invoices)
        with freeze_time("2026-04-01"):
            self._run_billing()
        april = self._invoices(sub) - invoices
        self.assertEqual(april.amount_untaxed, 30.0)
        self.assertEqual(order.invoice_ids, invoices, "April is not the order's")

    def test_billing_run_first_puts_one_time_lines_on_first_invoice(self):
        """The billing run catches the order first: the setup fee is on the first
        period's invoice, and the order is then fully invoiced."""
        with freeze_time("2026-03-01"):
            order = self._create_quotation(
                [(self.product_seat, 2), (self.product_setup, 1)]
            )
            sub = self._confirm(order)
            self._run_billing()
        first = self._invoices(sub)
        self.assertEqual(first.amount_untaxed, 120.0)
        self.assertEqual(order.invoice_ids, first)
        self.assertEqual(order.invoice_status, "invoiced")
        with freeze_time("2026-03-02"), self.assertRaises(UserError):
            self._invoice_order(order)
        with freeze_time("2026-04-01"):
            self._run_billing()
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 20.0)

    def test_future_start_invoiced_in_advance_once(self):
        """Start on the 15th, invoiced by the order on the 10th: the invoice is
        the first period's, dated on its first day."""
        with freeze_time("2026-03-10"):
            order = self._create_quotation([(self.product_seat, 1)], start="2026-03-15")
            sub = self._confirm(order)
            self.assertEqual(str(sub.next_invoice_date), "2026-03-15")
            invoice = self._invoice_order(order)
        self.assertEqual(str(invoice.invoice_date), "2026-03-15")
        with freeze_time("2026-03-15"):
            self._run_billing()
        self.assertEqual(self._invoices(sub), invoice)

    def test_cancelled_quotation_creates_nothing(self):
        order = self._create_quotation([(self.product_seat, 1)])
        before = self.env["subscription.subscription"].search_count([])
        order.with_user(self.salesperson)._action_cancel()
        self.assertEqual(order.state, "cancel")
        self.assertFalse(order.subscription_id)
        self.assertEqual(self.env["subscription.subscription"].search_count([]), before)

    def test_bad_input_refused_nothing_created(self):
        before = self.env["subscription.subscription"].search_count([])
        other_plan = self._create_plan(
            "Other", price=7.0, product=self._create_product(name="Other service")
        )
        # A product of another plan on this plan's quotation.
        order = self._create_quotation(
            [(self.product_seat, 1), (other_plan.line_ids.product_id, 1)]
        )
        with self.assertRaisesRegex(UserError, "one quotation bills one plan"):
            order.with_user(self.salesperson).action_confirm()
        # A subscription product on a quotation without a plan.
        order = self._create_quotation([(self.product_seat, 1)], plan=False)
        with self.assertRaisesRegex(
            UserError, "subscription plan \\(below the payment terms\\)"
        ):
            order.with_user(self.salesperson).action_confirm()
        # Only one-time lines.
        order = self._create_quotation([(self.product_setup, 1)])
        with self.assertRaisesRegex(UserError, "has no line of its plan"):
            order.with_user(self.salesperson).action_confirm()
        self.assertEqual(self.env["subscription.subscription"].search_count([]), before)

    def test_hostile_quotations_refused_nothing_created(self):
        """Dates at the calendar's edge, a negative seat count, another
        company's plan: clear errors, no subscription, the order stays a
        quotation."""
        Subscription = self.env["subscription.subscription"]
        before = Subscription.search_count([])
        order = self._create_quotation([(self.product_seat, 1)], start="9999-12-31")
        with self.assertRaises(UserError):
            order.with_user(self.salesperson).action_confirm()
        order = self._create_quotation([(self.product_seat, -2)])
        with self.assertRaisesRegex(UserError, "cannot have a negative quantity"):
            order.with_user(self.salesperson).action_confirm()
        self.assertEqual(order.state, "draft")
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign_plan = self._create_plan("Foreign", company_id=other_company.id)
        with self.assertRaises(UserError):
            self._create_quotation([(self.product_pro, 1)], plan=foreign_plan)
        self.assertEqual(Subscription.search_count([]), before)
