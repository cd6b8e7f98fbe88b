# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import SubscriptionCommon


@tagged("post_install", "-at_install")
class TestRecurringInvoicing(SubscriptionCommon):
    @freeze_time("2026-03-01")
    def test_monthly_in_advance(self):
        sub = self._create_subscription()
        self.assertEqual(sub.state, "draft")
        self.assertTrue(sub.name.startswith("SUB/2026/"))
        self.assertEqual(len(sub.line_ids), 1, "lines are copied from the plan")
        sub.action_start()
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.next_invoice_date, self._date("2026-03-01"))

        self._run_billing()

        invoice = self._invoices(sub)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(invoice.partner_id, self.customer)
        self.assertEqual(invoice.invoice_date, self._date("2026-03-01"))
        self.assertEqual(invoice.invoice_origin, sub.name)
        self.assertEqual(invoice.subscription_ids, sub)
        line = invoice.invoice_line_ids
        self.assertEqual(line.name, "Pro plan — 03/01/2026 → 03/31/2026")
        self.assertEqual(line.price_unit, 20.0)
        self.assertEqual(line.tax_ids, self.tax_sale_a)
        self.assertEqual(line.subscription_id, sub)
        self.assertEqual(line.subscription_period_start, self._date("2026-03-01"))
        self.assertEqual(line.subscription_period_end, self._date("2026-03-31"))
        self.assertEqual(invoice.amount_untaxed, 20.0)
        self.assertEqual(invoice.amount_tax, 20.0 * self.tax_sale_a.amount / 100)
        self.assertEqual(sub.invoiced_until, self._date("2026-03-31"))
        self.assertEqual(sub.next_invoice_date, self._date("2026-04-01"))
        self.assertEqual(sub.invoice_count, 1)

        # Running again the same day bills nothing more.
        with self._assert_no_new_invoices():
            self._run_billing()

    def test_catch_up_bills_each_missed_period_once(self):
        with freeze_time("2026-03-01"):
            sub = self._create_subscription()
            sub.action_start()
        with freeze_time("2026-06-15"):
            self._run_billing()
            self._run_billing()
        invoices = self._invoices(sub)
        self.assertEqual(
            invoices.mapped("invoice_date"),
            [
                self._date(d)
                for d in ("2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01")
            ],
        )
        self.assertEqual(
            sub.period_ids.mapped("period_end"),
            [
                self._date(d)
                for d in ("2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30")
            ],
        )
        self.assertEqual(sum(invoices.mapped("amount_untaxed")), 80.0)
        self.assertEqual(sub.next_invoice_date, self._date("2026-07-01"))

    @freeze_time("2026-05-11")
    def test_calendar_alignment_prorates_first_period(self):
        plan = self._create_plan(
            "Calendar", price=20.0, alignment="calendar", alignment_day=1
        )
        sub = self._create_subscription(plan=plan, start="2026-05-11")
        sub.action_start()
        self._run_billing()
        line = self._invoices(sub).invoice_line_ids
        # 21 of May's 31 days: 20 x 21 / 31 = 13.548... -> 13.55
        self.assertEqual(line.price_unit, 13.55)
        self.assertEqual(line.name, "Pro plan — 05/11/2026 → 05/31/2026 (21/31 days)")
        self.assertEqual(line.subscription_billed_days, 21)
        self.assertEqual(line.subscription_period_days, 31)
        self.assertEqual(sub.next_invoice_date, self._date("2026-06-01"))

    def test_in_arrears(self):
        plan = self._create_plan("Arrears", price=30.0, billing_timing="arrears")
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan)
            sub.action_start()
            self.assertEqual(sub.next_invoice_date, self._date("2026-04-01"))
        with freeze_time("2026-03-31"), self._assert_no_new_invoices():
            self._run_billing()
        with freeze_time("2026-04-01"):
            self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(invoice.invoice_date, self._date("2026-04-01"))
        self.assertEqual(
            invoice.invoice_line_ids.subscription_period_end, self._date("2026-03-31")
        )
        self.assertEqual(invoice.amount_untaxed, 30.0)

    def test_end_date_prorates_last_period_and_closes(self):
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(date_end="2026-04-15")
            sub.action_start()
        with freeze_time("2026-04-20"):
            self._run_billing()
        invoices = self._invoices(sub)
        self.assertEqual(len(invoices), 2)
        last = invoices[-1].invoice_line_ids
        # 15 of 30 days of April: 20 x 15 / 30 = 10.00
        self.assertEqual(last.price_unit, 10.0)
        self.assertEqual(last.name, "Pro plan — 04/01/2026 → 04/15/2026 (15/30 days)")
        self.assertFalse(sub.next_invoice_date)
        self.assertEqual(sub.state, "closed")
        self.assertEqual(
            sub.close_reason_id,
            self.env.ref("subscription_billing.close_reason_term_ended"),
        )

    @freeze_time("2026-03-01")
    def test_fiscal_position_maps_taxes(self):
        self.customer_b.property_account_position_id = self.fiscal_pos_a
        sub = self._create_subscription(partner=self.customer_b)
        self.assertEqual(sub.fiscal_position_id, self.fiscal_pos_a)
        sub.action_start()
        self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(invoice.fiscal_position_id, self.fiscal_pos_a)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.tax_sale_b)

    @freeze_time("2026-03-01")
    def test_trial_then_billing(self):
        plan = self._create_plan(
            "Trial", price=50.0, trial_interval=14, trial_unit="day"
        )
        sub = self._create_subscription(plan=plan)
        self.assertEqual(sub.trial_end_date, self._date("2026-03-14"))
        sub.action_start()
        self.assertEqual(sub.state, "trial")
        self.assertEqual(sub.next_invoice_date, self._date("2026-03-15"))
        with self._assert_no_new_invoices():
            self._run_billing()
        with freeze_time("2026-03-15"):
            self._run_billing()
        self.assertEqual(sub.state, "active")
        line = self._invoices(sub).invoice_line_ids
        self.assertEqual(line.name, "Pro plan — 03/15/2026 → 04/14/2026")
        self.assertEqual(line.price_unit, 50.0)

    @freeze_time("2026-03-01")
    def test_draft_policy_and_several_lines(self):
        plan = self._create_plan("Draft", price=20.0, invoice_policy="draft")
        sub = self._create_subscription(plan=plan)
        sub.line_ids = [
            Command.create(
                {"product_id": self.product_seat.id, "quantity": 3, "price_unit": 5.0}
            )
        ]
        sub.action_start()
        self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(len(invoice.invoice_line_ids), 2)
        self.assertEqual(invoice.amount_untaxed, 35.0)

    @freeze_time("2026-03-01")
    def test_send_policy_queues_email(self):
        plan = self._create_plan("Send", price=20.0, invoice_policy="send")
        sub = self._create_subscription(plan=plan)
        sub.action_start()
        self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.is_being_sent, "queued for Odoo's sending job")

    @freeze_time("2026-03-01")
    def test_consolidated_invoice_per_customer(self):
        self.customer.subscription_consolidate_invoices = True
        plan_b = self._create_plan("Seats", price=5.0, product=self.product_seat)
        subs = self._create_subscription() | self._create_subscription(plan=plan_b)
        other = self._create_subscription(partner=self.customer_b)
        later = self._create_subscription(start="2026-03-10")
        (subs | other | later).action_start()
        self._run_billing()
        invoice = self._invoices(subs)
        self.assertEqual(len(invoice), 1, "one invoice for both subscriptions")
        self.assertEqual(invoice.subscription_ids, subs)
        self.assertEqual(
            sorted(invoice.invoice_line_ids.mapped("price_unit")), [5.0, 20.0]
        )
        self.assertEqual(invoice.amount_untaxed, 25.0)
        self.assertEqual(len(self._invoices(other)), 1)
        self.assertNotEqual(self._invoices(other), invoice)
        self.assertFalse(later.period_ids, "not due yet")

    def test_fixed_term_renews(self):
        plan = self._create_plan(
            "Yearly",
            price=240.0,
            billing_unit="year",
            term_type="fixed",
            term_interval=1,
            term_unit="year",
            auto_renew=True,
        )
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan)
            self.assertEqual(sub.date_end, self._date("2027-02-28"))
            sub.action_start()
            self._run_billing()
        with freeze_time("2027-03-01"):
            self._run_billing()
        self.assertEqual(sub.date_end, self._date("2028-02-29"))
        self.assertEqual(sub.state, "active")
        self.assertEqual(
            sub.period_ids.mapped("period_start"),
            [self._date("2026-03-01"), self._date("2027-03-01")],
        )
        self.assertEqual(self._invoices(sub).mapped("amount_untaxed"), [240.0, 240.0])

    def test_fixed_term_ends(self):
        plan = self._create_plan(
            "Six months",
            price=20.0,
            term_type="fixed",
            term_interval=2,
            term_unit="month",
            auto_renew=False,
        )
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan)
            sub.action_start()
        with freeze_time("2026-06-01"):
            self._run_billing()
        self.assertEqual(len(sub.period_ids), 2)
        self.assertEqual(sub.state, "closed")
        self.assertEqual(sub.invoiced_until, self._date("2026-04-30"))

    @freeze_time("2026-03-01")
    def test_invoice_now_and_wizard(self):
        sub = self._create_subscription()
        sub.action_start()
        self.assertTrue(sub.is_invoice_due)
        action = sub.with_user(self.billing_user).action_invoice_now()
        self.assertFalse(sub.is_invoice_due)
        self.assertEqual(action["params"]["next"]["res_id"], self._invoices(sub).id)
        with self.assertRaisesRegex(UserError, "Nothing is due today"):
            sub.action_invoice_now()

        other = self._create_subscription(partner=self.customer_b, start="2026-02-01")
        other.action_start()
        wizard = Form(
            self.env["subscription.invoice.wizard"].with_user(self.billing_user)
        )
        wizard.date = "2026-03-01"
        wizard.save().action_generate()
        self.assertEqual(len(other.period_ids), 2, "February and March")
        with self.assertRaisesRegex(UserError, "only be invoiced up to today"):
            self.env["subscription.invoice.wizard"].create(
                {"date": "2026-04-01"}
            ).action_generate()

    def test_wizard_is_the_billing_run(self):
        """The wizard bills as the scheduled action and the API do: the
        scheduled changes due apply before their period is invoiced, and a
        trial that ended unconfirmed expires instead of failing."""
        trial_plan = self._create_plan(
            "Trial", trial_interval=14, trial_unit="day", trial_conversion="manual"
        )
        with freeze_time("2026-03-01"):
            sub = self._create_subscription()
            trial = self._create_subscription(plan=trial_plan, partner=self.customer_b)
            (sub | trial).action_start()
            self._run_billing()
            result = sub.change_price(sub.line_ids.id, 30.0, policy="end_of_period")
            self.assertEqual(result["state"], "scheduled")
            self.assertEqual(result["effective_date"], "2026-04-01")
        with freeze_time("2026-04-01"):
            self.env["subscription.invoice.wizard"].with_user(self.billing_user).create(
                {"date": "2026-04-01"}
            ).action_generate()
        self.assertEqual(
            self._invoices(sub).mapped("amount_untaxed"),
            [20.0, 30.0],
            "April at the new price",
        )
        self.assertEqual(trial.state, "closed")
        self.assertFalse(trial.billing_error)

    @freeze_time("2026-03-01")
    def test_invoice_grouping_keys_can_be_extended(self):
        self.customer.subscription_consolidate_invoices = True
        subs = self._create_subscription() | self._create_subscription()
        subs[1].user_id = self.billing_user
        subs.action_start()
        Sub = type(self.env["subscription.subscription"])
        original = Sub._get_invoice_grouping_keys

        def by_salesperson(self):
            return [*original(self), "user_id"]

        with patch.object(Sub, "_get_invoice_grouping_keys", by_salesperson):
            self._run_billing()
        invoices = self._invoices(subs)
        self.assertEqual(len(invoices), 2, "one invoice per salesperson")
        self.assertEqual(
            invoices.mapped("invoice_user_id"), (self.env.user | self.billing_user)
        )

    def test_deleted_draft_invoice_is_billed_again(self):
        plan = self._create_plan("Draft", price=20.0, invoice_policy="draft")
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan)
            sub.action_start()
        with freeze_time("2026-04-01"):
            self._run_billing()
            march, april = self._invoices(sub)
            march.unlink()
            self.assertEqual(sub.next_invoice_date, self._date("2026-03-01"))
            self._run_billing()
        self.assertEqual(
            sub.period_ids.mapped("period_start"),
            [self._date("2026-03-01"), self._date("2026-04-01")],
        )
        self.assertIn(april, sub.invoice_ids)
        self.assertEqual(len(sub.invoice_ids), 2)

    def test_unique_period_in_database(self):
        with freeze_time("2026-03-01"):
            sub = self._create_subscription()
            sub.action_start()
            self._run_billing()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env["subscription.period"].sudo().create(
                    {
                        "subscription_id": sub.id,
                        "period_start": "2026-03-01",
                        "period_end": "2026-03-31",
                    }
                )

    def test_crash_mid_run_then_rerun_bills_once(self):
        """A crash after a committed batch: the rerun bills the rest, each once."""
        with freeze_time("2026-03-01"):
            partners = self.env["res.partner"].create(
                [{"name": f"Customer {i}"} for i in range(5)]
            )
            subs = self.env["subscription.subscription"].create(
                [
                    {
                        "partner_id": p.id,
                        "plan_id": self.plan_monthly.id,
                        "date_start": "2026-03-01",
                    }
                    for p in partners
                ]
            )
            subs.action_start()

        class Crash(BaseException):
            """The worker dies (not an error the run could catch)."""

        cr = self.env.cr
        units = iter(range(100))

        def begin_unit_of_work():
            name = f"unit_of_work_{next(units)}"
            cr.flush()
            cr.execute(f"SAVEPOINT {name}")
            return name

        state = {"calls": 0, "unit": begin_unit_of_work()}

        def commit_progress(*args, **kwargs):
            # "Commit": keep the work so far and start a new unit of work;
            # the worker dies during the second batch, before it commits
            # (the first call commits what came before the first claim).
            state["calls"] += 1
            if state["calls"] == 3:
                raise Crash()
            cr.flush()
            cr.execute(f"RELEASE SAVEPOINT {state['unit']}")
            state["unit"] = begin_unit_of_work()
            return float("inf")

        Cron = type(self.env["ir.cron"])
        with freeze_time("2026-04-01"):
            died = False
            try:
                with patch.object(
                    Cron, "_commit_progress", side_effect=commit_progress
                ):
                    self.env["subscription.subscription"]._cron_generate_invoices(
                        batch_size=2
                    )
                self.fail("the worker was meant to die in its second batch")
            except Crash:
                died = True
            self.assertTrue(died)
            # The dead batch is lost, as its transaction would be.
            cr.clear()
            cr.execute(f"ROLLBACK TO SAVEPOINT {state['unit']}")
            self.env.invalidate_all()
            billed = subs.filtered("period_ids")
            self.assertEqual(len(billed), 2, "the first committed batch only")
            self._run_billing()
        for sub in subs:
            self.assertEqual(
                sub.period_ids.mapped("period_start"),
                [self._date("2026-03-01"), self._date("2026-04-01")],
            )
            self.assertEqual(len(sub.invoice_ids), 2)

    def test_failing_subscription_is_isolated(self):
        revenue = self.company_data["default_account_revenue"]
        orphan = self._create_product(name="Orphan service", type="service")
        with freeze_time("2026-03-01"):
            good = self._create_subscription()
            bad = self._create_subscription(partner=self.customer_b)
            bad.line_ids = [
                Command.create({"product_id": orphan.id, "price_unit": 9.0})
            ]
            (good | bad).action_start()
        # Later, the product loses every income account it could fall back on.
        orphan.property_account_income_id = False
        orphan.categ_id.property_account_income_categ_id = False
        self.env.company.income_account_id = False
        with freeze_time("2026-03-02"):
            self._run_billing()
        self.assertEqual(len(good.invoice_ids), 1)
        self.assertFalse(bad.period_ids)
        self.assertIn("has no income account", bad.billing_error)
        self.assertIn("Orphan service", bad.billing_error)
        activity = bad.activity_ids
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("subscription_billing.mail_activity_type_billing_error"),
        )
        self.assertIn("Billing failed", bad.message_ids[0].body)
        # Fixed: the next run bills it and clears the error.
        orphan.property_account_income_id = revenue
        with freeze_time("2026-03-02"):
            self._run_billing()
        self.assertEqual(len(bad.invoice_ids), 1)
        self.assertFalse(bad.billing_error)
        self.assertEqual(len(bad.activity_ids), 1, "one activity, not one per run")

    def test_failure_while_writing_is_retried_alone(self):
        with freeze_time("2026-03-01"):
            subs = self._create_subscription() | self._create_subscription(
                partner=self.customer_b
            )
            subs.action_start()
        bad = subs[1]
        Sub = type(self.env["subscription.subscription"])
        original = Sub._prepare_service_line_vals

        def broken(self, period):
            vals_list = original(self, period)
            if self == bad:
                vals_list[0]["account_id"] = -1  # makes the INSERT fail
            return vals_list

        with freeze_time("2026-03-01"), mute_logger("odoo.sql_db"):
            with patch.object(Sub, "_prepare_service_line_vals", broken):
                self._run_billing()
        self.assertEqual(len(subs[0].invoice_ids), 1)
        self.assertFalse(bad.period_ids)
        self.assertTrue(bad.billing_error)
