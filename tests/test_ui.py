# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

SUBSCRIPTIONS = "/odoo/action-subscription_billing.subscription_subscription_action"


class BackOfficeUiCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        income = company.income_account_id or cls.env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        product = cls.env["product.product"].create(
            {
                "name": "Tour Service",
                "type": "service",
                "lst_price": 42.0,
                "property_account_income_id": income.id,
            }
        )
        cls.env["subscription.plan"].create(
            {
                "name": "Tour Plan",
                "line_ids": [Command.create({"product_id": product.id})],
            }
        )
        cls.customer = cls.env["res.partner"].create({"name": "Tour Customer"})
        new_test_user(
            cls.env,
            login="tour_billing",
            groups="subscription_billing.group_subscription_user",
        )

    def _subscription(self):
        return self.env["subscription.subscription"].search(
            [("partner_id", "=", self.customer.id)]
        )

    def _run_views_tour(self):
        self.start_tour(
            SUBSCRIPTIONS, "subscription_backoffice_views_tour", login="tour_billing"
        )
        subs = self._subscription()
        self.assertEqual(
            sorted(subs.mapped("state")),
            ["active", "draft"],
            "started from the form; quick created in the kanban (a draft)",
        )


@tagged("post_install", "-at_install")
class TestBackOfficeUi(BackOfficeUiCase):
    def test_create_start_and_invoice_from_the_ui(self):
        self.start_tour("/odoo", "subscription_backoffice_tour", login="tour_billing")
        sub = self._subscription()
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.invoice_ids.amount_untaxed, 42.0)
        self.assertEqual(sub.invoice_ids.state, "posted")

    def test_statusbar_primary_action_and_views(self):
        self._run_views_tour()


@tagged("post_install", "-at_install")
class TestBackOfficeUiPhone(BackOfficeUiCase):
    browser_size = "390x844"
    touch_enabled = True

    def test_statusbar_primary_action_and_views_on_a_phone(self):
        self._run_views_tour()
