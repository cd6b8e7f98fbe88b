# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Acceptance in the browser: a salesperson quotes a subscription and sends
it; the customer signs and pays it in the portal (payment_demo), saving the
card; the subscription runs, its first invoice paid, the next one charged.

The tours run in real time: the dates are today's, the next period is
today's plus one month."""

from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


class SaleTourCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        company.write(
            {
                "portal_confirmation_sign": True,
                "portal_confirmation_pay": True,
                "prepayment_percent": 1.0,
            }
        )
        cls.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", False)
        income = company.income_account_id or cls.env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        Product = cls.env["product.product"]
        common = {
            "type": "service",
            "sale_ok": True,
            "property_account_income_id": income.id,
            "taxes_id": [Command.clear()],
        }
        cls.seat = Product.create({"name": "Seat licence", "lst_price": 10.0, **common})
        cls.setup_fee = Product.create(
            {"name": "Onboarding setup", "lst_price": 100.0, **common}
        )
        cls.plan = cls.env["subscription.plan"].create(
            {
                "name": "Tour Seats monthly",
                "billing_interval": 1,
                "billing_unit": "month",
                "invoice_policy": "post",
                "line_ids": [
                    Command.create({"product_id": cls.seat.id, "price_unit": 10.0})
                ],
            }
        )
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Tour Buyer", "email": "buyer@example.com"}
        )
        new_test_user(
            cls.env,
            login="tour_buyer",
            groups="base.group_portal",
            partner_id=cls.buyer.id,
            name="Tour Buyer",
            email="buyer@example.com",
        )
        cls.salesperson = new_test_user(
            cls.env,
            login="tour_salesperson",
            groups="sales_team.group_sale_salesman",
            email="sales@example.com",
        )
        cls.provider = cls.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", company.id)]
        )
        cls.provider.write(
            {
                "state": "test",
                "is_published": True,
                "journal_id": cls.env["account.journal"]
                .search(
                    [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
                )
                .id,
            }
        )

    def _sign_and_pay_in_portal(self, order):
        """The portal tour, then the subscription it starts, its first invoice
        paid, the next period billed by the run and charged to the card."""
        self.start_tour(
            f"/my/orders/{order.id}",
            "subscription_sale_portal_tour",
            login="tour_buyer",
        )
        self.env.invalidate_all()
        self.assertTrue(order.signature)
        self.assertEqual(order.state, "sale", "confirmed by the payment")
        tx = order.transaction_ids
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.token_id, "the card is saved")
        sub = order.subscription_id
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.partner_id, self.buyer)
        self.assertEqual(sub.payment_token_id, tx.token_id)
        today = fields.Date.context_today(sub)
        self.assertEqual(sub.date_start, today)
        first = sub.period_ids.invoice_id
        self.assertEqual(len(first), 1)
        self.assertEqual(order.invoice_ids, first)
        self.assertEqual(tx.invoice_ids, first)
        self.assertEqual(first.amount_total, 130.0)
        self.assertEqual(
            sorted(first.invoice_line_ids.mapped("price_subtotal")), [30.0, 100.0]
        )
        self.assertIn(first.payment_state, ("paid", "in_payment"))
        self.assertEqual(first.amount_residual, 0.0)

        # The next period: billed by the run, charged to the saved card.
        with (
            freeze_time(today + relativedelta(months=1)),
            patch.object(
                type(self.env["ir.cron"]),
                "_commit_progress",
                return_value=float("inf"),
            ),
        ):
            self.env["subscription.subscription"]._cron_generate_invoices()
            second = sub.period_ids.invoice_id - first
            self.assertEqual(second.amount_total, 30.0)
            self.assertEqual(second.state, "posted")
            self.env["subscription.dunning"]._cron_process()
        charge = second.transaction_ids
        self.assertEqual(charge.token_id, tx.token_id)
        self.assertEqual(charge.state, "done")
        self.assertIn(second.payment_state, ("paid", "in_payment"))
        self.assertEqual(order.invoice_ids, first, "the next period is not the order's")


@tagged("post_install", "-at_install")
class TestSaleTour(SaleTourCase):
    def test_quote_sign_pay_and_renew(self):
        self.start_tour(
            "/odoo/action-sale.action_quotations_with_onboarding",
            "subscription_sale_quotation_tour",
            login="tour_salesperson",
        )
        order = self.env["sale.order"].search([("partner_id", "=", self.buyer.id)])
        self.assertEqual(order.state, "sent")
        self.assertEqual(order.subscription_plan_id, self.plan)
        self.assertEqual(order.amount_total, 130.0, "3 x 10.00 + setup 100.00")
        self.assertTrue(order.require_signature)
        self.assertTrue(order.require_payment)
        self._sign_and_pay_in_portal(order)


@tagged("post_install", "-at_install")
class TestSaleTourPhone(SaleTourCase):
    browser_size = "390x844"
    touch_enabled = True

    def test_sign_and_pay_on_a_phone(self):
        """The quotation made and sent by the salesperson (in Python); the
        customer signs and pays it on a phone."""
        order = (
            self.env["sale.order"]
            .with_user(self.salesperson)
            .create(
                {
                    "partner_id": self.buyer.id,
                    "subscription_plan_id": self.plan.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.seat.id, "product_uom_qty": 3}
                        ),
                        Command.create({"product_id": self.setup_fee.id}),
                    ],
                }
            )
        )
        order.action_quotation_sent()
        self.assertEqual(order.amount_total, 130.0)
        self._sign_and_pay_in_portal(order.with_user(self.env.user))
