# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from contextlib import contextmanager
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class SubscriptionCommon(AccountTestInvoicingCommon):
    """Plans, customers and a billing user, built by the test itself."""

    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.quick_ref(
            "subscription_billing.group_subscription_manager"
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.billing_user = new_test_user(
            cls.env,
            login="billing_user",
            groups="subscription_billing.group_subscription_user",
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )
        cls.product_pro = cls._create_product(
            name="Pro plan", lst_price=20.0, type="service"
        )
        cls.product_seat = cls._create_product(
            name="Extra seat", lst_price=5.0, type="service"
        )
        cls.plan_monthly = cls._create_plan("Pro monthly", price=20.0)
        cls.customer = cls.env["res.partner"].create(
            {"name": "Acme SARL", "is_company": True}
        )
        cls.customer_b = cls.env["res.partner"].create(
            {"name": "Globex GmbH", "is_company": True}
        )

    @classmethod
    def _create_plan(cls, name, price=20.0, product=None, **values):
        product = product or cls.product_pro
        return cls.env["subscription.plan"].create(
            {
                "name": name,
                "billing_interval": 1,
                "billing_unit": "month",
                "invoice_policy": "post",
                "line_ids": [
                    Command.create(
                        {"product_id": product.id, "quantity": 1, "price_unit": price}
                    )
                ],
                **values,
            }
        )

    @classmethod
    def _create_subscription(
        cls, plan=None, partner=None, start="2026-03-01", **values
    ):
        return cls.env["subscription.subscription"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "plan_id": (plan or cls.plan_monthly).id,
                "date_start": start,
                **values,
            }
        )

    def _run_billing(self, on_date=None):
        """Run the scheduled action as the cron would, commits patched out."""
        with patch.object(
            type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
        ):
            self.env["subscription.subscription"]._cron_generate_invoices()

    @staticmethod
    def _invoices(subscriptions):
        return subscriptions.period_ids.invoice_id.sorted("invoice_date")

    @contextmanager
    def _assert_no_new_invoices(self):
        before = self.env["account.move"].search_count([])
        yield
        self.assertEqual(self.env["account.move"].search_count([]), before)

    @staticmethod
    def _date(value):
        return fields.Date.to_date(value)
