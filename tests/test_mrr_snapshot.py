# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Monthly MRR snapshots: movements from the history, exact month by month."""

from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.subscription_billing.models.subscription_mrr_movement_mixin import (
    MOVEMENT_FIELDS,
)

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
            for name in ("starting_mrr", *MOVEMENT_FIELDS, "mrr")
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

    def test_conversion_reads_the_exact_amounts(self):
        # 10.01 foreign at 1/2 is 5.005, rounded half up to 5.01. Read as the
        # float 10.00999..., it gave 5.00.
        plan = self._create_plan(
            "Foreign 10.01", price=10.01, currency_id=self.foreign.id
        )
        with freeze_time("2026-01-15"):
            pricelist = self.env["product.pricelist"].create(
                {"name": "Foreign", "currency_id": self.foreign.id}
            )
            sub = self._create_subscription(
                plan=plan, start="2026-01-15", pricelist_id=pricelist.id
            )
            sub.action_start()
        self.Snapshot._take(date(2026, 1, 1), self.env.company)
        row = self.Snapshot.search([("subscription_id", "=", sub.id)])
        self.assertEqual(row.mrr_subscription_currency, 10.01)
        self.assertEqual((row.new_amount, row.mrr, row.arr), (5.01, 5.01, 60.12))
        self.assertEqual(row.fx_amount, 0)
        dashboard = self.env["subscription.kpi.dashboard"].create(
            {"date_from": "2026-01-01", "date_to": "2026-01-31"}
        )
        self.assertEqual(dashboard.line_ids.check, 0)
        self.assertEqual(dashboard.line_ids.arr, 60.12)


@tagged("post_install", "-at_install")
class TestAnalyticsAcceptance(SubscriptionCommon):
    """Six months, four customers, monthly and yearly plans, two currencies.

    Company currency: 1 unit = 2 of the foreign one (40.00 foreign = 20.00).
    MRR per month (company currency), by hand:

    - Jan: A starts 20 (monthly), B starts 240/year = 20.   0 + new 40 = 40
    - Feb: C starts 40 foreign = 20; A upgrades 20 -> 40.
           40 + new 20 + expansion 20 = 80
    - Mar: C pauses without billing (-20); A downgrades 40 -> 20 (-20).
           80 + contraction -40 = 40
    - Apr: B cancels now (-20 churn); C resumes (+20 expansion).
           40 - 20 + 20 = 40
    - May: D starts 40 (new); B is reactivated (+20).  40 + 40 + 20 = 100
    - Jun: A cancels now (-20 churn); C goes to 80 foreign = 40 (+20).
           100 - 20 + 20 = 100

    Customers active at the start / churned: Feb 2/0, Mar 3/0 (C paused
    stays a customer), Apr 3/1 (B), May 2/0, Jun 4/1 (A): logo churn Apr
    1/3 = 33.33 %, Jun 1/4 = 25 %. Revenue churn = -(churn + contraction) /
    starting MRR: Mar 40/80 = 50 %, Apr 20/40 = 50 %, Jun 20/100 = 20 %.
    From March to June: customers active at the start of March are A 40, B
    20, C 20 = 80; at the end of June A 0, B 20, C 40 = 60: NRR 60/80 = 75 %;
    GRR with each capped at its start, 0 + 20 + 20 = 40/80 = 50 %.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        code = "EUR" if cls.env.company.currency_id.name == "USD" else "USD"
        cls.foreign = cls.setup_other_currency(code)
        cls.m20 = cls._create_plan("M20", price=20.0)
        cls.m40 = cls._create_plan("M40", price=40.0)
        cls.y240 = cls._create_plan(
            "Y240", price=240.0, billing_unit="year", cancel_credit=False
        )
        cls.f40 = cls._create_plan("F40", price=40.0, currency_id=cls.foreign.id)
        cls.f80 = cls._create_plan("F80", price=80.0, currency_id=cls.foreign.id)
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "Foreign", "currency_id": cls.foreign.id}
        )
        cls.partners = cls.env["res.partner"].create(
            [{"name": name, "is_company": True} for name in "ABCD"]
        )

    def _start(self, plan, partner, day, **values):
        with freeze_time(day):
            sub = self._create_subscription(
                plan=plan, partner=partner, start=day, **values
            )
            sub.action_start()
            self._run_billing()
        return sub

    def _on(self, day, func):
        with freeze_time(day):
            self._run_billing()
            func()
            self._run_billing()

    def test_six_months_to_the_cent(self):
        a, b, c, d = self.partners
        sub_a = self._start(self.m20, a, "2026-01-01")
        sub_b = self._start(self.y240, b, "2026-01-01")
        sub_c = self._start(self.f40, c, "2026-02-01", pricelist_id=self.pricelist.id)
        self._on("2026-02-10", lambda: sub_a.change_plan(self.m40.id))
        self._on("2026-03-10", lambda: sub_c.pause(bill_during_pause=False))
        self._on(
            "2026-03-20", lambda: sub_a.change_plan(self.m20.id, policy="immediate")
        )
        self._on("2026-04-05", lambda: sub_b.cancel(policy="immediate"))
        self._on("2026-04-15", lambda: sub_c.resume())
        self._start(self.m40, d, "2026-05-01")
        self._on("2026-05-10", lambda: sub_b.reactivate())
        self._on("2026-06-10", lambda: sub_a.cancel(policy="immediate"))
        self._on(
            "2026-06-20", lambda: sub_c.change_plan(self.f80.id, policy="immediate")
        )
        Snapshot = self.env["subscription.mrr.snapshot"]
        with (
            freeze_time("2026-07-01"),
            patch.object(
                type(self.env["ir.cron"]), "_commit_progress", return_value=1.0
            ),
        ):
            Snapshot._cron_take_snapshots()  # takes January to June
        self.assertEqual(
            sorted(set(Snapshot.search([]).mapped("month"))),
            [date(2026, m, 1) for m in range(1, 7)],
        )
        with freeze_time("2026-07-01"):
            dashboard = self.env["subscription.kpi.dashboard"].create(
                {"date_from": "2026-01-01", "date_to": "2026-06-30"}
            )
        table = [
            (
                line.month.month,
                line.starting_mrr,
                line.new_amount,
                line.expansion_amount,
                line.contraction_amount,
                line.churn_amount,
                line.reactivation_amount,
                line.fx_amount,
                line.mrr,
                line.check,
            )
            for line in dashboard.line_ids.sorted("month")
        ]
        self.assertEqual(
            table,
            [
                (1, 0.0, 40.0, 0.0, 0.0, 0.0, 0.0, 0.0, 40.0, 0.0),
                (2, 40.0, 20.0, 20.0, 0.0, 0.0, 0.0, 0.0, 80.0, 0.0),
                (3, 80.0, 0.0, 0.0, -40.0, 0.0, 0.0, 0.0, 40.0, 0.0),
                (4, 40.0, 0.0, 20.0, 0.0, -20.0, 0.0, 0.0, 40.0, 0.0),
                (5, 40.0, 40.0, 0.0, 0.0, 0.0, 20.0, 0.0, 100.0, 0.0),
                (6, 100.0, 0.0, 20.0, 0.0, -20.0, 0.0, 0.0, 100.0, 0.0),
            ],
        )
        churn = [
            (
                line.month.month,
                line.customers_start,
                line.churned_customers,
                line.logo_churn,
                line.revenue_churn,
            )
            for line in dashboard.line_ids.sorted("month")
        ]
        self.assertEqual(
            churn,
            [
                (1, 0, 0, 0.0, 0.0),
                (2, 2, 0, 0.0, 0.0),
                (3, 3, 0, 0.0, 50.0),
                (4, 3, 1, 33.33, 50.0),
                (5, 2, 0, 0.0, 0.0),
                (6, 4, 1, 25.0, 20.0),
            ],
        )
        last = dashboard.line_ids.sorted("month")[-1]
        # June: A is gone; B, C (40 = 80 foreign) and D: 3 customers.
        self.assertEqual((last.active_customers, last.arpu), (3, 33.33))
        self.assertEqual((dashboard.mrr, dashboard.arr), (100.0, 1200.0))
        with freeze_time("2026-07-01"):
            spring = self.env["subscription.kpi.dashboard"].create(
                {"date_from": "2026-03-01", "date_to": "2026-06-30"}
            )
        self.assertEqual((spring.nrr, spring.grr), (75.0, 50.0))
        # A filter: the foreign-currency customer alone.
        with freeze_time("2026-07-01"):
            only_c = self.env["subscription.kpi.dashboard"].create(
                {
                    "date_from": "2026-01-01",
                    "date_to": "2026-06-30",
                    "plan_ids": [(6, 0, (self.f40 | self.f80).ids)],
                }
            )
        self.assertEqual(
            [line.mrr for line in only_c.line_ids.sorted("month")],
            [20.0, 0.0, 20.0, 20.0, 40.0],  # February to June
        )

    def test_trial_conversion_and_dunning_recovery_beside(self):
        automatic = self._create_plan("Trial auto", trial_interval=14)
        manual = self._create_plan(
            "Trial manual", trial_interval=14, trial_conversion="manual"
        )
        a, b = self.partners[:2]
        for plan, partner in ((automatic, a), (manual, b)):
            with freeze_time("2026-03-01"):
                sub = self._create_subscription(
                    plan=plan, partner=partner, start="2026-03-01"
                )
                sub.action_start()
        with freeze_time("2026-03-20"):
            self._run_billing()  # both trials ended on March 14
        invoice = self.env["account.move"].search([("partner_id", "=", a.id)], limit=1)
        Dunning = self.env["subscription.dunning"]
        with freeze_time("2026-03-20"):
            dunning = Dunning._open(invoice, "no_method", invoice.invoice_date_due)
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({})._create_payments()
        self.assertEqual(dunning.state, "recovered")
        self.env["subscription.mrr.snapshot"]._take(date(2026, 3, 1), self.env.company)
        with freeze_time("2026-04-01"):
            board = self.env["subscription.kpi.dashboard"].create(
                {"date_from": "2026-03-01", "date_to": "2026-03-31"}
            )
        # March: one trial of two went on to billing; 23.00 failed, all paid.
        self.assertEqual((board.trial_conversion, board.recovery), (50.0, 100.0))
        line = board.line_ids
        self.assertEqual((line.trial_conversion, line.recovery), (50.0, 100.0))
