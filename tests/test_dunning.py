# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Automatic payment and dunning end to end, with ``payment_demo``."""

from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SubscriptionCommon


@tagged("post_install", "-at_install")
class TestDunning(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_demo_provider()
        cls.policy = cls.env.ref("subscription_billing.dunning_policy_default")
        cls.Dunning = cls.env["subscription.dunning"]
        cls.Event = cls.env["subscription.dunning.event"]

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @classmethod
    def _token(cls, partner, state="done"):
        return (
            cls.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": cls.provider.id,
                    "payment_method_id": cls.provider.payment_method_ids[:1].id,
                    "payment_details": "4242",
                    "partner_id": partner.id,
                    "provider_ref": "demo",
                    "demo_simulated_state": state,
                }
            )
        )

    def _subscribed(self, partner=None, token=None, start="2026-05-01"):
        with freeze_time(start):
            sub = self._create_subscription(partner=partner, start=start)
            if token:
                sub.payment_token_id = token
            sub.action_start()
            self._run_billing()
        return sub

    def _process(self, day):
        with (
            freeze_time(day),
            patch.object(
                type(self.env["ir.cron"]),
                "_commit_progress",
                return_value=float("inf"),
            ),
        ):
            self.Dunning._cron_process()

    def _events(self, invoice):
        return [
            (e.kind, e.result, e.attempt_number, str(e.date.date()))
            for e in invoice.subscription_dunning_event_ids.sorted(lambda e: e.id)
        ]

    def _reminders(self, partner):
        return self.env["mail.message"].search(
            [
                ("model", "=", "subscription.dunning"),
                (
                    "res_id",
                    "in",
                    self.Dunning.search([("partner_id", "=", partner.id)]).ids,
                ),
                ("subtype_id", "=", self.env.ref("mail.mt_comment").id),
            ]
        )

    # ------------------------------------------------------------------
    # Acceptance
    # ------------------------------------------------------------------

    def test_failed_charge_two_retries_then_success(self):
        token = self._token(self.customer, "error")
        sub = self._subscribed(token=token)
        invoice = self._invoices(sub)
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.subscription_to_charge, "charged after posting")
        self._process("2026-05-01")
        dunning = invoice.subscription_dunning_ids
        self.assertEqual(dunning.state, "open")
        self.assertEqual(dunning.decline_type, "soft")
        self.assertEqual(dunning.amount_failed, 23.0, "20.00 + 15 % tax")
        self.assertEqual(str(dunning.next_action_date), "2026-05-04")
        self._process("2026-05-02")  # nothing due: nothing happens
        self._process("2026-05-04")
        self.assertEqual(str(dunning.next_action_date), "2026-05-06")
        token.demo_simulated_state = "done"
        self._process("2026-05-06")
        self.assertEqual(
            self._events(invoice),
            [
                ("charge", "failed", 1, "2026-05-01"),
                ("payment_failed", "sent", 0, "2026-05-01"),
                ("retry", "failed", 2, "2026-05-04"),
                ("retry", "done", 3, "2026-05-06"),
                ("paid", "done", 0, "2026-05-06"),
            ],
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        notice = dunning.event_ids.filtered(lambda e: e.kind == "payment_failed")
        self.assertIn("did not go through", notice.message_id.subject)
        self.assertIn("05/04/2026", notice.message_id.body, "the next try")
        payments = invoice._get_reconciled_payments()
        self.assertEqual(len(payments), 1, "one payment, never two")
        self.assertEqual(payments.amount, 23.0)
        self.assertEqual(len(invoice.transaction_ids), 3)
        self.assertEqual(dunning.state, "recovered")
        self.assertEqual(dunning.recovery_channel, "retry")
        self.assertEqual(dunning.recovered_step_id.day, 5)
        self.assertEqual(dunning.amount_recovered, 23.0)
        self.assertEqual(dunning.amount_at_risk, 0.0)
        self.assertEqual(sub.state, "active")
        self._process("2026-05-08")
        self.assertEqual(len(invoice.transaction_ids), 3, "dunning closed")
        # The recovery report: one follow-up, all recovered, at the day-5 retry.
        company = [("company_id", "=", self.env.company.id)]
        [overall] = self.env["subscription.dunning.recovery"]._read_group(
            company,
            [],
            ["amount_failed:sum", "amount_recovered:sum", "recovery_rate:sum"],
        )
        self.assertEqual(overall, (23.0, 23.0, 100.0))
        rows = self.env["subscription.dunning.recovery.step"].search(company)
        per_step = {
            (r.step_id.day, r.step_id.action): (r.amount_failed, r.amount_recovered)
            for r in rows
        }
        self.assertEqual(
            per_step, {(3, "retry"): (23.0, 0.0), (5, "retry"): (23.0, 23.0)}
        )

    def test_three_overdue_invoices_one_message_per_step(self):
        partner = self.customer_b
        subs = [self._subscribed(partner=partner) for __ in range(3)]
        late = self._subscribed(partner=partner, start="2026-05-03")
        invoices = self.env["account.move"].union(*(self._invoices(s) for s in subs))
        self.assertEqual(len(invoices), 3)
        self._process("2026-05-02")
        self.assertEqual(len(invoices.subscription_dunning_ids), 3)
        self.assertEqual(
            set(invoices.subscription_dunning_ids.mapped("decline_type")), {"no_method"}
        )
        self._process("2026-05-05")
        self.assertFalse(self._reminders(partner))
        self._process("2026-05-08")  # day 7 of the three: one message
        messages = self._reminders(partner)
        self.assertEqual(len(messages), 1)
        for invoice in invoices | self._invoices(late):
            self.assertIn(invoice.name, messages.body, "every overdue invoice listed")
        self.assertIn("/my/invoices/", messages.body, "a pay link")
        self.assertEqual(messages.partner_ids, partner)
        self._process("2026-05-11")  # day 7 of the late one: already told
        self.assertEqual(len(self._reminders(partner)), 1)
        late_events = self._invoices(late).subscription_dunning_event_ids
        self.assertEqual(
            late_events.filtered(lambda e: e.kind == "reminder").mapped("result"),
            ["included"],
        )
        self._process("2026-05-15")  # day 14
        self.assertEqual(len(self._reminders(partner)), 2)
        retries = invoices.subscription_dunning_event_ids.filtered(
            lambda e: e.kind == "retry"
        )
        self.assertLessEqual(
            set(retries.mapped("result")), {"skipped", "superseded"}, "reminders only"
        )
        self.assertIn("skipped", retries.mapped("result"))
        self.assertFalse(invoices.transaction_ids)

    def test_a_step_sent_to_one_customer_is_not_taken_as_sent_to_another(self):
        # One run reminds both customers of day 7: one was told already (its
        # late invoice is only included), the other never was (it is sent).
        told = self.customer_b
        self._subscribed(partner=told)
        told_late = self._subscribed(partner=told, start="2026-05-03")
        first = self._subscribed(partner=self.customer, start="2026-05-03")
        self._process("2026-05-02")
        self._process("2026-05-04")
        self._process("2026-05-08")
        self.assertEqual(len(self._reminders(told)), 1)
        self.assertFalse(self._reminders(self.customer))
        self._process("2026-05-11")
        self.assertEqual(len(self._reminders(told)), 1, "already told")
        self.assertEqual(len(self._reminders(self.customer)), 1, "told now")

        def reminder_results(sub):
            events = self._invoices(sub).subscription_dunning_event_ids
            return events.filtered(lambda e: e.kind == "reminder").mapped("result")

        self.assertEqual(reminder_results(told_late), ["included"])
        self.assertEqual(reminder_results(first), ["sent"])

    def test_bank_reconciliation_mid_dunning_stops_everything(self):
        sub = self._subscribed(token=self._token(self.customer, "error"))
        invoice = self._invoices(sub)
        for day in ("2026-05-01", "2026-05-08", "2026-05-15", "2026-05-22"):
            self._process(day)
        dunning = invoice.subscription_dunning_ids
        self.assertEqual(sub.state, "suspended", "suspended on day 21")
        suspension = invoice.subscription_dunning_event_ids.filtered(
            lambda e: e.kind == "suspend"
        )
        self.assertIn("on hold", suspension.message_id.subject)
        self.assertEqual(dunning.suspended_subscription_ids, sub)
        # A suspended subscription bills no new period.
        with freeze_time("2026-06-01"):
            self._run_billing()
        self.assertEqual(len(self._invoices(sub)), 1)
        # The customer pays by bank transfer; the accountant reconciles it.
        receivable = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        with freeze_time("2026-06-02"):
            st_line = self.env["account.bank.statement.line"].create(
                {
                    "journal_id": self.company_data["default_journal_bank"].id,
                    "date": "2026-06-02",
                    "payment_ref": invoice.name,
                    "partner_id": self.customer.id,
                    "amount": 23.0,
                    "counterpart_account_id": receivable.account_id.id,
                }
            )
            counterpart = st_line.move_id.line_ids.filtered(
                lambda line: line.account_id == receivable.account_id
            )
            (counterpart + receivable).reconcile()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(dunning.state, "recovered")
        self.assertEqual(dunning.recovery_channel, "other")
        self.assertEqual(sub.state, "active", "resumed by itself")
        events = len(dunning.event_ids)
        transactions = len(invoice.transaction_ids)
        self._process("2026-06-02")
        self.assertEqual(len(self._invoices(sub)), 1)
        self._process("2026-06-15")
        self.assertEqual(sub.state, "active", "never closed")
        self.assertEqual(len(dunning.event_ids), events)
        self.assertEqual(len(invoice.transaction_ids), transactions)
        # Billing catches up the period held during the suspension.
        with freeze_time("2026-06-15"):
            self._run_billing()
        self.assertEqual(len(self._invoices(sub)), 2)

    def test_crash_between_charge_and_record_never_charges_twice(self):
        sub = self._subscribed(token=self._token(self.customer, "done"))
        invoice = self._invoices(sub)
        Tx = type(self.env["payment.transaction"])
        original = Tx._send_payment_request
        calls = []

        def charged_then_crash(tx):
            calls.append(tx.reference)
            original(tx)  # the provider takes the money...
            raise RuntimeError("worker killed")  # ...and the worker dies

        with (
            patch.object(Tx, "_send_payment_request", charged_then_crash),
            mute_logger(
                "odoo.addons.subscription_billing.models.subscription_dunning_event"
            ),
        ):
            self._process("2026-05-01")
            self.assertEqual(len(calls), 1)
            tx = invoice.transaction_ids
            self.assertEqual(tx.state, "draft", "the result was never recorded")
            self.assertEqual(
                self._events(invoice), [("charge", "pending", 1, "2026-05-01")]
            )
            # The run restarts, again and again: the attempt is awaited.
            self._process("2026-05-01")
            self._process("2026-05-04")
            with self.assertRaisesRegex(UserError, "still being processed"):
                invoice.with_user(self.billing_user).action_subscription_retry_payment()
        self.assertEqual(len(calls), 1, "never charged twice")
        self.assertEqual(invoice.transaction_ids, tx)
        self.assertFalse(invoice.subscription_dunning_ids, "not overdue: awaited")
        # The provider's notification arrives and settles it.
        tx._process("demo", {"reference": tx.reference, "simulated_state": "done"})
        tx._post_process()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(invoice._get_reconciled_payments()), 1)
        self.assertEqual(self._events(invoice), [("charge", "done", 1, "2026-05-01")])

    def test_cron_batches_commit_progress_and_isolates_failures(self):
        subs = [
            self._subscribed(partner=partner, token=self._token(partner, "error"))
            for partner in (self.customer, self.customer_b, self.partner_a)
        ]
        invoices = [self._invoices(sub) for sub in subs]
        Move = type(self.env["account.move"])
        original = Move._subscription_start_charge
        broken = invoices[1]

        def start_charge(move):
            if move == broken:
                raise RuntimeError("The provider refused the request format")
            return original(move)

        progress = []

        def commit_progress(cron, processed=0, remaining=None, deactivate=False):
            progress.append(processed)
            return float("inf")

        with (
            freeze_time("2026-05-01"),
            patch.object(Move, "_subscription_start_charge", start_charge),
            patch.object(
                type(self.env["ir.cron"]), "_commit_progress", commit_progress
            ),
        ):
            self.Dunning._charge_pending_invoices(batch_size=2, commit=True)
            self.assertEqual(
                set(self.Event.search([]).mapped("result")), {"queued"}, "not sent yet"
            )
            self.assertEqual(self.Event._send_queued(commit=True), 2)
        self.assertIn(2, progress, "a batch of two")
        self.assertIn(1, progress, "then the last one")
        self.assertEqual(invoices[0].subscription_dunning_ids.state, "open")
        self.assertEqual(invoices[2].subscription_dunning_ids.state, "open")
        self.assertFalse(broken.transaction_ids, "the failure stays on its invoice")
        self.assertFalse(broken.subscription_to_charge)
        self.assertIn("refused the request format", broken.message_ids[0].body)
        # A step failing on one follow-up leaves the others going on.
        Dunning = type(self.Dunning)
        original_retry = Dunning._step_retry

        def step_retry(dunning, step):
            if dunning.invoice_id == invoices[0]:
                raise RuntimeError("Provider unreachable")
            return original_retry(dunning, step)

        with patch.object(Dunning, "_step_retry", step_retry):
            self._process("2026-05-04")
        first, third = (
            invoices[0].subscription_dunning_ids,
            invoices[2].subscription_dunning_ids,
        )
        self.assertIn("Provider unreachable", first.last_error)
        self.assertEqual(len(invoices[0].transaction_ids), 1)
        self.assertEqual(len(invoices[2].transaction_ids), 2, "retried on day 3")
        self.assertFalse(third.last_error)

    # ------------------------------------------------------------------
    # Declines, pending payments, saved methods
    # ------------------------------------------------------------------

    def test_hard_decline_stops_retries_and_asks_for_a_new_method(self):
        token = self._token(self.customer, "error")
        sub = self._subscribed(token=token)
        invoice = self._invoices(sub)
        Tx = type(self.env["payment.transaction"])

        def stolen(tx):
            tx._set_error("Card reported lost or stolen")

        with patch.object(Tx, "_send_payment_request", stolen):
            self._process("2026-05-01")
        dunning = invoice.subscription_dunning_ids
        self.assertEqual(dunning.decline_type, "hard")
        self.assertFalse(sub.payment_token_id, "the method is dropped")
        action = dunning.event_ids.filtered(lambda e: e.kind == "action_needed")
        self.assertEqual(action.result, "sent")
        self.assertIn("/my/payment_method", action.message_id.body)
        self._process("2026-05-04")
        self.assertEqual(
            len(invoice.transaction_ids), 1, "no retry after a hard decline"
        )
        retry = dunning.event_ids.filtered(lambda e: e.kind == "retry")
        self.assertEqual(retry.result, "skipped")
        # The customer saves a new method; staff retry at once.
        new_token = self._token(self.customer, "done")
        sub.payment_token_id = new_token
        with freeze_time("2026-05-05"):
            action = dunning.with_user(self.billing_user).action_retry_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(invoice.subscription_dunning_event_ids[0].result, "queued")
        self._process("2026-05-05")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(dunning.state, "recovered")
        self.assertEqual(invoice._get_reconciled_payments().payment_token_id, new_token)

    def test_authentication_needed_sends_a_pay_link(self):
        sub = self._subscribed(token=self._token(self.customer, "error"))
        Tx = type(self.env["payment.transaction"])
        with patch.object(
            Tx,
            "_send_payment_request",
            lambda tx: tx._set_error(
                "Strong customer authentication (3D Secure) required"
            ),
        ):
            self._process("2026-05-01")
        dunning = self._invoices(sub).subscription_dunning_ids
        self.assertEqual(dunning.decline_type, "action")
        self.assertTrue(sub.payment_token_id, "the method stays: the customer confirms")
        message = dunning.event_ids.filtered(
            lambda e: e.kind == "action_needed"
        ).message_id
        self.assertIn(self._invoices(sub).get_portal_url(), message.body)

    def test_expired_method_asks_for_a_new_one(self):
        sub = self._subscribed(token=self._token(self.customer, "error"))
        Tx = type(self.env["payment.transaction"])
        with patch.object(
            Tx, "_send_payment_request", lambda tx: tx._set_error("Expired card")
        ):
            self._process("2026-05-01")
        dunning = self._invoices(sub).subscription_dunning_ids
        self.assertEqual(dunning.decline_type, "action")
        notice = dunning.event_ids.filtered(lambda e: e.kind == "action_needed")
        self.assertIn("update your payment method", notice.message_id.subject)
        self.assertIn("/my/payment_method", notice.message_id.body)

    def test_pending_payment_is_awaited_then_followed_up(self):
        sub = self._subscribed(token=self._token(self.customer, "pending"))
        invoice = self._invoices(sub)
        self._process("2026-05-01")
        tx = invoice.transaction_ids
        self.assertEqual(tx.state, "pending")
        self._process("2026-05-10")  # overdue, but a payment is on its way
        self.assertFalse(invoice.subscription_dunning_ids)
        self.assertEqual(len(invoice.transaction_ids), 1)
        tx._process("demo", {"reference": tx.reference, "simulated_state": "error"})
        with freeze_time("2026-05-10"):
            tx._post_process()
        dunning = invoice.subscription_dunning_ids
        self.assertEqual(
            (dunning.state, str(dunning.date_start)), ("open", "2026-05-10")
        )

    def test_portal_payment_saves_the_method_and_stops_dunning(self):
        sub = self._subscribed()
        invoice = self._invoices(sub)
        self._process("2026-05-03")
        dunning = invoice.subscription_dunning_ids
        self.assertEqual(dunning.state, "open")
        token = self._token(self.customer, "done")
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": token.payment_method_id.id,
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": self.customer.id,
                    "token_id": token.id,
                    "operation": "online_token",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
        )
        tx._process("demo", {"reference": tx.reference, "simulated_state": "done"})
        tx._post_process()
        self.assertEqual(dunning.state, "recovered")
        self.assertEqual(sub.payment_token_id, token, "kept for the next invoices")
        with freeze_time("2026-06-01"):
            self._run_billing()
        self.assertTrue(self._invoices(sub)[-1].subscription_to_charge)

    def test_queued_attempt_of_an_invoice_paid_meanwhile_is_not_sent(self):
        sub = self._subscribed(token=self._token(self.customer, "done"))
        invoice = self._invoices(sub)
        with freeze_time("2026-05-01"):
            self.Dunning._charge_pending_invoices()
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({})._create_payments()
            self.assertEqual(self.Event._send_queued(), 1)
        event = invoice.subscription_dunning_event_ids
        self.assertEqual(event.result, "skipped")
        self.assertEqual(event.transaction_id.state, "cancel")
        self.assertEqual(len(invoice._get_reconciled_payments()), 1)

    def test_retry_after_the_provider_is_disabled_is_skipped(self):
        sub = self._subscribed(token=self._token(self.customer, "error"))
        invoice = self._invoices(sub)
        self._process("2026-05-01")
        self.provider.state = "disabled"
        self._process("2026-05-04")
        retry = invoice.subscription_dunning_event_ids.filtered(
            lambda e: e.kind == "retry"
        )
        self.assertEqual(retry.result, "skipped")
        self.assertIn("No saved payment method", retry.note, "its tokens are archived")
        self.assertEqual(len(invoice.transaction_ids), 1)
        self.assertFalse(invoice.subscription_dunning_ids.last_error)

    def test_manual_payment_and_credit_note_stop_dunning(self):
        paid_sub = self._subscribed()
        credited_sub = self._subscribed(partner=self.customer_b)
        self._process("2026-05-03")
        paid, credited = self._invoices(paid_sub), self._invoices(credited_sub)
        self.assertEqual(
            (paid | credited).subscription_dunning_ids.mapped("state"), ["open", "open"]
        )
        with freeze_time("2026-05-04"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=paid.ids
            ).create({})._create_payments()
            reversal = credited._reverse_moves(cancel=True)
        self.assertEqual(reversal.state, "posted")
        self.assertEqual(credited.payment_state, "reversed")
        self.assertEqual(paid.subscription_dunning_ids.state, "recovered")
        self.assertEqual(paid.subscription_dunning_ids.recovery_channel, "other")
        dunning = credited.subscription_dunning_ids
        self.assertEqual(dunning.state, "credited")
        self.assertEqual(
            (dunning.amount_recovered, dunning.amount_lost, dunning.amount_at_risk),
            (0.0, 0.0, 0.0),
        )

    def test_reminder_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["subscription_billing"], ["fr_FR"], overwrite=True
        )
        self.customer_b.lang = "fr_FR"
        self._subscribed(partner=self.customer_b)
        self._process("2026-05-02")
        self._process("2026-05-08")
        message = self._reminders(self.customer_b)
        self.assertEqual(len(message), 1)
        self.assertIn("Payer en ligne", message.body)
        self.assertNotIn("Pay online", message.body)

    def test_reminders_of_a_batch_wake_the_mail_queue_once(self):
        self._subscribed()
        self._subscribed(partner=self.customer_b)
        self._process("2026-05-02")
        Dunning = type(self.Dunning)
        with patch.object(
            Dunning,
            "_trigger_mail_queue",
            autospec=True,
            side_effect=Dunning._trigger_mail_queue,
        ) as trigger:
            self._process("2026-05-08")
        self.assertEqual(len(self._reminders(self.customer)), 1)
        self.assertEqual(len(self._reminders(self.customer_b)), 1)
        # Both reminders share a template: one batch, one wake-up of the queue.
        self.assertEqual(trigger.call_count, 1)
        queue = self.env.ref("mail.ir_cron_mail_scheduler_action")
        triggers = self.env["ir.cron.trigger"].sudo()
        self.assertTrue(triggers.search_count([("cron_id", "=", queue.id)]))

    def test_close_on_day_30_counts_the_invoice_lost(self):
        sub = self._subscribed(token=self._token(self.customer, "error"))
        invoice = self._invoices(sub)
        for day in ("2026-05-01", "2026-05-22", "2026-05-31"):
            self._process(day)
        dunning = invoice.subscription_dunning_ids
        self.assertEqual(dunning.state, "lost")
        self.assertEqual(dunning.amount_lost, 23.0)
        self.assertEqual(
            sub.close_reason_id,
            self.env.ref("subscription_billing.close_reason_unpaid"),
        )
        self.assertEqual(str(sub.date_end), "2026-05-30")
        self.assertEqual(len(self._invoices(sub)), 1, "no credit note for unpaid days")
        kinds = dunning.event_ids.mapped("kind")
        self.assertIn("suspend", kinds)
        self.assertIn("close", kinds)
        superseded = dunning.event_ids.filtered(lambda e: e.result == "superseded")
        self.assertTrue(superseded, "missed retries collapse into the latest")

    def test_retries_avoid_weekends_and_holidays(self):
        calendar = self.env["resource.calendar"].create(
            {"name": "Mon-Fri", "company_id": self.env.company.id}
        )
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Ascension",
                "calendar_id": calendar.id,
                "date_from": "2026-05-14 00:00:00",
                "date_to": "2026-05-14 23:59:59",
            }
        )
        policy = self.policy.copy(
            {"calendar_id": calendar.id, "company_id": self.env.company.id}
        )
        self.customer.subscription_dunning_policy_id = policy
        sub = self._subscribed(token=self._token(self.customer, "error"))
        self._process("2026-05-11")  # the charge fails on Monday May 11
        dunning = self._invoices(sub).subscription_dunning_ids
        self.assertEqual(dunning.policy_id, policy)
        # Day 3 is Thursday May 14, a holiday: moved to Friday May 15.
        self.assertEqual(str(dunning.next_action_date), "2026-05-15")
        self._process("2026-05-15")
        # Day 5 is Saturday May 16: moved to Monday May 18.
        self.assertEqual(str(dunning.next_action_date), "2026-05-18")

    # ------------------------------------------------------------------
    # Issue 13: every message and every charge exactly as promised
    # ------------------------------------------------------------------

    def _portal_payment(self, invoice, token):
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": token.payment_method_id.id,
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": token.partner_id.id,
                    "token_id": token.id,
                    "operation": "online_token",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
        )
        tx._process("demo", {"reference": tx.reference, "simulated_state": "done"})
        tx._post_process()
        return tx

    def _messages(self, partner, subject_part):
        return self._reminders(partner).filtered(
            lambda m: subject_part in (m.subject or "")
        )

    def test_retry_that_pays_leaves_no_reminder_and_gets_the_credit(self):
        token = self._token(self.customer, "error")
        sub = self._subscribed(token=token)
        invoice = self._invoices(sub)
        for day in ("2026-05-01", "2026-05-04", "2026-05-06"):
            self._process(day)
        token.demo_simulated_state = "done"
        self._process("2026-05-08")  # day 7: a retry and a reminder
        dunning = invoice.subscription_dunning_ids
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(dunning.state, "recovered")
        self.assertFalse(
            dunning.event_ids.filtered(lambda e: e.kind == "reminder"),
            "paid by the retry of the day: nothing to remind",
        )
        self.assertFalse(self._messages(self.customer, "waiting for payment"))
        self.assertEqual(
            (dunning.recovered_step_id.day, dunning.recovered_step_id.action),
            (7, "retry"),
        )
        self.assertEqual(dunning.recovery_channel, "retry")
        rows = self.env["subscription.dunning.recovery.step"].search(
            [("company_id", "=", self.env.company.id)]
        )
        per_step = {
            (r.step_id.day, r.step_id.action): (r.amount_recovered, r.recovery_rate)
            for r in rows
        }
        self.assertEqual(per_step[(7, "retry")], (23.0, 100.0))
        self.assertNotIn((7, "reminder"), per_step)

    def test_hard_decline_retires_the_method_on_every_subscription(self):
        token = self._token(self.customer, "done")
        sub = self._subscribed(token=token)
        other = self._subscribed(token=token)
        with freeze_time("2026-05-01"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=self._invoices(other).ids
            ).create({})._create_payments()
        Tx = type(self.env["payment.transaction"])
        with patch.object(
            Tx,
            "_send_payment_request",
            lambda tx: tx._set_error("Card reported lost or stolen"),
        ):
            self._process("2026-05-01")
        self.assertEqual(
            self._invoices(sub).subscription_dunning_ids.decline_type, "hard"
        )
        self.assertFalse(sub.payment_token_id)
        self.assertFalse(other.payment_token_id, "removed everywhere it is used")
        self.assertFalse(token.active, "archived: never charged again")
        self.assertIn("hard decline", other.message_ids[0].body)
        with freeze_time("2026-06-01"):
            self._run_billing()
        june = self._invoices(other)[-1]
        self.assertEqual(str(june.invoice_date), "2026-06-01")
        self.assertFalse(june.subscription_to_charge)
        self._process("2026-06-01")
        self.assertFalse(june.transaction_ids, "the retired card is not charged")

    def test_steps_wait_for_a_pending_attempt_then_a_late_payment_reopens(self):
        token = self._token(self.customer, "error")
        sub = self._subscribed(token=token)
        invoice = self._invoices(sub)
        self._process("2026-05-01")
        token.demo_simulated_state = "pending"
        self._process("2026-05-04")  # the day-3 retry: awaiting the bank
        tx = invoice.transaction_ids.filtered(lambda t: t.state == "pending")
        self.assertEqual(len(tx), 1)
        dunning = invoice.subscription_dunning_ids
        self._process("2026-05-08")  # day 7: the steps wait for the answer
        self.assertEqual(
            dunning.event_ids.filtered(lambda e: e.step_id).mapped("step_id.day"),
            [3],
            "no reminder, no skipped retry while the payment is on its way",
        )
        self.assertFalse(self._messages(self.customer, "waiting for payment"))
        self.assertEqual(str(dunning.next_action_date), "2026-05-06")
        self._process("2026-05-31")  # waited 7 days at most: the steps go on
        self.assertEqual(dunning.state, "lost")
        self.assertEqual(sub.state, "closed")
        self.assertEqual(len(invoice.transaction_ids), 2, "never sent twice")
        # The bank's answer comes at last: paid.
        tx._process("demo", {"reference": tx.reference, "simulated_state": "done"})
        with freeze_time("2026-06-02"):
            tx._post_process()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(dunning.state, "recovered")
        self.assertEqual(dunning.recovery_channel, "retry")
        self.assertEqual(sub.state, "active", "reopened: its invoice is paid")
        self.assertFalse(sub.close_reason_id)
        self.assertFalse(sub.date_end)
        self.assertIn("Reopened", sub.message_ids[0].body)

    def test_attempt_never_sent_expires_and_the_schedule_goes_on(self):
        sub = self._subscribed(token=self._token(self.customer, "done"))
        invoice = self._invoices(sub)
        Event = type(self.Event)
        # The worker stops after marking the attempt as being sent, before
        # handing it to the provider.
        with (
            patch.object(Event, "_charge", side_effect=RuntimeError("worker killed")),
            self.assertRaisesRegex(RuntimeError, "worker killed"),
        ):
            self._process("2026-05-01")
        tx = invoice.transaction_ids
        self.assertEqual(
            self._events(invoice), [("charge", "pending", 1, "2026-05-01")]
        )
        self.assertEqual(tx.state, "draft")
        with self.assertRaisesRegex(UserError, "still being processed"):
            invoice.with_user(self.billing_user).action_subscription_retry_payment()
        self._process("2026-05-02")
        attempt = invoice.subscription_dunning_event_ids.filtered(
            lambda e: e.kind == "charge"
        )
        self.assertEqual(attempt.result, "expired")
        self.assertIn("Never sent", attempt.note)
        self.assertEqual(tx.state, "cancel")
        dunning = invoice.subscription_dunning_ids
        self.assertEqual(
            (dunning.state, str(dunning.date_start), str(dunning.next_action_date)),
            ("open", "2026-05-02", "2026-05-05"),
            "the follow-up opens and its schedule goes on",
        )
        self.assertTrue(
            dunning.message_ids.filtered(lambda m: "Never sent" in m.body),
            "staff are told",
        )
        self.assertEqual(len(dunning.activity_ids), 1)
        with freeze_time("2026-05-02"):
            dunning.with_user(self.billing_user).action_retry_now()
        self._process("2026-05-02")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(invoice._get_reconciled_payments()), 1)
        self.assertEqual(invoice._get_reconciled_payments().amount, 23.0)

    def test_queued_attempt_whose_provider_is_disabled_expires(self):
        sub = self._subscribed(token=self._token(self.customer, "done"))
        invoice = self._invoices(sub)
        with freeze_time("2026-05-01"):
            self.Dunning._charge_pending_invoices()
            self.provider.state = "disabled"
            self.assertEqual(self.Event._send_queued(), 1)
        attempt = invoice.subscription_dunning_event_ids.filtered(
            lambda e: e.kind == "charge"
        )
        self.assertEqual(attempt.result, "expired", "never sent: not awaited")
        self.assertFalse(attempt.date_sent)
        self.assertEqual(attempt.transaction_id.state, "cancel")
        self.assertEqual(invoice.subscription_dunning_ids.state, "open")

    def test_failure_and_suspension_notices_once_per_customer(self):
        token = self._token(self.customer, "error")
        subs = [self._subscribed(token=token) for __ in range(3)]
        invoices = self.env["account.move"].union(*(self._invoices(s) for s in subs))
        other = self._subscribed(
            partner=self.customer_b, token=self._token(self.customer_b, "error")
        )
        self._process("2026-05-01")
        self.assertEqual(len(invoices.subscription_dunning_ids), 3)
        failed = self._messages(self.customer, "did not go through")
        self.assertEqual(len(failed), 1, "one failure notice for the three")
        for invoice in invoices:
            self.assertIn(invoice.name, failed.body)
        other_failed = self._messages(self.customer_b, "did not go through")
        self.assertEqual(len(other_failed), 1, "each customer its own notice")
        self.assertIn(self._invoices(other).name, other_failed.body)
        self.assertNotIn(self._invoices(other).name, failed.body)
        self.assertEqual(other_failed.partner_ids, self.customer_b)
        self.assertIn("05/04/2026", failed.body, "the next try")
        notices = invoices.subscription_dunning_event_ids.filtered(
            lambda e: e.kind == "payment_failed"
        )
        self.assertEqual(notices.mapped("result"), ["sent"] * 3)
        self.assertEqual(notices.message_id, failed)
        self._process("2026-05-22")  # day 21: the three are suspended
        self.assertEqual({s.state for s in subs}, {"suspended"})
        on_hold = self._messages(self.customer, "on hold")
        self.assertEqual(len(on_hold), 1, "one suspension notice for the three")
        for sub in subs:
            self.assertIn(sub.name, on_hold.body)
        for invoice in invoices:
            self.assertIn(invoice.name, on_hold.body)
        self.assertEqual(len(self._messages(self.customer, "did not go through")), 1)

    def test_one_run_that_suspends_and_closes_tells_only_the_closing(self):
        sub = self._subscribed(token=self._token(self.customer, "error"))
        invoice = self._invoices(sub)
        self._process("2026-05-01")
        self._process("2026-05-31")  # missed days: suspension and closing
        dunning = invoice.subscription_dunning_ids
        self.assertEqual((dunning.state, sub.state), ("lost", "closed"))
        self.assertFalse(self._messages(self.customer, "on hold"))
        self.assertFalse(self._messages(self.customer, "waiting for payment"))
        closed = self._messages(self.customer, "is closed")
        self.assertEqual(len(closed), 1)
        self.assertIn(sub.name, closed.body)
        self.assertIn(invoice.name, closed.body)
        suspend = dunning.event_ids.filtered(lambda e: e.kind == "suspend")
        self.assertEqual((suspend.result, suspend.message_id), ("done", closed[:0]))
        reminder = dunning.event_ids.filtered(
            lambda e: e.kind == "reminder" and e.result != "superseded"
        )
        self.assertEqual(reminder.mapped("result"), ["skipped"])

    def test_portal_payment_with_a_new_card_replaces_the_failing_one(self):
        old = self._token(self.customer, "error")
        sub = self._subscribed(token=old)
        invoice = self._invoices(sub)
        self._process("2026-05-01")
        self.assertEqual(invoice.subscription_dunning_ids.state, "open")
        new = self._token(self.customer, "done")
        with freeze_time("2026-05-02"):
            self._portal_payment(invoice, new)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(sub.payment_token_id, new, "the card the customer just used")
        self.assertIn("saved for the automatic payment", sub.message_ids[0].body)
        with freeze_time("2026-06-01"):
            self._run_billing()
        self._process("2026-06-01")
        june = self._invoices(sub)[-1]
        self.assertIn(june.payment_state, ("paid", "in_payment"))
        self.assertEqual(june.transaction_ids.token_id, new)

    def test_shared_default_policy_takes_each_companys_calendar(self):
        calendar = self.env["resource.calendar"].create(
            {"name": "Mon-Fri", "company_id": self.env.company.id}
        )
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Ascension",
                "calendar_id": calendar.id,
                "date_from": "2026-05-14 00:00:00",
                "date_to": "2026-05-14 23:59:59",
            }
        )
        self.assertFalse(self.policy.company_id, "shared by every company")
        self.policy.calendar_id = calendar
        other_company = self.env["res.company"].create({"name": "Other Co"})
        self.assertEqual(self.policy.calendar_id, calendar)
        self.assertFalse(self.policy.with_company(other_company).calendar_id)
        with (
            self.assertRaisesRegex(UserError, "compan"),
            self.env.cr.savepoint(),
        ):
            self.policy.with_company(other_company).calendar_id = calendar
        sub = self._subscribed(token=self._token(self.customer, "error"))
        self._process("2026-05-11")  # Monday May 11
        dunning = self._invoices(sub).subscription_dunning_ids
        self.assertEqual(dunning.policy_id, self.policy)
        self.assertEqual(str(dunning.next_action_date), "2026-05-15")

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------

    def test_policy_steps_out_of_order_or_without_final_outcome(self):
        Policy = self.env["subscription.dunning.policy"]
        policies = Policy.search_count([])
        with (
            self.assertRaisesRegex(ValidationError, "order the steps by their day"),
            self.env.cr.savepoint(),
        ):
            Policy.create(
                {
                    "name": "Wrong order",
                    "step_ids": [
                        Command.create({"sequence": 1, "day": 7, "action": "retry"}),
                        Command.create({"sequence": 2, "day": 3, "action": "reminder"}),
                        Command.create({"sequence": 3, "day": 30, "action": "close"}),
                    ],
                }
            )
        with (
            self.assertRaisesRegex(ValidationError, "final outcome"),
            self.env.cr.savepoint(),
        ):
            Policy.create(
                {
                    "name": "Endless",
                    "step_ids": [Command.create({"day": 3, "action": "retry"})],
                }
            )
        with (
            self.assertRaisesRegex(ValidationError, "closing must be the last step"),
            self.env.cr.savepoint(),
        ):
            Policy.create(
                {
                    "name": "After closing",
                    "step_ids": [
                        Command.create({"sequence": 1, "day": 3, "action": "close"}),
                        Command.create({"sequence": 2, "day": 3, "action": "activity"}),
                    ],
                }
            )
        self.assertEqual(Policy.search_count([]), policies, "nothing created")
        step = self.policy.step_ids.filtered(lambda s: s.action == "close")
        with (
            self.assertRaisesRegex(ValidationError, "final outcome"),
            self.env.cr.savepoint(),
        ):
            step.action = "reminder"
        step.invalidate_recordset()
        self.assertEqual(step.action, "close")

    def test_token_of_another_customer_or_company_is_refused(self):
        sub = self._subscribed()
        other = self._token(self.customer_b)
        with (
            self.assertRaisesRegex(ValidationError, "cannot pay subscription"),
            self.env.cr.savepoint(),
        ):
            sub.payment_token_id = other
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign = (
            self.env["payment.provider"]
            .sudo()
            .search([("code", "=", "demo"), ("company_id", "=", other_company.id)])
        )
        token = self._token(self.customer).copy({"provider_id": foreign.id})
        with self.assertRaisesRegex(UserError, "compan"), self.env.cr.savepoint():
            sub.payment_token_id = token
        sub.invalidate_recordset()
        self.assertFalse(sub.payment_token_id)

    def test_retry_on_cancelled_invoice_is_refused(self):
        sub = self._subscribed(token=self._token(self.customer, "error"))
        invoice = self._invoices(sub)
        self._process("2026-05-01")
        dunning = invoice.subscription_dunning_ids
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(dunning.state, "cancelled")
        transactions = len(invoice.transaction_ids)
        events = len(invoice.subscription_dunning_event_ids)
        with self.assertRaisesRegex(UserError, "cannot be charged"):
            invoice.with_user(self.billing_user).action_subscription_retry_payment()
        with self.assertRaisesRegex(UserError, "cannot be charged"):
            dunning.action_retry_now()
        self.assertEqual(len(invoice.transaction_ids), transactions)
        self.assertEqual(len(invoice.subscription_dunning_event_ids), events)

    def test_attempt_numbers_are_unique_per_invoice(self):
        sub = self._subscribed(token=self._token(self.customer, "error"))
        invoice = self._invoices(sub)
        self._process("2026-05-01")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.Event.sudo().create(
                {
                    "invoice_id": invoice.id,
                    "kind": "retry",
                    "result": "failed",
                    "attempt_number": 1,
                }
            )
            self.env.flush_all()
