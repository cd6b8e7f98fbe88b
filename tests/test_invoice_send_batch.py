# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Our sending action: the invoices of the billing runs, sent once each, with
their PDF or their portal link, claimed so that two workers never send the
same one; Odoo's own sending cron leaves them to us."""

from contextlib import contextmanager
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, sql_db
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CommittedCase, SubscriptionCommon, committed_env, db_name


@tagged("post_install", "-at_install")
class TestInvoiceSendBatch(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.email = "billing@acme.example.com"
        cls.plan_send = cls._create_plan("Sent", price=20.0, invoice_policy="send")

    def _commits_patched(self):
        return patch.object(
            type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
        )

    def _send(self):
        with self._commits_patched():
            self.env["account.move"]._cron_send_subscription_invoices(batch_size=2)

    def _bill(self):
        sub = self._create_subscription(plan=self.plan_send)
        sub.action_start()
        self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.sending_data.get("subscription_billing"))
        self.assertTrue(invoice.is_being_sent)
        return invoice

    def _emails(self, invoice):
        return invoice.message_ids.filtered(
            lambda m: m.message_type == "comment" and self.customer in m.partner_ids
        )

    @freeze_time("2026-03-01")
    def test_pdf_mode_sends_the_pdf_once(self):
        self.env.company.subscription_invoice_email = "pdf"
        invoice = self._bill()
        self._send()
        self.assertTrue(invoice.is_move_sent)
        self.assertFalse(invoice.sending_data)
        email = self._emails(invoice)
        self.assertEqual(len(email), 1)
        self.assertEqual(email.attachment_ids.mapped("mimetype"), ["application/pdf"])
        self.assertTrue(invoice.invoice_pdf_report_id)
        self._send()
        self.assertEqual(self._emails(invoice), email, "not sent twice")

    @freeze_time("2026-03-01")
    def test_link_mode_sends_the_portal_link_and_renders_no_pdf(self):
        self.env.company.subscription_invoice_email = "link"
        invoice = self._bill()
        second = self._bill()
        third = self._bill()
        Report = type(self.env["ir.actions.report"])
        with patch.object(
            Report, "_pre_render_qweb_pdf", side_effect=AssertionError("no PDF")
        ):
            self._send()
        for move in invoice | second | third:
            self.assertTrue(move.is_move_sent)
            self.assertFalse(move.sending_data)
            self.assertFalse(move.invoice_pdf_report_id, "no PDF rendered")
        email = self._emails(invoice)
        self.assertEqual(len(email), 1)
        self.assertFalse(email.attachment_ids)
        self.assertIn(invoice.name, email.subject)
        self.assertEqual(email.partner_ids, self.customer)
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", email.id)])
        self.assertEqual(len(mail), 1)
        self.assertIn("access_token=", mail.body_html, "the portal link")
        self._send()
        self.assertEqual(self._emails(invoice), email, "not sent twice")

    @freeze_time("2026-03-01")
    def test_link_mode_one_failing_invoice_does_not_hold_the_batch(self):
        self.env.company.subscription_invoice_email = "link"
        good = self._bill()
        bad = self._bill()
        Send = type(self.env["account.move.send"])
        original = Send._send_mail

        def send_mail(send, move, template, **kwargs):
            if move == bad:
                raise ValueError("mail server refused")
            return original(send, move, template, **kwargs)

        with (
            patch.object(Send, "_send_mail", send_mail),
            mute_logger(
                "odoo.addons.subscription_billing.models.account_move_subscription_send"
            ),
        ):
            self._send()
        self.assertTrue(good.is_move_sent)
        self.assertEqual(len(self._emails(good)), 1)
        # The failing one leaves the queue with its error, not sent.
        self.assertFalse(bad.is_move_sent)
        self.assertFalse(bad.sending_data)
        self.assertFalse(self._emails(bad))
        self.assertIn(
            "mail server refused", bad.message_ids[:1].body, "the error on it"
        )

    @freeze_time("2026-03-01")
    def test_link_mode_customer_without_email_is_told_on_the_invoice(self):
        self.env.company.subscription_invoice_email = "link"
        self.customer.email = False
        invoice = self._bill()
        self._send()
        self.assertFalse(invoice.is_move_sent)
        self.assertFalse(invoice.sending_data)
        self.assertIn("no email address", invoice.message_ids[:1].body)

    @freeze_time("2026-03-01")
    def test_odoo_cron_leaves_subscription_invoices_to_ours(self):
        self.env.company.subscription_invoice_email = "link"
        invoice = self._bill()
        other = self.init_invoice(
            "out_invoice", partner=self.customer, amounts=[100.0], post=True
        )
        other.sending_data = {"author_user_id": self.env.uid}
        with self._commits_patched():
            self.env["account.move"]._cron_account_move_send()
        self.assertFalse(other.sending_data, "Odoo's cron sends the others")
        self.assertTrue(other.is_move_sent)
        self.assertTrue(invoice.sending_data, "ours is left to our action")
        self.assertFalse(invoice.is_move_sent)
        self.assertFalse(self._emails(invoice))
        self._send()
        self.assertTrue(invoice.is_move_sent)
        self.assertFalse(invoice.sending_data)


@contextmanager
def _queued_invoices(count=4):
    """``count`` posted subscription invoices queued for sending (link mode),
    committed; removed after."""
    with committed_env() as env:
        company = env.company
        mode = company.subscription_invoice_email
        company.subscription_invoice_email = "link"
        product = env["product.product"].create(
            {"name": "Send service", "type": "service", "lst_price": 10.0}
        )
        plan = env["subscription.plan"].create(
            {
                "name": "Send plan",
                "invoice_policy": "send",
                "line_ids": [
                    Command.create({"product_id": product.id, "price_unit": 10.0})
                ],
            }
        )
        partners = env["res.partner"].create(
            [
                {"name": f"Send customer {i}", "email": f"send{i}@example.com"}
                for i in range(count)
            ]
        )
        subs = env["subscription.subscription"].create(
            [
                {"partner_id": p.id, "plan_id": plan.id, "date_start": "2026-01-01"}
                for p in partners
            ]
        )
        subs.action_start()
        moves = subs._generate_due_invoices(date(2026, 1, 1))
        assert len(moves) == count and all(moves.mapped("sending_data"))
        ids = {
            "subs": subs.ids,
            "invoices": moves.ids,
            "plan": plan.id,
            "product": product.id,
            "partners": partners.ids,
        }
    try:
        yield ids
    finally:
        with committed_env() as env:
            env.company.subscription_invoice_email = mode
            invoices = env["account.move"].browse(ids["invoices"])
            invoices.button_draft()
            invoices.unlink()
            env["subscription.subscription"].browse(ids["subs"]).unlink()
            env["subscription.plan"].browse(ids["plan"]).unlink()
            env["product.product"].browse(ids["product"]).unlink()
            env["res.partner"].browse(ids["partners"]).unlink()


def _sent(invoice_ids):
    with committed_env() as env:
        moves = env["account.move"].browse(invoice_ids)
        return {
            move.id: (
                move.is_move_sent,
                bool(move.sending_data),
                len(move.message_ids.filtered(lambda m: m.message_type == "comment")),
            )
            for move in moves
        }


@tagged("post_install", "-at_install")
class TestConcurrentInvoiceSending(CommittedCase):
    def test_locked_invoice_is_skipped_then_sent_once(self):
        ids = self.enterContext(_queued_invoices())["invoices"]
        held = ids[0]
        with sql_db.db_connect(db_name()).cursor() as holder:
            holder.execute(
                "SELECT id FROM account_move WHERE id = %s FOR UPDATE", [held]
            )
            with committed_env() as env:
                env["account.move"]._cron_send_subscription_invoices(batch_size=2)
            state = _sent(ids)
            assert state[held] == (False, True, 0), state
            assert all(state[i] == (True, False, 1) for i in ids[1:]), state
            holder.rollback()
        with committed_env() as env:
            env["account.move"]._cron_send_subscription_invoices(batch_size=2)
        with committed_env() as env:
            env["account.move"]._cron_send_subscription_invoices(batch_size=2)
        state = _sent(ids)
        assert all(state[i] == (True, False, 1) for i in ids), state
