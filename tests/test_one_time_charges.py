# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One-time charges: one-time plan lines (a setup fee, a fee at the end of
the trial) and one-off charges added to a subscription; each billed once."""

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import SaleCommon, SubscriptionCommon


@tagged("post_install", "-at_install")
class TestOneTimeCharges(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_setup = cls._create_product(
            name="Setup fee", lst_price=50.0, type="service"
        )
        cls.product_extra = cls._create_product(
            name="Onboarding call", lst_price=80.0, type="service"
        )
        cls.plan_setup = cls._setup_plan("Pro with setup", 20.0)

    @classmethod
    def _setup_plan(cls, name, price, timing="start", fee=50.0, **values):
        plan = cls._create_plan(name, price=price, **values)
        plan.line_ids = [
            Command.create(
                {
                    "line_type": "one_time",
                    "charge_timing": timing,
                    "product_id": cls.product_setup.id,
                    "quantity": 1,
                    "price_unit": fee,
                }
            )
        ]
        return plan

    def _start(self, plan, start="2026-03-01"):
        with freeze_time(start):
            sub = self._create_subscription(plan=plan, start=start)
            sub.action_start()
        return sub

    def _bill(self, day):
        with freeze_time(day):
            self._run_billing()

    def _amounts(self, sub):
        return self._invoices(sub).mapped("amount_untaxed")

    # ------------------------------------------------------------------
    # One-time plan lines
    # ------------------------------------------------------------------

    def test_setup_fee_on_the_first_invoice_only(self):
        """Setup fee 50.00 (one-time) + 20.00 a month, from March 1st:
        March's invoice 50.00 + 20.00 = 70.00, April's 20.00. The fee is not
        prorated nor in the MRR (20.00)."""
        sub = self._start(self.plan_setup)
        self.assertEqual(self.plan_setup.recurring_amount, 20.0)
        self._bill("2026-03-01")
        self._bill("2026-04-01")
        self.assertEqual(self._amounts(sub), [70.0, 20.0])
        first = self._invoices(sub)[0]
        fee = first.invoice_line_ids.filtered(
            lambda line: line.product_id == self.product_setup
        )
        self.assertEqual((fee.name, fee.price_unit), ("Setup fee", 50.0))
        self.assertEqual(sub.mrr, 20.0, "one-time lines are not recurring revenue")
        charge = sub.charge_ids
        self.assertEqual(
            (charge.origin, charge.state, charge.invoice_line_id),
            ("plan", "billed", fee),
        )

    def test_setup_fee_recorded_once_in_the_database(self):
        """A one-time line holds one billing record: a second row for it
        (a retry, a second worker) breaks the unique index."""
        sub = self._start(self.plan_setup)
        self._bill("2026-03-01")
        line = sub.line_ids.filtered(lambda line: line.line_type == "one_time")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env["subscription.charge"]._as_engine().create(
                    {
                        "subscription_id": sub.id,
                        "origin": "plan",
                        "state": "billed",
                        "subscription_line_id": line.id,
                        "product_id": self.product_setup.id,
                        "price_unit": 50.0,
                    }
                )

    def test_no_second_setup_fee_after_a_change_of_plan(self):
        """March on "Pro with setup" (50.00 + 20.00 = 70.00); from April on
        "Plus with setup" (30.00 a month, a setup fee of 50.00 too): April's
        invoice is 30.00, no second setup fee."""
        plus = self._setup_plan("Plus with setup", 30.0)
        sub = self._start(self.plan_setup)
        self._bill("2026-03-01")
        with freeze_time("2026-03-20"):
            sub.change_plan(plus.id, policy="end_of_period")
        self._bill("2026-04-01")
        self.assertEqual(sub.plan_id, plus)
        self.assertEqual(self._amounts(sub), [70.0, 30.0])
        self.assertEqual(len(sub.charge_ids), 1)

    def test_no_setup_fee_again_on_renewal(self):
        """A two-month term renewing: March 70.00 (50.00 fee + 20.00),
        April 20.00, May (the renewed term) 20.00."""
        plan = self._setup_plan(
            "Term with setup",
            20.0,
            term_type="fixed",
            term_interval=2,
            term_unit="month",
            auto_renew=True,
        )
        sub = self._start(plan)
        self._bill("2026-03-01")
        self._bill("2026-04-01")
        self._bill("2026-05-01")
        self.assertEqual(str(sub.date_end), "2026-06-30", "renewed")
        self.assertEqual(self._amounts(sub), [70.0, 20.0, 20.0])

    def test_fee_at_the_end_of_the_trial(self):
        """A 14-day trial from March 1st, a 50.00 fee at the end of the trial:
        nothing during the trial; the invoice of March 15th is 50.00 + 20.00
        = 70.00, April 15th's 20.00."""
        plan = self._setup_plan(
            "Trial with fee",
            20.0,
            timing="trial_end",
            trial_interval=14,
            trial_unit="day",
        )
        sub = self._start(plan)
        with self._assert_no_new_invoices():
            self._bill("2026-03-01")
        self._bill("2026-03-15")
        self._bill("2026-04-15")
        self.assertEqual(self._amounts(sub), [70.0, 20.0])

    def test_fee_at_the_end_of_the_trial_needs_a_trial(self):
        """Without a trial, an end-of-trial fee is never billed: 20.00."""
        plan = self._setup_plan("No trial", 20.0, timing="trial_end")
        sub = self._start(plan)
        self._bill("2026-03-01")
        self.assertEqual(self._amounts(sub), [20.0])

    # ------------------------------------------------------------------
    # One-off charges
    # ------------------------------------------------------------------

    def test_one_off_charge_billed_once(self):
        """March 20.00; an 80.00 x 2 onboarding added on March 10th goes on
        April's invoice: 20.00 + 160.00 = 180.00; May's is 20.00 again (one
        invoice line for the charge in all)."""
        sub = self._start(self.plan_monthly)
        self._bill("2026-03-01")
        with freeze_time("2026-03-10"):
            charge_id = sub.with_user(self.billing_user).add_charge(
                self.product_extra.id, 80.0, quantity=2, description="Onboarding, 2 h"
            )
        charge = self.env["subscription.charge"].browse(charge_id)
        self.assertEqual((charge.state, charge.price_subtotal), ("pending", 160.0))
        self._bill("2026-04-01")
        self._bill("2026-04-01")
        self._bill("2026-05-01")
        self.assertEqual(self._amounts(sub), [20.0, 180.0, 20.0])
        lines = self._invoices(sub).invoice_line_ids.filtered(
            lambda line: line.subscription_charge_id
        )
        self.assertEqual(len(lines), 1)
        self.assertEqual((lines.name, lines.quantity), ("Onboarding, 2 h", 2.0))
        self.assertEqual((charge.state, charge.invoice_line_id), ("billed", lines))
        with self.assertRaises(UserError):
            charge.unlink()
        with self.assertRaises(UserError):
            charge.price_unit = 1.0

    def test_charge_billed_meanwhile_fails_the_invoice(self):
        """Another worker billed the charge between the preparation and the
        writing: the invoice is refused (rolled back), not billed twice."""
        sub = self._start(self.plan_monthly)
        charge = self.env["subscription.charge"].browse(
            sub.add_charge(self.product_extra.id, 10.0)
        )
        with freeze_time("2026-03-01"):
            groups, __, __ = sub._prepare_billing(self._date("2026-03-01"), False)
        self.env.cr.execute(
            "UPDATE subscription_charge SET state = 'billed' WHERE id = %s",
            [charge.id],
        )
        with self.assertRaises(UserError), self.env.cr.savepoint():
            sub._write_billing(groups)
        self.env.cr.execute(
            "SELECT count(*) FROM subscription_period WHERE subscription_id = %s",
            [sub.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_one_off_charge_with_invoice_now(self):
        """Invoice now bills the pending charge with the period: 20.00 +
        12.50 = 32.50."""
        with freeze_time("2026-03-01"):
            sub = self._create_subscription()
            sub.add_charge(self.product_extra.id, 12.5)
            sub.action_start()
            sub.with_user(self.billing_user).action_invoice_now()
        self.assertEqual(self._amounts(sub), [32.5])
        self.assertEqual(sub.charge_ids.state, "billed")

    def test_pending_charge_deleted(self):
        sub = self._start(self.plan_monthly)
        charge = self.env["subscription.charge"].browse(
            sub.add_charge(self.product_extra.id, 10.0)
        )
        charge.unlink()
        self._bill("2026-03-01")
        self.assertEqual(self._amounts(sub), [20.0])

    def test_preview_shows_the_charge(self):
        """The preview of April: 20.00 + 15.00 (the charge) = 35.00, with the
        charge's description; the preview writes nothing."""
        sub = self._start(self.plan_monthly)
        self._bill("2026-03-01")
        sub.add_charge(self.product_extra.id, 15.0, description="Data import")
        with freeze_time("2026-03-20"):
            preview = sub.with_user(self.billing_user).preview_next_invoice()
            wizard = self.env["subscription.preview.wizard"].create(
                {"subscription_id": sub.id}
            )
            self.assertIn("Data import", wizard.preview)
        self.assertIn("Data import", [line["description"] for line in preview["lines"]])
        self.assertEqual(preview["amount_untaxed"], 35.0)
        self.assertEqual(sub.charge_ids.state, "pending")

    def test_back_office_forms(self):
        """The plan form adds a one-time line (Billed: At the end of the
        trial); the subscription's One-off Charges tab adds a charge of
        2 x 7.50 = 15.00, to invoice."""
        with Form(self.plan_monthly) as plan_form:
            with plan_form.line_ids.new() as line:
                line.line_type = "one_time"
                line.product_id = self.product_setup
                line.charge_timing = "trial_end"
                line.price_unit = 40.0
        fee = self.plan_monthly.line_ids.filtered(
            lambda line: line.line_type == "one_time"
        )
        self.assertEqual((fee.charge_timing, fee.price_unit), ("trial_end", 40.0))
        self.assertEqual(self.plan_monthly.recurring_amount, 20.0)
        sub = self._start(self.plan_setup)
        with Form(sub.with_user(self.billing_user)) as sub_form:
            with sub_form.charge_ids.new() as charge:
                charge.product_id = self.product_extra
                charge.quantity = 2
                charge.price_unit = 7.5
        self.assertEqual(
            (sub.charge_ids.price_subtotal, sub.charge_ids.state), (15.0, "pending")
        )

    def test_hostile_inputs_refused(self):
        sub = self._start(self.plan_monthly)
        product = self.product_extra.id
        for args in (
            (product, float("nan")),
            (product, float("inf")),
            (product, -float("inf")),
            (product, 1e300),
            (product, -5.0),
            (product, "12"),
            (product, None),
            (product, True),
            (product, [1]),
            (product, 10.0, 0),
            (product, 10.0, -1),
            (product, 10.0, float("nan")),
            (product, 10.0, "2"),
            (product, 10.0, 1, "a\x00b"),
            (product, 10.0, 1, 42),
            (product, 10.0, 1, "x" * 5000),
            ("1", 10.0),
            (True, 10.0),
            (-1, 10.0),
            (10**30, 10.0),
            (None, 10.0),
            (99999999, 10.0),
        ):
            with self.subTest(args=args), self.assertRaises(UserError):
                sub.add_charge(*args)
        with self.assertRaises(UserError):
            (sub | self._start(self.plan_monthly)).add_charge(product, 1.0)
        self.assertFalse(self.env["subscription.charge"].search([]))

    def test_access(self):
        """A subscription user adds charges; an internal user without the
        subscription rights cannot."""
        sub = self._start(self.plan_monthly)
        charge_id = sub.with_user(self.billing_user).add_charge(
            self.product_extra.id, 5.0
        )
        self.assertTrue(charge_id)
        outsider = new_test_user(self.env, login="no_rights", groups="base.group_user")
        with self.assertRaises(AccessError):
            sub.with_user(outsider).add_charge(self.product_extra.id, 5.0)
        with self.assertRaises(AccessError):
            self.env["subscription.charge"].with_user(outsider).browse(charge_id).read(
                ["name"]
            )

    def test_engine_fields_refused(self):
        sub = self._start(self.plan_monthly)
        with self.assertRaises(UserError):
            self.env["subscription.charge"].with_user(self.billing_user).create(
                {
                    "subscription_id": sub.id,
                    "product_id": self.product_extra.id,
                    "state": "billed",
                }
            )


@tagged("post_install", "-at_install")
class TestOneTimeSale(SaleCommon):
    def test_quotation_sells_the_setup_fee_once(self):
        """A plan of 3 seats at 10.00 a month and a one-time setup fee of
        50.00 (its product sells at 100.00: the plan line prices it): the
        quotation's recurring amount is 30.00, its total 80.00; March's
        invoice 30.00 + 50.00 = 80.00, April's 30.00."""
        plan = self._create_plan(
            "Seats with setup", price=10.0, product=self.product_seat
        )
        plan.line_ids.quantity = 3
        plan.line_ids = [
            Command.create(
                {
                    "line_type": "one_time",
                    "product_id": self.product_setup.id,
                    "price_unit": 50.0,
                }
            )
        ]
        with freeze_time("2026-03-01"):
            order = self._create_quotation(
                [(self.product_seat, 3), (self.product_setup, 1)], plan=plan
            )
            __, setup = order.order_line
            self.assertFalse(setup.subscription_is_recurring)
            self.assertEqual(setup.subscription_recurrence, "Once")
            self.assertEqual(setup.price_unit, 50.0, "priced by the plan line")
            self.assertEqual(order.subscription_recurring_amount, 30.0)
            self.assertEqual(order.amount_untaxed, 80.0)
            order.with_user(self.salesperson).action_confirm()
            sub = order.subscription_id
            self._run_billing()
        with freeze_time("2026-04-01"):
            self._run_billing()
        self.assertEqual(self._invoices(sub).mapped("amount_untaxed"), [80.0, 30.0])
