# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import SubscriptionCommon


@tagged("post_install", "-at_install")
class TestSecurity(SubscriptionCommon):
    @freeze_time("2026-03-01")
    def test_billing_user_runs_subscriptions_not_plans(self):
        env = self.env(user=self.billing_user)
        sub = env["subscription.subscription"].create(
            {
                "partner_id": self.customer.id,
                "plan_id": self.plan_monthly.id,
                "date_start": "2026-03-01",
            }
        )
        sub.action_start()
        sub.action_invoice_now()
        self.assertEqual(sub.invoice_ids.amount_untaxed, 20.0)
        self.assertEqual(sub.invoice_ids.state, "posted")
        with self.assertRaises(AccessError):
            env["subscription.plan"].create({"name": "Not allowed"})
        with self.assertRaises(AccessError):
            self.plan_monthly.with_user(self.billing_user).name = "Renamed"
        with self.assertRaises(AccessError):
            sub.period_ids.with_user(self.billing_user).unlink()

    def test_users_without_the_group_see_nothing(self):
        employee = new_test_user(self.env, login="employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["subscription.subscription"].with_user(employee).search([])

    def test_multi_company_isolation(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        user_b = new_test_user(
            self.env,
            login="billing_b",
            groups="subscription_billing.group_subscription_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        sub = self._create_subscription()
        Subscription = self.env["subscription.subscription"].with_user(user_b)
        self.assertFalse(Subscription.search([("id", "=", sub.id)]))
        with self.assertRaises(AccessError):
            sub.with_user(user_b).read(["name"])
        self.assertFalse(
            self.env["subscription.plan"]
            .with_user(user_b)
            .search([("id", "=", self.plan_monthly.id)])
        )
