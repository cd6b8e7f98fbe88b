# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..const import DECLINES, WAITING_TX_STATES
from ..core import dunning as core
from ..tools import claim_ids, claimed_batches

# An attempt in these results holds the invoice: no other attempt meanwhile.
OPEN_RESULTS = ("queued", "pending")
# An attempt marked as being sent but never handed to the provider (the worker
# stopped in between) expires after this time, and the schedule goes on.
UNSENT_EXPIRY = timedelta(hours=1)
# Notices told once per customer and run (all its invoices in one message),
# in this order, with their template.
NOTICES = {
    "payment_failed": "subscription_billing.mail_template_payment_failed",
    "suspend": "subscription_billing.mail_template_subscription_suspended",
    "close": "subscription_billing.mail_template_subscription_closed",
}

_logger = logging.getLogger(__name__)

KINDS = [
    ("charge", "Automatic payment"),
    ("retry", "Payment retry"),
    ("reminder", "Reminder"),
    ("payment_failed", "Payment failure notice"),
    ("action_needed", "Customer action requested"),
    ("activity", "Activity"),
    ("suspend", "Suspension"),
    ("resume", "Resumption"),
    ("close", "Closing"),
    ("paid", "Paid"),
]
RESULTS = [
    ("queued", "Queued"),
    ("pending", "Awaiting the provider"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("sent", "Sent"),
    ("included", "Already sent"),
    ("skipped", "Skipped"),
    ("superseded", "Superseded"),
    ("expired", "Expired, never sent"),
    ("to_send", "Notice to send"),
]


class SubscriptionDunningEvent(models.Model):
    """What happened to an unpaid invoice: every payment attempt and every
    step of its follow-up, with its date, result and amount."""

    _name = "subscription.dunning.event"
    _description = "Payment Follow-up Event"
    _order = "date desc, id desc"

    dunning_id = fields.Many2one(
        "subscription.dunning", index="btree_not_null", ondelete="cascade"
    )
    invoice_id = fields.Many2one(
        "account.move", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(
        related="invoice_id.commercial_partner_id", store=True, index=True
    )
    company_id = fields.Many2one(related="invoice_id.company_id", store=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id", store=True)
    date = fields.Datetime(default=fields.Datetime.now, required=True, index=True)
    step_id = fields.Many2one("subscription.dunning.step", ondelete="set null")
    kind = fields.Selection(KINDS, required=True)
    result = fields.Selection(RESULTS, required=True, index=True)
    amount = fields.Monetary()
    attempt_number = fields.Integer(
        help="Payment attempts of the invoice are numbered from 1 (the "
        "automatic payment); one number, one transaction."
    )
    transaction_id = fields.Many2one("payment.transaction", readonly=True)
    date_sent = fields.Datetime(
        string="Handed to the Provider",
        readonly=True,
        help="Written (and committed) just before the provider is called: an "
        "attempt with this date is awaited, never sent again; one without it "
        "was never sent and expires.",
    )
    transaction_state = fields.Selection(related="transaction_id.state")
    decline_type = fields.Selection(DECLINES)
    message_id = fields.Many2one("mail.message", readonly=True)
    note = fields.Char()

    _attempt_unique = models.UniqueIndex(
        "(invoice_id, attempt_number) WHERE attempt_number IS NOT NULL",
        "A payment attempt of an invoice is made once.",
    )
    _one_pending_attempt = models.UniqueIndex(
        "(invoice_id) WHERE result IN ('queued', 'pending')",
        "An invoice has one payment being processed at most.",
    )
    _step_unique = models.UniqueIndex(
        "(dunning_id, step_id) WHERE step_id IS NOT NULL",
        "A follow-up runs each step once.",
    )
    _transaction_unique = models.UniqueIndex(
        "(transaction_id) WHERE transaction_id IS NOT NULL",
        "A transaction belongs to one payment attempt.",
    )

    # ------------------------------------------------------------------
    # Payment attempts
    # ------------------------------------------------------------------

    @api.model
    def _create_charge(self, invoice, token, dunning=None, step=None):
        """Queue a payment attempt and its transaction (sent by
        :meth:`_send_queued` once committed).

        The attempt number comes after the invoice's last one, under the
        invoice's lock; the unique keys refuse a second attempt of the same
        number and a second one while another is being processed.
        """
        invoice._subscription_check_chargeable()
        self.env.flush_all()
        self.env.execute_query(
            self.env["account.move"]._subscription_lock_sql(invoice.id)
        )
        pending = self.search(
            [("invoice_id", "=", invoice.id), ("result", "in", OPEN_RESULTS)], limit=1
        )
        if pending:
            raise UserError(
                self.env._(
                    "A payment of invoice %(inv)s is still being processed "
                    "(transaction %(tx)s): wait for its result before trying again.",
                    inv=invoice.display_name,
                    tx=pending.transaction_id.reference,
                )
            )
        if not token.active or token.sudo().provider_id.state not in (
            "enabled",
            "test",
        ):
            raise UserError(
                self.env._(
                    "The payment method %(token)s cannot be charged: it is archived "
                    "or its provider is disabled.",
                    token=token.display_name,
                )
            )
        last = self.search(
            [("invoice_id", "=", invoice.id), ("attempt_number", "!=", False)],
            order="attempt_number desc",
            limit=1,
        )
        number = last.attempt_number + 1
        provider = token.provider_id.sudo()
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": token.payment_method_id.id,
                    "reference": self.env["payment.transaction"]
                    .sudo()
                    ._compute_reference(
                        provider.code, prefix=f"{invoice.name}-{number}"
                    ),
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": invoice.partner_id.id,
                    "token_id": token.id,
                    "operation": "offline",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
        )
        # Attempts are written by the payment process, not by hand.
        return self.sudo().create(
            {
                "dunning_id": dunning and dunning.id,
                "invoice_id": invoice.id,
                "step_id": step and step.id,
                "kind": "retry" if dunning else "charge",
                "result": "queued",
                "amount": invoice.amount_residual,
                "attempt_number": number,
                "transaction_id": tx.id,
            }
        )

    @api.model
    def _send_queued(self, commit=False, limit=None):
        """Send the queued attempts to the provider, one at a time.

        Each attempt is claimed alone (``SKIP LOCKED``), marked as awaiting
        the provider and committed *before* the provider is called: after a
        crash it is awaited (its transaction settles through the provider's
        notification), never sent again. Returns the number sent.
        """
        sent = []
        Dunning = self.env["subscription.dunning"]
        Dunning._commit(commit)

        def claim(retry):
            if limit is not None and len(sent) >= limit:
                return self.browse()
            return self.sudo().browse(
                claim_ids(
                    self.env,
                    SQL(
                        "SELECT id FROM subscription_dunning_event "
                        "WHERE result = 'queued' AND id != ALL(%s) ORDER BY id",
                        sent or [0],
                    ),
                    limit=1,
                    commit=retry,
                )
            )

        for event in claimed_batches(self.env, claim, commit=commit, invalidate=False):
            sent.append(event.id)
            event.result = "pending"
            Dunning._commit(commit)
            event._charge(commit)
        return len(sent)

    def _charge(self, commit=False):
        """Call the provider for this attempt and record what it answered."""
        self.ensure_one()
        tx = self.transaction_id.sudo()
        invoice = self.invoice_id
        if tx.state == "draft" and (
            not invoice._subscription_is_open()
            or invoice.currency_id.compare_amounts(invoice.amount_residual, tx.amount)
        ):
            # Paid (or partly paid) since it was queued: never charge it.
            tx._set_canceled(state_message=self.env._("The invoice changed."))
            self.sudo().write(
                {
                    "result": "skipped",
                    "note": self.env._(
                        "Not sent: the invoice was paid or its amount due changed "
                        "since the attempt was queued."
                    ),
                }
            )
            return
        if tx.state == "draft" and (
            not tx.token_id.active or tx.provider_id.state not in ("enabled", "test")
        ):
            self._expire(
                self.env._(
                    "Not sent: the payment method was archived or its provider "
                    "disabled since the attempt was queued."
                )
            )
            return
        if tx.state == "draft":
            # From now on the provider may have it: awaited, never sent again.
            self.sudo().date_sent = fields.Datetime.now()
            self.env["subscription.dunning"]._commit(commit)
        try:
            with self.env.cr.savepoint():
                if tx.state == "draft":
                    tx._charge_with_token()
                if tx.state not in WAITING_TX_STATES:
                    tx._post_process()
        except Exception as error:  # noqa: BLE001
            # The provider may have taken the payment: the attempt is awaited.
            _logger.warning(
                "Payment attempt %s of %s: %s",
                self.attempt_number,
                self.invoice_id.name,
                error,
            )
            self.sudo().note = str(error)

    @api.model
    def _expire_unsent(self, commit=False):
        """Expire the attempts marked as being sent whose worker stopped
        before handing them to the provider (no ``date_sent``, transaction
        still draft) for :data:`UNSENT_EXPIRY`: the follow-up goes on."""
        rows = claim_ids(
            self.env,
            SQL(
                """
                SELECT e.id FROM subscription_dunning_event e
                  JOIN payment_transaction t ON t.id = e.transaction_id
                 WHERE e.result = 'pending' AND e.date_sent IS NULL
                   AND t.state = 'draft' AND e.date < %s
                 ORDER BY e.id
                """,
                fields.Datetime.now() - UNSENT_EXPIRY,
            ),
            of="e",
            commit=commit,
        )
        self.sudo().browse(rows)._expire(
            self.env._(
                "Never sent to the provider (the payment process stopped before): "
                "expired, the follow-up goes on."
            )
        )
        self.env["subscription.dunning"]._commit(commit, len(rows))

    def _expire(self, reason):
        """These attempts were never handed to the provider: cancel their
        transaction, say so on the follow-up, and go on with it."""
        for event in self.sudo():
            tx = event.transaction_id
            if tx.state == "draft":
                tx._set_canceled(state_message=reason)
            event.write({"result": "expired", "note": reason})
            event._follow_up_failure(core.SOFT)
            dunning = event.dunning_id
            if not dunning:
                continue
            body = self.env._(
                "Payment attempt %(number)s of %(inv)s: %(reason)s",
                number=event.attempt_number,
                inv=event.invoice_id.name,
                reason=reason,
            )
            dunning.message_post(body=body)
            dunning.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("A payment attempt was never sent"),
                note=body,
                user_id=dunning._responsible_user().id,
            )

    @api.model
    def _notify_queued(self):
        """Trigger the sending of queued attempts; tell the user."""
        cron = self.env.ref("subscription_billing.ir_cron_dunning", False)
        if cron:
            cron.sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "The payment is queued: it is sent to the provider in a "
                    "moment, and its result shows in the follow-up."
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _record_transaction_result(self):
        """The provider answered: record it, and follow a failure up."""
        for event in self.sudo().filtered(lambda e: e.result == "pending"):
            tx = event.transaction_id.sudo()
            if tx.state in WAITING_TX_STATES:
                continue
            if tx.state == "done":
                event.result = "done"
                continue
            decline = core.classify_decline(tx.state_message, tx.state)
            event.write(
                {
                    "result": "failed",
                    "decline_type": decline,
                    "note": tx.state_message,
                }
            )
            event._follow_up_failure(decline)

    def _follow_up_failure(self, decline):
        self.ensure_one()
        invoice = self.invoice_id
        if not invoice._subscription_is_open():
            return
        opened = not self.dunning_id
        dunning = self.dunning_id or self.env["subscription.dunning"]._open(
            invoice, decline, fields.Date.context_today(self)
        )
        if not self.dunning_id:
            self.dunning_id = dunning
        dunning._as_engine().decline_type = decline
        if decline in (core.HARD, core.ACTION):
            dunning._as_engine().declined_token_id = self.transaction_id.token_id
        if decline == core.HARD:
            self.transaction_id.token_id._subscription_retire(self.note)
        expired = decline == core.ACTION and "expired" in (self.note or "").lower()
        if expired:
            xmlid = "subscription_billing.mail_template_payment_method_expiring"
        elif decline in (core.HARD, core.ACTION):
            xmlid = "subscription_billing.mail_template_payment_action_needed"
        elif opened:
            # Told once per customer, with the other failures of the run.
            dunning._log("payment_failed", "to_send")
            self.env["subscription.dunning"]._trigger_cron()
            return
        else:
            return  # a retry declined again: the reminders follow the policy
        message = dunning.message_post_with_source(
            self.env.ref(xmlid), subtype_xmlid="mail.mt_comment"
        )
        dunning._log("action_needed", "sent", message_id=message.id)

    # ------------------------------------------------------------------
    # Notices (one message per customer and step)
    # ------------------------------------------------------------------

    @api.model
    def _send_notices(self, commit=False, batch_size=100):
        """Send the notices to send (failure, suspension, closing): one
        message per customer and kind, listing all its invoices concerned,
        a batch of customers at a time, each claimed whole by one worker. A
        suspension of a follow-up closed in the same run is not told: only
        the closing."""
        Dunning = self.env["subscription.dunning"]
        skipped = []

        def claim(retry):
            return self.sudo().browse(
                claim_ids(
                    self.env,
                    SQL(
                        """
                        WITH customers AS MATERIALIZED (
                            SELECT DISTINCT partner_id FROM subscription_dunning_event
                             WHERE result = 'to_send' AND partner_id != ALL(%(skip)s)
                        ), mine AS (
                            SELECT partner_id FROM customers
                             WHERE %(lock)s LIMIT %(limit)s
                        )
                        SELECT id FROM subscription_dunning_event
                         WHERE result = 'to_send'
                           AND partner_id IN (SELECT partner_id FROM mine)
                        """,
                        skip=skipped or [0],
                        lock=Dunning._customer_lock_sql("partner_id"),
                        limit=batch_size,
                    ),
                    commit=retry,
                )
            )

        for notices in claimed_batches(
            self.env,
            claim,
            commit=commit,
            processed=lambda notices: len(notices.partner_id),
            invalidate=False,
        ):
            skipped += notices.partner_id.ids
            notices._send_customer_notices()

    def _send_customer_notices(self):
        """These notices (of whole customers): one message per customer and
        kind, rendered in batch per kind; a failure stays on the customer's
        follow-ups (its notices are sent at the next run)."""
        closed = self.filtered(lambda e: e.kind == "close").dunning_id
        told = self.filtered(
            lambda e: (
                (
                    e.dunning_id.state == "open"
                    or (e.kind == "close" and e.dunning_id.state == "lost")
                )
                and not (e.kind == "suspend" and e.dunning_id in closed)
            )
        )
        for event in self - told:
            event.write(
                {
                    "result": "skipped" if event.kind == "payment_failed" else "done",
                    "note": self.env._(
                        "Not told: the follow-up ended in the same run (the "
                        "customer gets the message of its outcome only)."
                    ),
                }
            )
        for kind, xmlid in NOTICES.items():
            of_partner = defaultdict(lambda: self.browse())
            for event in told.filtered(lambda e, k=kind: e.kind == k):
                of_partner[event.partner_id] |= event
            if not of_partner:
                continue
            lead_of = {
                partner: events.dunning_id.sorted("id")[-1]
                for partner, events in of_partner.items()
            }
            leads = self.env["subscription.dunning"].union(*lead_of.values())
            posted, errors = leads._post_reminders(self.env.ref(xmlid))
            for partner, events in of_partner.items():
                lead = lead_of[partner]
                if lead in errors:
                    events.dunning_id._record_error(errors[lead])
                    continue
                events.write(
                    {
                        "result": "sent" if kind == "payment_failed" else "done",
                        "message_id": posted[lead.id].id,
                    }
                )
