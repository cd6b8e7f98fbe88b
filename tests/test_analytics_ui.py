# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Reports whose totals mean something, the analytics dashboard (its data,
its rights, its tour at desktop and phone size) and past months taken again
when a change is back-dated."""

from datetime import date
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SubscriptionCommon


def no_commit(env):
    """The scheduled actions' commits patched out, as in the other tests."""
    return patch.object(
        type(env["ir.cron"]), "_commit_progress", return_value=float("inf")
    )


@tagged("post_install", "-at_install")
class TestAnalyticsTotals(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Snapshot = cls.env["subscription.mrr.snapshot"]
        cls.plan_60 = cls._create_plan("Pro 60", price=60.0)

    def _start(self, partner, day, plan=None):
        with freeze_time(day):
            sub = self._create_subscription(plan=plan, partner=partner, start=day)
            sub.action_start()
            self._run_billing()
        return sub

    def _snapshots(self, today):
        with freeze_time(today), no_commit(self.env):
            self.Snapshot._cron_take_snapshots()

    # ------------------------------------------------------------------
    # MRR movements and cohorts
    # ------------------------------------------------------------------

    def _three_months(self):
        """A starts in January, B in February; A cancels in March."""
        sub_a = self._start(self.customer, "2026-01-01")
        self._start(self.customer_b, "2026-02-01")
        with freeze_time("2026-03-10"):
            sub_a.cancel(policy="immediate")
        self._snapshots("2026-04-01")

    def test_starting_and_ending_mrr_are_not_summed_over_months(self):
        self._three_months()
        aggregates = ["starting_mrr:sum", "new_amount:sum", "churn_amount:sum"]
        aggregates += ["mrr:sum", "arr:sum"]
        by_month = self.Snapshot._read_group([], ["month:month"], aggregates)
        self.assertEqual(
            [row[1:] for row in sorted(by_month, key=lambda row: row[0])],
            [
                (0.0, 20.0, 0.0, 20.0, 240.0),
                (20.0, 20.0, 0.0, 40.0, 480.0),
                (40.0, 0.0, -20.0, 20.0, 240.0),
            ],
        )
        # Over the three months: the start of January, the movements of the
        # three months, the end of March (not 60 and 80).
        [total] = self.Snapshot._read_group([], [], aggregates)
        self.assertEqual(total, (0.0, 40.0, -20.0, 20.0, 240.0))
        # Per customer: A from 0 to 0 over the range, B from 0 to 20.
        by_partner = dict(
            (partner, (start, end))
            for partner, start, end in self.Snapshot._read_group(
                [], ["partner_id"], ["starting_mrr:sum", "mrr:sum"]
            )
        )
        self.assertEqual(
            by_partner, {self.customer: (0.0, 0.0), self.customer_b: (0.0, 20.0)}
        )
        # The list shows no total of a balance; the movements still add up.
        arch = self.Snapshot.get_view(view_type="list")["arch"]
        self.assertIn('<field name="new_amount" sum="Total"/>', arch)
        self.assertIn('<field name="mrr"/>', arch)
        self.assertIn('<field name="starting_mrr"/>', arch)

    def test_cohorts_retention_from_sums_and_months_not_summed(self):
        self._three_months()
        Cohort = self.env["subscription.cohort"]
        self.assertFalse(Cohort.fields_get(["age"])["age"].get("aggregator"))
        measures = ["cohort_size:sum", "retained:sum", "retention:sum", "mrr:sum"]
        cells = {
            (cohort.month, age): values
            for cohort, age, *values in [
                (fields.Date.to_date(c), a, *v)
                for c, a, *v in Cohort._read_group(
                    [], ["cohort:month", "age"], measures
                )
            ]
        }
        self.assertEqual(
            cells,
            {
                (1, 0): [1, 1, 100.0, 20.0],
                (1, 1): [1, 1, 100.0, 20.0],
                (1, 2): [1, 0, 0.0, 0.0],
                (2, 0): [1, 1, 100.0, 20.0],
                (2, 1): [1, 1, 100.0, 20.0],
            },
        )
        # A cohort over its months: its size once, the last month's figures.
        per_cohort = {
            fields.Date.to_date(cohort).month: values
            for cohort, *values in Cohort._read_group([], ["cohort:month"], measures)
        }
        self.assertEqual(per_cohort, {1: [1, 0, 0.0, 0.0], 2: [1, 1, 100.0, 20.0]})
        # An age over the cohorts: the sum of the cohorts.
        per_age = {
            age: values for age, *values in Cohort._read_group([], ["age"], measures)
        }
        self.assertEqual(
            per_age,
            {0: [2, 2, 100.0, 40.0], 1: [2, 2, 100.0, 40.0], 2: [1, 0, 0.0, 0.0]},
        )
        [total] = Cohort._read_group([], [], measures)
        self.assertEqual(total, (2, 1, 50.0, 20.0))

    # ------------------------------------------------------------------
    # Payment recovery
    # ------------------------------------------------------------------

    def _two_follow_ups(self):
        """23.00 failed and recovered at the day-5 retry (after the day-3
        one failed); 69.00 failed and still open."""
        provider = (
            self.env["payment.provider"]
            .sudo()
            .search([("code", "=", "demo"), ("company_id", "=", self.env.company.id)])
        )
        provider.write(
            {
                "state": "test",
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        token = (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids[:1].id,
                    "payment_details": "4242",
                    "partner_id": self.customer.id,
                    "provider_ref": "demo",
                    "demo_simulated_state": "error",
                }
            )
        )
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(start="2026-05-01")
            sub.payment_token_id = token
            sub.action_start()
            self._run_billing()
        Dunning = self.env["subscription.dunning"]
        for day in ("2026-05-01", "2026-05-04", "2026-05-06"):
            if day == "2026-05-06":
                token.demo_simulated_state = "done"
            with freeze_time(day), no_commit(self.env):
                Dunning._cron_process()
        recovered = self._invoices(sub).subscription_dunning_ids
        self.assertEqual(
            (recovered.state, recovered.amount_failed, recovered.amount_recovered),
            ("recovered", 23.0, 23.0),
        )
        other = self._start(self.customer_b, "2026-05-10", plan=self.plan_60)
        invoice = self._invoices(other)
        with freeze_time("2026-05-10"):
            still_open = Dunning._open(invoice, "no_method", invoice.invoice_date_due)
        self.assertEqual((still_open.state, still_open.amount_failed), ("open", 69.0))
        return recovered | still_open

    def test_recovery_counts_each_failure_once_and_rates_from_sums(self):
        follow_ups = self._two_follow_ups()
        Recovery = self.env["subscription.dunning.recovery"].with_user(
            self.billing_user
        )
        self.assertNotIn("dimension", Recovery._fields, "no overall rows to add up")
        self.assertEqual(Recovery.search([]).dunning_id, follow_ups)
        measures = [
            "dunning_count:sum",
            "amount_failed:sum",
            "amount_recovered:sum",
            "recovery_rate:sum",
        ]
        # 23 / (23 + 69) = 25 %, not the average of 100 % and 0 %.
        [total] = Recovery._read_group([], [], measures)
        self.assertEqual(total, (2, 92.0, 23.0, 25.0))
        [(month, *per_month)] = Recovery._read_group([], ["month:month"], measures)
        self.assertEqual(per_month, [2, 92.0, 23.0, 25.0])
        by_state = {
            state: values
            for state, *values in Recovery._read_group([], ["state"], measures)
        }
        self.assertEqual(
            by_state,
            {"recovered": [1, 23.0, 23.0, 100.0], "open": [1, 69.0, 0.0, 0.0]},
        )
        # The web client's grouped read, as the pivot asks it.
        groups = Recovery.formatted_read_group(
            [], ["month:month"], ["amount_failed:sum", "recovery_rate:sum"]
        )
        self.assertEqual(
            (groups[0]["amount_failed:sum"], groups[0]["recovery_rate:sum"]),
            (92.0, 25.0),
        )

    def test_recovery_per_step_total_counts_a_follow_up_once(self):
        self._two_follow_ups()
        Step = self.env["subscription.dunning.recovery.step"].with_user(
            self.billing_user
        )
        measures = [
            "dunning_count:sum",
            "amount_failed:sum",
            "amount_recovered:sum",
            "recovery_rate:sum",
        ]
        per_step = {
            (step.day, step.action): values
            for step, *values in Step._read_group([], ["step_id"], measures)
        }
        self.assertEqual(
            per_step,
            {(3, "retry"): [1, 23.0, 0.0, 0.0], (5, "retry"): [1, 23.0, 23.0, 100.0]},
        )
        # Both steps together: the one follow-up that reached them, once.
        [total] = Step._read_group([], [], measures)
        self.assertEqual(total, (1, 23.0, 23.0, 100.0))

    def test_payment_recovery_is_under_reporting(self):
        reporting = self.env.ref("subscription_billing.menu_subscription_reporting")
        for xmlid in (
            "menu_subscription_dunning_recovery",
            "menu_subscription_kpi_dashboard",
        ):
            menu = self.env.ref(f"subscription_billing.{xmlid}")
            self.assertEqual(menu.parent_id, reporting)
        dashboard = self.env.ref("subscription_billing.menu_subscription_kpi_dashboard")
        self.assertEqual(dashboard.action._name, "ir.actions.client")
        self.assertEqual(dashboard.action.tag, "subscription_billing.kpi_dashboard")

    # ------------------------------------------------------------------
    # Dashboard data
    # ------------------------------------------------------------------

    def _kpis(self, data):
        return {kpi["key"]: (kpi["value"], kpi["display"]) for kpi in data["kpis"]}

    def test_dashboard_without_base_says_not_available(self):
        Dashboard = self.env["subscription.kpi.dashboard"].with_user(self.billing_user)
        with freeze_time("2026-04-15"):
            data = Dashboard.get_dashboard_data(months=3)
        self.assertFalse(data["has_data"])
        self.assertEqual(data["lines"], [])
        kpis = self._kpis(data)
        for key in ("nrr", "grr", "logo_churn", "revenue_churn", "arpu", "ltv"):
            self.assertEqual(kpis[key], (None, None), key)
        for key in ("trial_conversion", "recovery"):
            self.assertEqual(kpis[key], (None, None), key)
        self.assertEqual(kpis["active_customers"], (0, "0"))
        unavailable = {kpi["key"]: kpi["unavailable"] for kpi in data["kpis"]}
        self.assertEqual(
            unavailable["nrr"], "No customer with MRR at the start of the period."
        )

    def test_dashboard_first_month_has_no_churn_base(self):
        # A customer who started in the first month of the range: no one was
        # there at its start, so NRR and churn are not available (not 0 %).
        self._start(self.customer, "2026-03-01")
        self._snapshots("2026-04-01")
        Dashboard = self.env["subscription.kpi.dashboard"].with_user(self.billing_user)
        with freeze_time("2026-04-15"):
            data = Dashboard.get_dashboard_data(months=1)
        kpis = self._kpis(data)
        self.assertEqual(kpis["mrr"][0], 20.0)
        self.assertIn("20.00", kpis["mrr"][1])
        self.assertEqual(kpis["active_subscriptions"], (1, "1"))
        self.assertEqual(kpis["arpu"][0], 20.0)
        self.assertEqual(kpis["nrr"], (None, None))
        self.assertEqual(kpis["logo_churn"], (None, None))
        [line] = data["lines"]
        self.assertEqual((line["new_amount"], line["mrr"]), (20.0, 20.0))
        self.assertIsNone(line["display"]["logo_churn"])
        # Filtered by plan: the customer's plan, or another one.
        [plans] = [f for f in data["filters"] if f["name"] == "plan_ids"]
        self.assertEqual(plans["all"], "All plans")
        self.assertIn(self.plan_monthly.id, [c["id"] for c in plans["choices"]])
        for plan, mrr in ((self.plan_monthly, 20.0), (self.plan_60, 0.0)):
            with freeze_time("2026-04-15"):
                only = Dashboard.get_dashboard_data(
                    months=1, filters={"plan_ids": plan.ids}
                )
            self.assertEqual(self._kpis(only)["mrr"][0], mrr)
        # Over two months, the customer was there at the start of April's...
        self._snapshots("2026-05-01")
        with freeze_time("2026-05-15"):
            data = Dashboard.get_dashboard_data(months=2)
        kpis = self._kpis(data)
        self.assertEqual(kpis["logo_churn"], (0.0, "0.00 %"))
        self.assertEqual([line["mrr"] for line in data["lines"]], [20.0, 20.0])

    def test_dashboard_refused_without_the_subscription_group(self):
        outsider = new_test_user(
            self.env, login="no_subscriptions", groups="base.group_user"
        )
        with self.assertRaises(AccessError):
            self.env["subscription.kpi.dashboard"].with_user(
                outsider
            ).get_dashboard_data()

    def test_dashboard_refuses_hostile_arguments(self):
        Dashboard = self.env["subscription.kpi.dashboard"]
        for months in ("12", 1.5, float("nan"), float("inf"), True, [12]):
            with (
                self.subTest(months=months),
                self.assertRaisesRegex(UserError, "whole number from 1 to 60"),
            ):
                Dashboard.get_dashboard_data(months=months)
        for filters, message in (
            ([1, 2], "filters must be an object"),
            ("plan_ids", "filters must be an object"),
            ({"partner_id": [1]}, "Unknown dashboard filter: partner_id"),
            ({"plan_ids": 5}, "takes a list of record ids"),
            ({"plan_ids": ["1\x00"]}, "takes a list of record ids"),
            ({"plan_ids": [1.5]}, "takes a list of record ids"),
        ):
            with (
                self.subTest(filters=filters),
                self.assertRaisesRegex(UserError, message),
            ):
                Dashboard.get_dashboard_data(filters=filters)
        # Out-of-range months are brought into 1..60, not refused.
        self.assertEqual(Dashboard.get_dashboard_data(months=10**9)["months"], 60)
        self.assertEqual(Dashboard.get_dashboard_data(months=0)["months"], 12)
        self.assertEqual(Dashboard.get_dashboard_data(months=-3)["months"], 1)

    # ------------------------------------------------------------------
    # Back-dated changes
    # ------------------------------------------------------------------

    def test_back_dated_subscription_reaches_past_snapshots(self):
        self._start(self.customer, "2026-01-01")
        self._snapshots("2026-04-01")  # January to March: A alone
        Snapshot = self.Snapshot
        self.assertEqual(
            [
                row[1]
                for row in sorted(
                    Snapshot._read_group([], ["month:month"], ["mrr:sum"])
                )
            ],
            [20.0, 20.0, 20.0],
        )
        self.assertFalse(Snapshot._stale_month(self.env.company))
        # On April 10, B is entered with a start three months back.
        with freeze_time("2026-04-10"):
            late = self._create_subscription(
                partner=self.customer_b, start="2026-01-01"
            )
            late.action_start()
            self._run_billing()
        self.assertEqual(late.history_ids.date, date(2026, 1, 1))
        self.assertEqual(Snapshot._stale_month(self.env.company), date(2026, 1, 1))
        with freeze_time("2026-04-10"):
            data = self.env["subscription.kpi.dashboard"].get_dashboard_data(months=3)
        self.assertIn("reach back to January 2026", data["stale"])
        self._snapshots("2026-04-11")
        self.assertFalse(Snapshot._stale_month(self.env.company))
        rows = Snapshot.search([("subscription_id", "=", late.id)])
        self.assertEqual(
            [(row.month, row.new_amount, row.mrr) for row in rows.sorted("month")],
            [
                (date(2026, 1, 1), 20.0, 20.0),
                (date(2026, 2, 1), 0.0, 20.0),
                (date(2026, 3, 1), 0.0, 20.0),
            ],
        )
        totals = sorted(
            Snapshot._read_group(
                [], ["month:month"], ["starting_mrr:sum", "new_amount:sum", "mrr:sum"]
            )
        )
        self.assertEqual(
            [row[1:] for row in totals],
            [(0.0, 40.0, 40.0), (40.0, 0.0, 40.0), (40.0, 0.0, 40.0)],
        )
        # A change dated today does not touch the months taken.
        with freeze_time("2026-04-12"):
            late.change_plan(self.plan_60.id, policy="immediate")
        self.assertFalse(Snapshot._stale_month(self.env.company))


@tagged("post_install", "-at_install")
class TestDashboardTour(HttpCase):
    """The dashboard in the browser: its cards and charts, no horizontal
    overflow."""

    tour = "subscription_dashboard_tour"

    def setUp(self):
        super().setUp()
        product = self.env["product.product"].create(
            {"name": "Tour Service", "type": "service", "lst_price": 30.0}
        )
        plan = self.env["subscription.plan"].create(
            {"name": "Tour Plan", "line_ids": [(0, 0, {"product_id": product.id})]}
        )
        partner = self.env["res.partner"].create(
            {"name": "Dashboard Customer", "is_company": True}
        )
        start = fields.Date.today().replace(day=1) - relativedelta(months=3)
        sub = self.env["subscription.subscription"].create(
            {"partner_id": partner.id, "plan_id": plan.id, "date_start": start}
        )
        sub.action_start()
        with no_commit(self.env):
            self.env["subscription.mrr.snapshot"]._cron_take_snapshots()
        # Compile the bundles here rather than in the first requests: on a
        # busy machine, a request compiling them holds the test cursor long
        # enough for the others to time out.
        for bundle in ("web.assets_web", "web.assets_tests", "web.chartjs_lib"):
            assets = self.env["ir.qweb"]._get_asset_bundle(bundle)
            assets.css()
            assets.js()
        new_test_user(
            self.env,
            login="tour_analytics",
            groups="subscription_billing.group_subscription_user",
        )

    def test_dashboard_tour(self):
        self.start_tour("/odoo", self.tour, login="tour_analytics")


@tagged("post_install", "-at_install")
class TestDashboardTourPhone(TestDashboardTour):
    browser_size = "390x844"
    touch_enabled = True
