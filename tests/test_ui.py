# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestBackOfficeUi(HttpCase):
    def test_create_start_and_invoice_from_the_ui(self):
        company = self.env.company
        income = company.income_account_id or self.env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        product = self.env["product.product"].create(
            {
                "name": "Tour Service",
                "type": "service",
                "lst_price": 42.0,
                "property_account_income_id": income.id,
            }
        )
        self.env["subscription.plan"].create(
            {
                "name": "Tour Plan",
                "line_ids": [Command.create({"product_id": product.id})],
            }
        )
        customer = self.env["res.partner"].create({"name": "Tour Customer"})
        new_test_user(
            self.env,
            login="tour_billing",
            groups="subscription_billing.group_subscription_user",
        )
        self.start_tour("/odoo", "subscription_backoffice_tour", login="tour_billing")
        sub = self.env["subscription.subscription"].search(
            [("partner_id", "=", customer.id)]
        )
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.invoice_ids.amount_untaxed, 42.0)
        self.assertEqual(sub.invoice_ids.state, "posted")
