# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Price phases of a plan, end to end: an introductory price for 3 months,
after a trial, a first year at another price; the history, the form, the
portal, and the phases refused. Amounts by hand: the plan bills 20.00 a
month; 50 % of it is 10.00, 75 % is 15.00."""

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import SubscriptionCommon


def phase(name, duration, percent, sequence=10):
    return Command.create(
        {
            "name": name,
            "duration": duration,
            "price_percent": percent,
            "sequence": sequence,
        }
    )


def fixed_phase(name, duration, price, sequence=10):
    return Command.create(
        {
            "name": name,
            "duration": duration,
            "price_mode": "fixed",
            "fixed_price": price,
            "sequence": sequence,
        }
    )


@tagged("post_install", "-at_install")
class TestPhases(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_intro = cls._create_plan(
            "Intro 3 months", price=20.0, phase_ids=[phase("Introductory", 3, 50)]
        )

    def _started(self, plan, start="2026-01-01"):
        with freeze_time(start):
            sub = self._create_subscription(plan=plan, start=start)
            sub.with_user(self.billing_user).action_start()
        return sub

    def _bill_on(self, *days):
        for day in days:
            with freeze_time(day):
                self._run_billing()

    def _amounts(self, sub):
        return [
            (str(move.invoice_date), move.amount_untaxed)
            for move in self._invoices(sub)
        ]

    def _history(self, sub):
        return [
            (str(h.date), h.kind, h.mrr_before, h.mrr_after)
            for h in sub.history_ids.sorted(lambda h: (h.date, h.id))
        ]

    def test_intro_price_for_three_months_then_the_standard_price(self):
        sub = self._started(self.plan_intro)
        line = sub.line_ids
        self.assertEqual((line.price_unit, line.standard_price_unit), (10.0, 20.0))
        change = sub.change_ids
        self.assertEqual(
            (change.state, str(change.effective_date), change.phase_id),
            ("scheduled", "2026-04-01", self.plan_intro.phase_ids),
        )
        self.assertEqual(
            change.name, "End of the phase Introductory → standard price, 20.00"
        )
        # The form: the phase, its last day and the price after.
        self.assertEqual(sub.phase_id, self.plan_intro.phase_ids)
        self.assertEqual(str(sub.phase_end_date), "2026-03-31")
        self.assertEqual(sub.phase_next_amount, 20.0)
        self._bill_on("2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01")
        self.assertEqual(
            self._amounts(sub),
            [
                ("2026-01-01", 10.0),
                ("2026-02-01", 10.0),
                ("2026-03-01", 10.0),
                ("2026-04-01", 20.0),
            ],
        )
        self.assertEqual(change.state, "applied")
        self.assertEqual(
            self._history(sub),
            [("2026-01-01", "new", 0.0, 10.0), ("2026-04-01", "price", 10.0, 20.0)],
        )
        self.assertEqual(sub.history_ids.sorted("date")[-1].change_id, change)
        self.assertFalse(sub.phase_id, "after the last phase: the standard price")
        self.assertEqual(sub.mrr, 20.0)
        self.assertEqual(
            sub.line_ids.filtered("is_current").price_unit, 20.0, "the new line"
        )
        # Idempotent: scheduling again adds nothing.
        sub._schedule_phase_changes()
        self.assertEqual(len(sub.change_ids), 1)

    def test_a_phase_change_is_scheduled_once_per_subscription(self):
        sub = self._started(self.plan_intro)
        sub._schedule_phase_changes()
        self.assertEqual(len(sub.change_ids), 1)
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            sub.change_ids._as_engine().copy({"effective_date": "2026-05-01"})
            self.env.flush_all()

    def test_trial_of_14_days_then_the_intro_price(self):
        plan = self._create_plan(
            "Trial then intro",
            price=20.0,
            trial_interval=14,
            trial_unit="day",
            phase_ids=[phase("Introductory", 3, 50)],
        )
        sub = self._started(plan)
        self.assertEqual(sub.state, "trial")
        self.assertEqual(str(sub.trial_end_date), "2026-01-14")
        self.assertEqual(str(sub.change_ids.effective_date), "2026-04-15")
        self._bill_on("2026-01-15", "2026-02-15", "2026-03-15", "2026-04-15")
        self.assertEqual(
            self._amounts(sub),
            [
                ("2026-01-15", 10.0),
                ("2026-02-15", 10.0),
                ("2026-03-15", 10.0),
                ("2026-04-15", 20.0),
            ],
        )
        self.assertEqual(
            self._history(sub),
            [("2026-01-15", "new", 0.0, 10.0), ("2026-04-15", "price", 10.0, 20.0)],
        )

    def test_first_year_at_15_then_evergreen_at_20(self):
        plan = self._create_plan(
            "First year", price=20.0, phase_ids=[phase("First year", 12, 75)]
        )
        sub = self._started(plan)
        self.assertEqual(str(sub.phase_end_date), "2026-12-31")
        self._bill_on("2026-12-01", "2027-01-01", "2027-02-01")
        amounts = self._amounts(sub)
        self.assertEqual(len(amounts), 14)
        self.assertEqual({amount for __, amount in amounts[:12]}, {15.0})
        self.assertEqual(amounts[12:], [("2027-01-01", 20.0), ("2027-02-01", 20.0)])
        self.assertEqual(self._history(sub)[-1], ("2027-01-01", "price", 15.0, 20.0))

    def test_two_phases_chain_one_change_at_a_time(self):
        plan = self._create_plan(
            "Two phases",
            price=20.0,
            phase_ids=[phase("Free month", 1, 0, 1), phase("Half price", 2, 50, 2)],
        )
        sub = self._started(plan)
        self.assertEqual(sub.line_ids.price_unit, 0.0)
        self.assertEqual(str(sub.change_ids.effective_date), "2026-02-01")
        self._bill_on("2026-01-01", "2026-02-01")
        scheduled = sub.change_ids.filtered(lambda c: c.state == "scheduled")
        self.assertEqual(str(scheduled.effective_date), "2026-04-01")
        self.assertEqual(sub.phase_id.name, "Half price")
        self._bill_on("2026-03-01", "2026-04-01")
        self.assertEqual(
            [amount for __, amount in self._amounts(sub)], [0.0, 10.0, 10.0, 20.0]
        )
        self.assertEqual(
            [h[1:] for h in self._history(sub)],
            [("new", 0.0, 0.0), ("price", 0.0, 10.0), ("price", 10.0, 20.0)],
        )

    def test_cancelling_during_the_phase_cancels_the_phase_change(self):
        sub = self._started(self.plan_intro)
        self._bill_on("2026-01-01")
        with freeze_time("2026-01-10"):
            sub.with_user(self.billing_user).cancel()
        self.assertEqual(str(sub.date_end), "2026-01-31")
        phase_change = sub.change_ids.filtered("phase_id")
        self.assertEqual(phase_change.state, "cancelled")
        with freeze_time("2026-01-20"):
            sub.with_user(self.billing_user).reactivate()
        again = sub.change_ids.filtered(lambda c: c.phase_id and c.state == "scheduled")
        self.assertEqual(str(again.effective_date), "2026-04-01", "scheduled again")

    def test_started_late_the_past_phase_change_applies_at_once(self):
        with freeze_time("2026-05-10"):
            sub = self._create_subscription(plan=self.plan_intro, start="2026-01-01")
            sub.with_user(self.billing_user).action_start()
        self.assertEqual(sub.change_ids.state, "applied")
        self.assertEqual(
            self._history(sub),
            [("2026-01-01", "new", 0.0, 10.0), ("2026-04-01", "price", 10.0, 20.0)],
        )
        self._bill_on("2026-05-10")
        self.assertEqual(
            [amount for __, amount in self._amounts(sub)],
            [10.0, 10.0, 10.0, 20.0, 20.0],
        )

    def test_no_phase_change_after_the_end_of_a_fixed_term(self):
        plan = self._create_plan(
            "Two months",
            price=20.0,
            term_type="fixed",
            term_interval=2,
            auto_renew=False,
            phase_ids=[phase("Introductory", 3, 50)],
        )
        sub = self._started(plan)
        self.assertEqual(str(sub.date_end), "2026-02-28")
        self.assertEqual(sub.line_ids.price_unit, 10.0, "the whole term at 10.00")
        self.assertFalse(sub.change_ids)

    def test_phases_tab_of_the_plan_form(self):
        manager = new_test_user(
            self.env,
            login="phase_manager",
            groups="subscription_billing.group_subscription_manager",
        )
        form = Form(self.plan_monthly.with_user(manager))
        with form.phase_ids.new() as intro:
            intro.name = "Launch offer"
            intro.duration = 2
            intro.price_percent = 25
            self.assertEqual(intro.recurring_amount, 5.0, "25 % of 20.00")
        plan = form.save()
        self.assertEqual(
            plan.phase_ids.mapped(lambda p: (p.name, p.duration, p.price_percent)),
            [("Launch offer", 2, 25.0)],
        )
        sub = self._started(plan, start="2026-03-01")
        form = Form(sub.with_user(self.billing_user))
        self.assertEqual(form.phase_id.name, "Launch offer")
        self.assertEqual(str(form.phase_end_date), "2026-04-30")
        self.assertEqual(form.phase_next_amount, 20.0)

    def test_a_phase_without_a_duration_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "needs a duration of at least"):
            self._create_plan("No duration", phase_ids=[phase("Intro", 0, 50)])

    def test_a_negative_price_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "0 to 100 % of the standard"):
            self._create_plan("Negative", phase_ids=[phase("Intro", 3, -10)])

    def test_over_100_percent_is_refused_nothing_changes(self):
        with (
            self.assertRaisesRegex(ValidationError, "not 100.01 %"),
            self.cr.savepoint(),
        ):
            self.plan_intro.phase_ids.price_percent = 100.01
        self.env.invalidate_all()
        self.assertEqual(self.plan_intro.phase_ids.price_percent, 50.0)
        with (
            self.assertRaisesRegex(ValidationError, "0 to 100 % of the standard"),
            self.cr.savepoint(),
        ):
            self._create_plan("Double", phase_ids=[phase("Double", 1, 200)])
        self.assertFalse(
            self.env["subscription.plan"].search([("name", "=", "Double")])
        )

    def test_fixed_price_of_9_99_for_3_months_on_a_19_99_plan(self):
        """ "9.99 per month for 3 months" on a 19.99 plan: January to March
        bill exactly 9.99 (not a percentage of 19.99: 49.97 % would round to
        9.99 by luck, 50 % to 10.00), April the standard 19.99."""
        plan = self._create_plan(
            "Launch 9.99",
            price=19.99,
            phase_ids=[fixed_phase("Launch offer", 3, 9.99)],
        )
        self.assertEqual(plan.phase_ids.recurring_amount, 9.99)
        sub = self._started(plan)
        line = sub.line_ids
        self.assertEqual((line.price_unit, line.standard_price_unit), (9.99, 19.99))
        self.assertEqual(
            sub.change_ids.name, "End of the phase Launch offer → standard price, 19.99"
        )
        self._bill_on("2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01")
        self.assertEqual(
            self._amounts(sub),
            [
                ("2026-01-01", 9.99),
                ("2026-02-01", 9.99),
                ("2026-03-01", 9.99),
                ("2026-04-01", 19.99),
            ],
        )
        self.assertEqual(
            self._history(sub),
            [("2026-01-01", "new", 0.0, 9.99), ("2026-04-01", "price", 9.99, 19.99)],
        )

    def test_fixed_then_percent_phases_chain(self):
        """A free first month (fixed 0.00), then 2 months at 50 % of 20.00 =
        10.00, then 20.00."""
        plan = self._create_plan(
            "Free then half",
            price=20.0,
            phase_ids=[fixed_phase("Free month", 1, 0.0, 1), phase("Half", 2, 50, 2)],
        )
        sub = self._started(plan)
        self._bill_on("2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01")
        self.assertEqual(
            [amount for __, amount in self._amounts(sub)], [0.0, 10.0, 10.0, 20.0]
        )

    def test_bad_fixed_prices_are_refused_nothing_changes(self):
        with (
            self.assertRaisesRegex(ValidationError, "cannot be negative"),
            self.cr.savepoint(),
        ):
            self._create_plan("Minus", phase_ids=[fixed_phase("Intro", 3, -1.0)])
        self.assertFalse(self.env["subscription.plan"].search([("name", "=", "Minus")]))
        # Two recurring lines: a fixed price would not say which is 9.99.
        with (
            self.assertRaisesRegex(ValidationError, "the plan has 2"),
            self.cr.savepoint(),
        ):
            self._create_plan(
                "Two lines",
                phase_ids=[fixed_phase("Intro", 3, 9.99)],
                line_ids=[
                    Command.create(
                        {"product_id": self.product_pro.id, "price_unit": 19.99}
                    ),
                    Command.create(
                        {"product_id": self.product_seat.id, "price_unit": 5.0}
                    ),
                ],
            )
        plan = self._create_plan("One line", phase_ids=[fixed_phase("Intro", 3, 9.99)])
        with (
            self.assertRaisesRegex(ValidationError, "the plan has 2"),
            self.cr.savepoint(),
        ):
            plan.line_ids = [
                Command.create({"product_id": self.product_seat.id, "price_unit": 5.0})
            ]
        self.env.invalidate_all()
        self.assertEqual(len(plan.line_ids), 1)
        with (
            self.assertRaisesRegex(ValidationError, "would price a line above"),
            self.cr.savepoint(),
        ):
            plan.phase_ids.fixed_price = 10**13
        self.env.invalidate_all()
        self.assertEqual(plan.phase_ids.fixed_price, 9.99)

    def test_too_many_phases_or_too_high_a_price_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "a plan has at most 10"):
            self._create_plan(
                "Eleven", phase_ids=[phase(f"P{i}", 1, 50, i) for i in range(11)]
            )
        with self.assertRaisesRegex(ValidationError, "is not a number"):
            self.plan_intro.phase_ids.write({"price_percent": float("nan")})


@tagged("post_install", "-at_install")
class TestPhasesPortal(HttpCase):
    def test_portal_shows_the_price_until_the_end_of_the_phase_and_after(self):
        product = self.env["product.product"].create(
            {"name": "Phased Pro", "type": "service", "taxes_id": [Command.clear()]}
        )
        plan = self.env["subscription.plan"].create(
            {
                "name": "Phased plan",
                "line_ids": [
                    Command.create(
                        {"product_id": product.id, "quantity": 1, "price_unit": 20.0}
                    )
                ],
                "phase_ids": [phase("Introductory", 3, 50)],
            }
        )
        company = self.env["res.partner"].create(
            {"name": "Phase Customer", "is_company": True, "email": "pc@example.com"}
        )
        contact = self.env["res.partner"].create(
            {"name": "Paula", "parent_id": company.id, "email": "paula@example.com"}
        )
        new_test_user(
            self.env, login="paula", groups="base.group_portal", partner_id=contact.id
        )
        with freeze_time("2026-01-01"):
            sub = self.env["subscription.subscription"].create(
                {
                    "partner_id": contact.id,
                    "plan_id": plan.id,
                    "date_start": "2026-01-01",
                }
            )
            sub.action_start()
        self.authenticate("paula", "paula")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertIn("o_portal_phase", page)
        block = page[page.index("o_portal_phase") :][:300].replace("\xa0", " ")
        self.assertIn("Introductory until Mar 31, 2026, then $ 20.00 per month", block)
        # The price per period is the phase's: 10.00.
        self.assertIn("10.00", page)
