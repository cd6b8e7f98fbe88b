# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mid-life changes end to end: proration documents, lifecycle, history."""

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import UsageCommon


@tagged("post_install", "-at_install")
class TestSubscriptionChanges(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_plus = cls._create_plan("Pro plus", price=40.0)
        cls.plan_10 = cls._create_plan("Basic 10", price=10.0)
        cls.plan_20 = cls._create_plan("Basic 20", price=20.0)

    def _started(self, plan=None, start="2026-05-01", bill=True, **values):
        with freeze_time(start):
            sub = self._create_subscription(plan=plan, start=start, **values)
            sub.action_start()
            if bill:
                self._run_billing()
        return sub

    def _as_user(self, sub):
        return sub.with_user(self.billing_user)

    def _history(self, sub):
        return [
            (str(h.date), h.kind, h.mrr_before, h.mrr_after)
            for h in sub.history_ids.sorted(lambda h: (h.date, h.id))
        ]

    def _assert_history_chain(self, sub):
        previous = 0.0
        for entry in sub.history_ids.sorted(lambda h: (h.date, h.id)):
            self.assertEqual(entry.mrr_before, previous, "each entry follows the last")
            previous = entry.mrr_after

    # ------------------------------------------------------------------
    # Acceptance: exact proration
    # ------------------------------------------------------------------

    def test_upgrade_on_may_11_credits_13_55_and_charges_27_10(self):
        sub = self._started()
        may = self._invoices(sub)
        self.assertEqual(may.amount_untaxed, 20.0)
        with freeze_time("2026-05-11"):
            result = self._as_user(sub).change_plan(self.plan_plus.id)
        self.assertEqual(result["policy"], "immediate", "upgrades apply now")
        self.assertEqual(
            (result["credit"], result["charge"], result["net"]), (-13.55, 27.10, 13.55)
        )
        move = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(move.state, "posted")
        self.assertEqual(
            sorted(move.invoice_line_ids.mapped("price_subtotal")), [-13.55, 27.10]
        )
        self.assertEqual(move.amount_untaxed, 13.55)
        self.assertIn("(21/31 days)", move.invoice_line_ids[0].name)
        self.assertEqual(sub.plan_id, self.plan_plus)
        old, new = sub.line_ids.sorted("id")
        self.assertEqual(str(old.date_end), "2026-05-10")
        self.assertEqual(str(new.date_start), "2026-05-11")
        self.assertEqual(sub.recurring_amount, 40.0)
        with freeze_time("2026-06-01"):
            self._run_billing()
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 40.0)
        self.assertEqual(
            self._history(sub),
            [
                ("2026-05-01", "new", 0.0, 20.0),
                ("2026-05-11", "upgrade", 20.0, 40.0),
            ],
        )

    def test_prorated_documents_follow_the_send_policy(self):
        plan = self._create_plan("Sent", price=20.0, invoice_policy="send")
        plus = self._create_plan("Sent plus", price=40.0, invoice_policy="send")
        sub = self._started(plan=plan)
        with freeze_time("2026-05-11"):
            result = sub.change_plan(plus.id)
        move = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(move.state, "posted")
        self.assertTrue(move.sending_data, "queued for sending, as the plan asks")

    def test_change_at_mid_period_minus_5_plus_10(self):
        sub = self._started(plan=self.plan_10, start="2026-06-01")
        with freeze_time("2026-06-16"):
            result = sub.change_plan(self.plan_20.id, policy="immediate")
        self.assertEqual((result["credit"], result["charge"]), (-5.0, 10.0))
        self.assertEqual(result["net"], 5.0)

    def test_seat_added_on_the_15th_is_billed_16_days_then_credited(self):
        plan = self._create_plan("Seats", price=30.0, product=self.product_seat)
        plan.line_ids.quantity = 3
        plan.downgrade_policy = "immediate"
        sub = self._started(plan=plan, start="2026-06-01")
        self.assertEqual(self._invoices(sub).amount_untaxed, 90.0)
        line = sub.line_ids
        with freeze_time("2026-06-15"):
            result = sub.change_quantity(line.id, 4)
        move = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(len(move.invoice_line_ids), 1, "one line: the extra seat")
        self.assertEqual(move.invoice_line_ids.quantity, 1)
        self.assertEqual(move.invoice_line_ids.price_unit, 16.0, "30 × 16/30 days")
        self.assertIn("3 → 4", move.invoice_line_ids.name)
        self.assertIn("(16/30 days)", move.invoice_line_ids.name)
        current = sub.line_ids.filtered(lambda line: not line.date_end)
        with freeze_time("2026-06-21"):
            result = sub.change_quantity(current.id, 3)
        refund = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(refund.move_type, "out_refund", "a credit is a credit note")
        self.assertEqual(refund.amount_untaxed, 10.0, "30 × 10/30 days")
        self.assertEqual(refund.reversed_entry_id, self._invoices(sub)[0])
        self.assertEqual(
            [h[1:] for h in self._history(sub)],
            [("new", 0.0, 90.0), ("quantity", 90.0, 120.0), ("quantity", 120.0, 90.0)],
        )

    def test_downgrade_waits_for_the_end_of_the_period_and_can_be_cancelled(self):
        sub = self._started(plan=self.plan_plus)
        with freeze_time("2026-05-11"):
            result = sub.change_plan(self.plan_monthly.id)
            self.assertEqual(result["state"], "scheduled")
            self.assertEqual(result["effective_date"], "2026-06-01")
            self.assertEqual(result["net"], 0.0)
            self.assertEqual(sub.scheduled_change_count, 1)
            self.assertEqual(sub.plan_id, self.plan_plus, "not yet applied")
            with self.assertRaisesRegex(UserError, "conflicts with this one"):
                sub.change_plan(self.plan_20.id)
        with freeze_time("2026-06-01"):
            self._run_billing()
        self.assertEqual(sub.plan_id, self.plan_monthly)
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 20.0)
        self.assertEqual(
            self._history(sub)[-1], ("2026-06-01", "downgrade", 40.0, 20.0)
        )

    def test_scheduled_change_cancelled_before_it_applies(self):
        sub = self._started(plan=self.plan_plus)
        with freeze_time("2026-05-11"):
            result = sub.change_plan(self.plan_monthly.id)
            change = self.env["subscription.change"].browse(result["change_id"])
            self._as_user(change).action_cancel()
            self.assertEqual(change.state, "cancelled")
        with freeze_time("2026-06-01"):
            self._run_billing()
        self.assertEqual(sub.plan_id, self.plan_plus)
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 40.0)

    def test_prorated_charge_on_the_next_invoice_and_in_the_preview(self):
        plan = self._create_plan("Next invoice", price=20.0)
        plan.proration_invoicing = "next"
        sub = self._started(plan=plan)
        option = self._create_product(name="Support", lst_price=31.0, type="service")
        plan.line_ids = [
            Command.create(
                {"product_id": option.id, "price_unit": 31.0, "is_optional": True}
            )
        ]
        with freeze_time("2026-05-11"):
            result = sub.add_option(plan.line_ids.filtered("is_optional").id, 1)
            self.assertFalse(result["document_id"])
            self.assertEqual(result["proration_state"], "pending")
            self.assertEqual(result["charge"], 21.0, "31 × 21/31 days")
            preview = sub.preview_next_invoice()
        self.assertEqual(preview["amount_untaxed"], 20.0 + 31.0 + 21.0)
        with freeze_time("2026-06-01"):
            self._run_billing()
        june = self._invoices(sub)[-1]
        self.assertEqual(june.amount_untaxed, 72.0)
        change = sub.change_ids
        self.assertEqual(change.move_id, june)
        self.assertEqual(change.proration_state, "invoiced")

    def test_arrears_period_is_split_at_the_change_with_usage(self):
        plan_a = self._create_usage_plan("Usage A", billing_timing="arrears")
        plan_b = self._create_usage_plan(
            "Usage B",
            billing_timing="arrears",
            lines=[
                self._usage_line(
                    charge_model="standard", usage_unit_price=1.0, tier_ids=[]
                )
            ],
        )
        fixed = plan_b.line_ids.filtered(lambda line: line.line_type == "fixed")
        fixed.price_unit = 40.0
        sub = self._started(plan=plan_a, bill=False)
        with freeze_time("2026-05-31"):
            self._send(
                sub,
                [("a", "2026-05-05T10:00:00", 100), ("b", "2026-05-20T10:00:00", 50)],
            )
        with freeze_time("2026-05-11"):
            result = sub.change_plan(plan_b.id, policy="immediate")
        self.assertFalse(result["document_id"], "nothing was billed in advance")
        with freeze_time("2026-06-01"):
            self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(len(invoice), 1)
        amounts = {
            line.subscription_period_start.isoformat(): line.price_subtotal
            for line in invoice.invoice_line_ids
            if line.product_id == self.product_pro
        }
        # 20 × 10/31 = 6.45 (old plan), 40 × (31 - 10)/31 = 27.10 (new plan).
        self.assertEqual(amounts, {"2026-05-01": 6.45, "2026-05-11": 27.10})
        usage = invoice.invoice_line_ids.filtered(
            lambda line: line.product_id == self.product_api
        )
        self.assertEqual(
            sorted(usage.mapped("price_subtotal")),
            [10.0, 50.0],
            "100 calls at 0.10 before the change, 50 at 1.00 after",
        )

    def test_monthly_to_yearly_switch(self):
        yearly = self._create_plan(
            "Yearly", price=240.0, billing_unit="year", billing_interval=1
        )
        sub = self._started(start="2026-01-01")
        with freeze_time("2026-01-16"):
            result = sub.change_plan(yearly.id, policy="immediate")
        # Credit 20 × 16/31 = 10.32; charge 240 × 16/365 = 10.52.
        self.assertEqual((result["credit"], result["charge"]), (-10.32, 10.52))
        with freeze_time("2026-02-01"):
            self._run_billing()
        last = self._invoices(sub)[-1]
        self.assertEqual(
            str(last.invoice_line_ids.subscription_period_end), "2026-12-31"
        )
        self.assertEqual(sub.history_ids.sorted("id")[-1].mrr_after, 20.0)

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------

    def test_pause_without_billing_then_resume(self):
        plan = self._create_plan("Pausable", price=30.0)
        sub = self._started(plan=plan, start="2026-06-01")
        with freeze_time("2026-06-11"):
            result = self._as_user(sub).pause(resume_date="2026-07-16")
        refund = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(refund.amount_untaxed, 20.0, "30 × 20/30 unused days")
        self.assertEqual(sub.state, "paused")
        self.assertEqual(sub.scheduled_change_count, 1, "the resume is scheduled")
        with freeze_time("2026-07-01"):
            self._run_billing()
        self.assertEqual(len(self._invoices(sub)), 1, "nothing billed while paused")
        with freeze_time("2026-07-16"):
            self._run_billing()
        self.assertEqual(sub.state, "active")
        charge = self.env["account.move"].search(
            [("invoice_origin", "=", sub.name), ("move_type", "=", "out_invoice")],
            order="id desc",
            limit=1,
        )
        self.assertEqual(charge.amount_untaxed, 15.48, "30 × 16/31 days")
        with freeze_time("2026-08-01"):
            self._run_billing()
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 30.0)
        self.assertEqual(
            [h[1:] for h in self._history(sub)],
            [("new", 0.0, 30.0), ("pause", 30.0, 0.0), ("resume", 0.0, 30.0)],
        )

    def test_pause_with_billing_goes_on_invoicing(self):
        sub = self._started(start="2026-06-01")
        with freeze_time("2026-06-11"):
            result = sub.pause(bill_during_pause=True)
        self.assertFalse(result["document_id"])
        with freeze_time("2026-07-01"):
            self._run_billing()
        self.assertEqual(sub.state, "paused")
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 20.0)

    def test_immediate_cancellation_with_credit_fee_and_reactivation(self):
        plan = self._create_plan(
            "Committed",
            price=20.0,
            commitment_interval=12,
            early_termination="fee",
            termination_fee=100.0,
        )
        sub = self._started(plan=plan)
        reason = self.env.ref("subscription_billing.close_reason_too_expensive")
        with freeze_time("2026-05-11"):
            result = sub.cancel(policy="immediate", reason_id=reason.id)
            self.assertEqual((result["credit"], result["fee"]), (-13.55, 100.0))
            self.assertEqual(result["net"], 86.45)
            document = self.env["account.move"].browse(result["document_id"])
            self.assertEqual(document.move_type, "out_invoice", "the fee outweighs")
            self.assertEqual(document.amount_untaxed, 86.45)
            self.assertEqual(sub.state, "closed")
            self.assertEqual(str(sub.date_end), "2026-05-10")
        with freeze_time("2026-05-20"):
            result = sub.reactivate()
        self.assertEqual(sub.state, "active")
        self.assertFalse(sub.date_end)
        self.assertEqual(result["charge"], 7.74, "20 × 12/31 days")
        restart = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(restart.amount_untaxed, 7.74)
        self.assertEqual(
            sub.line_ids.filtered(
                lambda line: not line.date_end
            ).date_start.isoformat(),
            "2026-05-20",
        )
        self.assertEqual(
            [h[1:] for h in self._history(sub)],
            [("new", 0.0, 20.0), ("churn", 20.0, 0.0), ("reactivation", 0.0, 20.0)],
        )

    def test_cancel_at_period_end_then_reactivate_before_the_end(self):
        sub = self._started()
        with freeze_time("2026-05-11"):
            result = sub.cancel()
            self.assertEqual(result["state"], "scheduled")
            self.assertEqual(str(sub.date_end), "2026-05-31")
            sub.reactivate()
            self.assertFalse(sub.date_end)
            self.assertFalse(sub.close_reason_id)
            cancellation = sub.change_ids.filtered(lambda c: c.operation == "cancel")
            self.assertEqual(cancellation.state, "cancelled")
        with freeze_time("2026-06-01"):
            self._run_billing()
        self.assertEqual(sub.state, "active")
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 20.0)
        self._assert_history_chain(sub)
        self.assertEqual(
            [h[1:] for h in self._history(sub)],
            [("new", 0.0, 20.0), ("reactivation", 20.0, 20.0)],
            "the churn never happened: the reactivation moves nothing",
        )

    def test_cancel_at_period_end_closes_with_churn(self):
        sub = self._started()
        with freeze_time("2026-05-11"):
            sub.cancel()
        with freeze_time("2026-06-01"):
            self._run_billing()
        self.assertEqual(sub.state, "closed")
        self.assertEqual(len(self._invoices(sub)), 1)
        self.assertEqual(self._history(sub)[-1], ("2026-06-01", "churn", 20.0, 0.0))

    def test_trial_reminder_then_conversion(self):
        plan = self._create_plan("Trial", price=20.0, trial_interval=14)
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(plan=plan, start="2026-05-01")
            sub.action_start()
        self.assertEqual(sub.state, "trial")
        with freeze_time("2026-05-11"):
            self._run_billing()
        self.assertTrue(sub.trial_reminder_sent)
        message = sub.message_ids.filtered(lambda m: "trial" in (m.subject or ""))
        self.assertTrue(message, "the reminder is posted and sent")
        self.assertIn(sub.partner_id, message.partner_ids)
        with freeze_time("2026-05-15"):
            self._run_billing()
        self.assertEqual(sub.state, "active")
        self.assertEqual(self._history(sub), [("2026-05-15", "new", 0.0, 20.0)])
        self.assertEqual(self._invoices(sub).amount_untaxed, 20.0)

    def test_unconfirmed_manual_trial_closes_confirmed_one_converts(self):
        plan = self._create_plan(
            "Manual trial", price=20.0, trial_interval=14, trial_conversion="manual"
        )
        with freeze_time("2026-05-01"):
            lapsed = self._create_subscription(plan=plan, start="2026-05-01")
            kept = self._create_subscription(plan=plan, start="2026-05-01")
            (lapsed | kept).action_start()
            kept.action_convert_trial()
        with freeze_time("2026-05-15"):
            self._run_billing()
        self.assertEqual(lapsed.state, "closed")
        self.assertFalse(self._invoices(lapsed))
        self.assertEqual(kept.state, "active")
        self.assertEqual(self._invoices(kept).amount_untaxed, 20.0)

    def test_renewal_with_price_indexation(self):
        plan = self._create_plan(
            "Yearly term",
            price=20.0,
            term_type="fixed",
            term_interval=12,
            auto_renew=True,
            renewal_increase_percent=5.0,
        )
        sub = self._started(plan=plan, start="2026-01-01")
        indexation = sub.change_ids
        self.assertEqual(indexation.state, "scheduled")
        self.assertEqual(str(indexation.effective_date), "2027-01-01")
        with freeze_time("2027-01-01"):
            self._run_billing()
        self.assertEqual(indexation.state, "applied")
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 21.0)
        self.assertEqual(str(sub.date_end), "2027-12-31")
        self.assertEqual(self._history(sub)[-1], ("2027-01-01", "price", 20.0, 21.0))
        following = sub.change_ids.filtered(lambda c: c.state == "scheduled")
        self.assertEqual(str(following.effective_date), "2028-01-01")

    def test_wizard_shows_the_amounts_before_confirming(self):
        sub = self._started()
        with freeze_time("2026-05-11"):
            action = self._as_user(sub).action_change_plan()
            wizard = Form(
                self.env[action["res_model"]]
                .with_user(self.billing_user)
                .with_context(**action["context"])
            )
            wizard.new_plan_id = self.plan_plus
            self.assertEqual(wizard.amount_credit, -13.55)
            self.assertEqual(wizard.amount_charge, 27.10)
            self.assertEqual(wizard.amount_net, 13.55)
            self.assertEqual((wizard.mrr_before, wizard.mrr_after), (20.0, 40.0))
            self.assertFalse(sub.change_ids, "the preview writes nothing")
            wizard.save().action_confirm()
        self.assertEqual(sub.plan_id, self.plan_plus)

    # ------------------------------------------------------------------
    # Bad input: refused, nothing half-applied
    # ------------------------------------------------------------------

    def _assert_refused(self, sub, pattern, call):
        counts = (
            len(sub.change_ids),
            len(sub.line_ids),
            len(sub.history_ids),
            self.env["account.move"].search_count([]),
        )
        with self.assertRaisesRegex(UserError, pattern):
            call()
        self.assertEqual(
            counts,
            (
                len(sub.change_ids),
                len(sub.line_ids),
                len(sub.history_ids),
                self.env["account.move"].search_count([]),
            ),
        )

    def test_bad_changes_are_refused(self):
        sub = self._started(start="2026-04-01")
        with freeze_time("2026-05-01"):
            self._run_billing()
        code = "EUR" if self.env.company.currency_id.name == "USD" else "USD"
        foreign = self.setup_other_currency(code)
        foreign_plan = self._create_plan("Foreign plan", price=20.0)
        foreign_plan.currency_id = foreign
        company_b = self.env["res.company"].create({"name": "Company B"})
        other_company_plan = self._create_plan("Other company", price=20.0)
        other_company_plan.company_id = company_b
        with freeze_time("2026-05-11"):
            self._assert_refused(
                sub,
                "before that period",
                lambda: sub.change_plan(self.plan_plus.id, date="2026-04-30"),
            )
            self._assert_refused(
                sub, "priced in", lambda: sub.change_plan(foreign_plan.id)
            )
            self._assert_refused(
                sub, "same company", lambda: sub.change_plan(other_company_plan.id)
            )
            sub.change_plan(self.plan_plus.id)
            self._assert_refused(
                sub,
                "conflicts",
                lambda: sub.change_quantity(
                    sub.line_ids.filtered(lambda line: not line.date_end).id, 2
                ),
            )
            self._assert_refused(sub, "not paused", lambda: sub.resume())
        closed = self._started()
        with freeze_time("2026-05-11"):
            closed.cancel(policy="immediate")
            self._assert_refused(closed, "closed", lambda: closed.pause())

    def test_downgrade_below_seats_in_use_is_refused(self):
        seats = self.env["subscription.metric"].create(
            {"name": "Active users", "code": "active_users", "aggregation": "max"}
        )
        plan = self._create_plan("Seats", price=10.0, product=self.product_seat)
        plan.line_ids.write({"quantity": 5, "seats_metric_id": seats.id})
        plan.line_ids = [self._usage_line(seats, charge_model="standard", tier_ids=[])]
        plan.downgrade_policy = "immediate"
        sub = self._started(plan=plan)
        with freeze_time("2026-05-10"):
            self._send(sub, [("u1", "2026-05-09T10:00:00", 4)], metric="active_users")
        seat_line = sub.line_ids.filtered(lambda line: line.line_type == "fixed")
        with freeze_time("2026-05-11"):
            self._assert_refused(
                sub, "4 seats are in use", lambda: sub.change_quantity(seat_line.id, 3)
            )
            sub.change_quantity(seat_line.id, 4)
        self.assertEqual(
            sub.line_ids.filtered(
                lambda line: line.line_type == "fixed" and not line.date_end
            ).quantity,
            4,
        )

    def test_started_lines_change_only_through_changes(self):
        sub = self._started()
        with self.assertRaisesRegex(UserError, "Change buttons"):
            sub.line_ids.quantity = 3
        with self.assertRaisesRegex(UserError, "cannot change once started"):
            sub.date_end = "2026-12-31"
