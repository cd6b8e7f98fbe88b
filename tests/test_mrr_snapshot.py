# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Monthly MRR snapshots: movements from the history, exact month by month."""

from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import SubscriptionCommon


@tagged("post_install", "-at_install")
class TestMrrSnapshot(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        code = "EUR" if cls.env.company.currency_id.name == "USD" else "USD"
        # 1 company-currency unit = 2 of the other since 2017: 40.00 = 20.00.
        cls.foreign = cls.setup_other_currency(code)
        cls.plan_foreign = cls._create_plan(
            "Foreign 40", price=40.0, currency_id=cls.foreign.id
        )
        cls.plan_40 = cls._create_plan("Pro 40", price=40.0)
        cls.Snapshot = cls.env["subscription.mrr.snapshot"]

    def _month(self, month):
        rows = self.Snapshot.search([("month", "=", month)])
        totals = {
            name: round(sum(rows.mapped(name)), 2)
            for name in (
                "starting_mrr",
                "new_amount",
                "expansion_amount",
                "contraction_amount",
                "churn_amount",
                "reactivation_amount",
                "fx_amount",
                "mrr",
            )
        }
        moves = sum(v for k, v in totals.items() if k not in ("starting_mrr", "mrr"))
        self.assertAlmostEqual(
            totals["starting_mrr"] + moves, totals["mrr"], places=2, msg="identity"
        )
        return totals

    def test_three_months_of_movements_in_two_currencies(self):
        with freeze_time("2026-01-01"):
            home = self._create_subscription(start="2026-01-01")  # 20.00
            home.action_start()
            self._run_billing()
        with freeze_time("2026-01-15"):
            pricelist = self.env["product.pricelist"].create(
                {"name": "Foreign", "currency_id": self.foreign.id}
            )
            foreign = self._create_subscription(
                plan=self.plan_foreign,
                partner=self.customer_b,
                start="2026-01-15",
                pricelist_id=pricelist.id,
            )  # 40.00 foreign = 20.00
            foreign.action_start()
        with freeze_time("2026-02-10"):
            home.change_plan(self.plan_40.id)  # expansion +20.00
        with freeze_time("2026-03-05"):
            foreign.cancel(policy="immediate")  # churn -20.00
        for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
            self.Snapshot._take(month, self.env.company)
        # January: 0 + new 20 (home) + new 20 (foreign, 40 / 2) = 40.
        jan = self._month(date(2026, 1, 1))
        self.assertEqual(
            (jan["starting_mrr"], jan["new_amount"], jan["mrr"]), (0, 40, 40)
        )
        # February: 40 + expansion 20 (home 20 -> 40) = 60.
        feb = self._month(date(2026, 2, 1))
        self.assertEqual(
            (feb["starting_mrr"], feb["expansion_amount"], feb["mrr"]), (40, 20, 60)
        )
        # March: 60 + churn -20 (foreign) = 40.
        mar = self._month(date(2026, 3, 1))
        self.assertEqual(
            (mar["starting_mrr"], mar["churn_amount"], mar["mrr"]), (60, -20, 40)
        )
        self.assertEqual(mar["fx_amount"], 0, "constant rate: no currency effect")
        # A month is taken once: a later change does not rewrite it.
        self.assertEqual(self.Snapshot._take(date(2026, 1, 1), self.env.company), 0)
        foreign_rows = self.Snapshot.search([("subscription_id", "=", foreign.id)])
        self.assertEqual(
            sorted(foreign_rows.mapped("mrr_subscription_currency")), [0.0, 40.0, 40.0]
        )
