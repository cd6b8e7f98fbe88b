# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A subscription quotation signed and paid online (payment_demo): the
payment confirms it, starts the subscription with the saved card, and pays
its first invoice; the next periods are charged to that card."""

from unittest.mock import patch

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import SaleCommon


@tagged("post_install", "-at_install")
class TestSalePayment(SaleCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_demo_provider()
        cls.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", False)

    def _quotation(self):
        """Three seats (3 x 10.00) and the setup fee (100.00), sent."""
        order = self._create_quotation(
            [(self.product_seat, 3), (self.product_setup, 1)],
            require_signature=True,
            require_payment=True,
        )
        order.with_user(self.salesperson).action_quotation_sent()
        self.assertEqual(order.state, "sent")
        return order

    def _pay(self, order, state="done", tokenize=True, amount=None):
        """What the portal's payment form does, as the public route does it
        (sudo): a transaction of the order's amount, the demo provider's
        answer, then the post-processing (the status page's poll)."""
        Transaction = self.env["payment.transaction"].sudo()
        tx = Transaction.create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.provider.payment_method_ids[:1].id,
                "reference": Transaction._compute_reference("demo", prefix=order.name),
                "amount": order.amount_total if amount is None else amount,
                "currency_id": order.currency_id.id,
                "partner_id": order.partner_id.id,
                "operation": "online_direct",
                "tokenize": tokenize,
                "sale_order_ids": [Command.set(order.ids)],
            }
        )
        tx._process(
            "demo",
            {
                "reference": tx.reference,
                "simulated_state": state,
                "payment_details": "4242",
            },
        )
        tx._post_process()
        return tx

    def _process_charges(self):
        with patch.object(
            type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
        ):
            self.env["subscription.dunning"]._cron_process()

    def _assert_paid_online(self, order, tx):
        self.assertEqual(tx.state, "done")
        self.assertEqual(order.state, "sale", "confirmed by the payment")
        sub = order.subscription_id
        self.assertEqual(sub.state, "active")
        self.assertTrue(tx.token_id, "the card is saved")
        self.assertEqual(sub.payment_token_id, tx.token_id)
        first = self._invoices(sub)
        self.assertEqual(len(first), 1, "one invoice for the first period")
        self.assertEqual(order.invoice_ids, first)
        self.assertEqual(tx.invoice_ids, first)
        self.assertEqual(first.amount_untaxed, 130.0, "3 x 10.00 + setup 100.00")
        self.assertEqual(
            sorted(first.invoice_line_ids.mapped("price_subtotal")), [30.0, 100.0]
        )
        self.assertEqual(first.amount_total, order.amount_total)
        self.assertEqual(first.state, "posted")
        self.assertIn(first.payment_state, ("paid", "in_payment"))
        self.assertEqual(first.amount_residual, 0.0)
        self.assertIn(tx.payment_id.state, ("paid", "in_process"))
        self.assertFalse(first.subscription_to_charge, "paid: nothing to charge")
        return sub, first

    def test_signed_and_paid_online_then_next_period_charged(self):
        """Paid online with the card saved (automatic invoice off): a started
        subscription on that card, its first invoice (130.00) paid by the
        payment; May (30.00) is billed by the run and charged to the card."""
        with freeze_time("2026-03-01"):
            order = self._quotation()
            self.assertEqual(order.prepayment_percent, 1.0)
            tx = self._pay(order)
            sub, first = self._assert_paid_online(order, tx)
            self.assertEqual(str(first.invoice_date), "2026-03-01")
            self._run_billing()
            self._process_charges()
        self.assertEqual(self._invoices(sub), first, "the run bills it once")
        self.assertFalse(first.subscription_dunning_event_ids, "never charged")
        with freeze_time("2026-04-01"):
            self._run_billing()
            second = self._invoices(sub) - first
            self.assertEqual(second.amount_untaxed, 30.0)
            self.assertEqual(second.state, "posted")
            self.assertTrue(second.subscription_to_charge)
            self._process_charges()
        charge = second.sudo().transaction_ids
        self.assertEqual(len(charge), 1)
        self.assertEqual(charge.token_id, tx.token_id)
        self.assertEqual(charge.state, "done")
        self.assertEqual(charge.amount, second.amount_total)
        self.assertIn(second.payment_state, ("paid", "in_payment"))
        self.assertEqual(second.amount_residual, 0.0)
        self.assertEqual(order.invoice_ids, first, "April is not the order's")

    def test_paid_online_with_automatic_invoice(self):
        """With *Automatic Invoice* on, Odoo's own invoicing of the paid order
        issues the same first invoice, paid."""
        self.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", True)
        with freeze_time("2026-03-01"):
            order = self._quotation()
            tx = self._pay(order)
            self._assert_paid_online(order, tx)

    def test_paid_online_without_saving_the_card(self):
        """Not saved: the subscription has no method, its first invoice is
        paid all the same."""
        with freeze_time("2026-03-01"):
            order = self._quotation()
            tx = self._pay(order, tokenize=False)
            sub = order.subscription_id
            self.assertEqual(sub.state, "active")
            self.assertFalse(sub.payment_token_id)
            first = self._invoices(sub)
            self.assertEqual(first.amount_untaxed, 130.0)
            self.assertEqual(tx.invoice_ids, first)
            self.assertEqual(first.amount_residual, 0.0)

    def test_invoiced_then_paid_by_link(self):
        """Confirmed and invoiced by the salesperson, then paid by the customer
        through a payment link, saving the card: the payment pays the invoice
        issued, no other one is created, the card pays the next ones."""
        with freeze_time("2026-03-01"):
            order = self._quotation()
            order.with_user(self.salesperson).action_confirm()
            wizard = (
                self.env["sale.advance.payment.inv"]
                .with_user(self.salesperson)
                .with_context(active_model="sale.order", active_ids=order.ids)
                .create({"advance_payment_method": "delivered"})
            )
            wizard.create_invoices()
            first = order.invoice_ids
            self.assertEqual(first.state, "posted")
            tx = self._pay(order)
        self.assertEqual(tx.invoice_ids, first)
        self.assertEqual(order.invoice_ids, first)
        self.assertEqual(
            order.subscription_id.payment_token_id,
            tx.token_id,
            "the card saved paying the subscription's invoice pays the next ones",
        )
        self.assertEqual(self._invoices(order.subscription_id), first)
        self.assertEqual(first.amount_residual, 0.0)
        self.assertIn(first.payment_state, ("paid", "in_payment"))

    def test_partial_payment_pays_first_invoice_not_a_down_payment(self):
        """Confirmed by the salesperson, paid 50.00 by link with *Automatic
        Invoice* on: no down payment (Odoo's for other orders), the first
        invoice (130.00 + tax) is issued and paid 50.00."""
        self.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", True)
        with freeze_time("2026-03-01"):
            order = self._quotation()
            order.with_user(self.salesperson).action_confirm()
            tx = self._pay(order, tokenize=False, amount=50.0)
        self.assertFalse(order.order_line.filtered("is_downpayment"))
        first = self._invoices(order.subscription_id)
        self.assertEqual(tx.invoice_ids, first)
        self.assertEqual(order.invoice_ids, first)
        self.assertEqual(first.amount_untaxed, 130.0)
        self.assertEqual(first.payment_state, "partial")
        self.assertEqual(first.amount_residual, first.amount_total - 50.0)

    def test_failed_payment_creates_nothing(self):
        """A declined payment: the quotation stays a quotation, no subscription,
        no invoice."""
        with freeze_time("2026-03-01"):
            order = self._quotation()
            subscriptions = self.env["subscription.subscription"].search_count([])
            tx = self._pay(order, state="error")
            self.assertTrue(order._has_to_be_paid(), "the customer may pay again")
        self.assertEqual(tx.state, "error")
        self.assertEqual(order.state, "sent")
        self.assertFalse(order.subscription_id)
        self.assertFalse(order.invoice_ids)
        # (payment_demo saves a card that always fails: it pays nothing.)
        self.assertFalse(tx.invoice_ids)
        self.assertEqual(
            self.env["subscription.subscription"].search_count([]), subscriptions
        )

    def test_subscription_quotation_prepays_in_full(self):
        """A company prepayment of 30 %: a subscription quotation requires the
        full amount; a lower percentage typed in is refused; a quotation
        without a plan keeps the company's."""
        self.env.company.prepayment_percent = 0.3
        order = self._quotation()
        self.assertEqual(order.prepayment_percent, 1.0)
        self.assertEqual(order._get_prepayment_required_amount(), order.amount_total)
        with self.assertRaisesRegex(ValidationError, "full amount"):
            order.with_user(self.salesperson).prepayment_percent = 0.5
        plain = self._create_quotation(
            [(self.product_setup, 1)], plan=False, require_payment=True
        )
        self.assertEqual(plain.prepayment_percent, 0.3)
        plain.with_user(self.salesperson).prepayment_percent = 0.5
        self.assertEqual(plain.prepayment_percent, 0.5)
        # Not required online: the percentage does not matter.
        order.with_user(self.salesperson).require_payment = False
        order.with_user(self.salesperson).prepayment_percent = 0.5

    def test_prepayment_read_only_on_subscription_quotations(self):
        """The form shows the 100 % of a subscription quotation read-only."""
        views = (
            self.env["sale.order"]
            .with_user(self.salesperson)
            .get_views([(False, "form")])
        )
        arch = etree.fromstring(views["views"]["form"]["arch"])
        [field] = arch.xpath("//field[@name='prepayment_percent']")
        self.assertEqual(
            field.get("readonly"),
            "(state in ['cancel', 'sale']) or "
            "(subscription_plan_id and subscription_order_kind == 'new')",
        )
