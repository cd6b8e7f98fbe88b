# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..const import (
    BILLABLE_STATES,
    DECLINES,
    OPEN_PAYMENT_STATES,
    RUNNING_STATES,
)
from ..core import dunning as core
from ..tools import claim_ids, claimed_batches, for_each_isolated

_logger = logging.getLogger(__name__)

STATES = [
    ("open", "In Progress"),
    ("recovered", "Recovered"),
    ("lost", "Lost"),
    ("escalated", "Handed Over"),
    ("credited", "Credited"),
    ("cancelled", "Cancelled"),
]
# Steps wait this many days at most for a payment attempt awaiting the
# provider's answer (a bank debit can take a few working days); then they go
# on (a payment arriving after a closing for non-payment reopens it).
ATTEMPT_WAIT_DAYS = 7
# Written only by the follow-up's own steps (see ``const.CHANGE_ENGINE``):
# staff stop or retry it with the buttons, and may change its policy.
ENGINE_FIELDS = {
    "invoice_id",
    "partner_id",
    "company_id",
    "subscription_ids",
    "suspended_subscription_ids",
    "state",
    "decline_type",
    "date_start",
    "date_closed",
    "next_action_date",
    "amount_failed",
    "amount_residual",
    "amount_at_risk",
    "amount_recovered",
    "amount_lost",
    "recovered_step_id",
    "recovery_channel",
    "declined_token_id",
    "last_error",
}


class SubscriptionDunning(models.Model):
    """The follow-up of one unpaid subscription invoice.

    Opened when an automatic payment fails (or when an invoice without a saved
    payment method is overdue), it runs the steps of its policy, and stops
    the moment the invoice is paid by any means.
    """

    _name = "subscription.dunning"
    _description = "Payment Follow-up"
    _inherit = ["mail.thread", "mail.activity.mixin", "subscription.engine.mixin"]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(related="invoice_id.name", store=True, string="Invoice Number")
    invoice_id = fields.Many2one(
        "account.move",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        help="The commercial entity of the invoiced customer.",
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id", store=True)
    policy_id = fields.Many2one(
        "subscription.dunning.policy",
        string="Dunning Policy",
        required=True,
        check_company=True,
        tracking=True,
    )
    subscription_ids = fields.Many2many(
        "subscription.subscription",
        "subscription_dunning_subscription_rel",
        "dunning_id",
        "subscription_id",
        string="Subscriptions",
        readonly=True,
    )
    suspended_subscription_ids = fields.Many2many(
        "subscription.subscription",
        "subscription_dunning_suspended_rel",
        "dunning_id",
        "subscription_id",
        string="Suspended Subscriptions",
        readonly=True,
    )
    state = fields.Selection(
        STATES, default="open", required=True, readonly=True, index=True, tracking=True
    )
    decline_type = fields.Selection(DECLINES, readonly=True, tracking=True)
    date_start = fields.Date(
        string="Failure Date",
        required=True,
        readonly=True,
        help="Day of the failed payment, or the due date of an invoice paid "
        "without a saved payment method: step days count from it.",
    )
    date_closed = fields.Date(string="Closed On", readonly=True)
    next_action_date = fields.Date(readonly=True, index=True)
    amount_failed = fields.Monetary(
        string="Failed", readonly=True, help="What was due when the follow-up started."
    )
    amount_residual = fields.Monetary(
        related="invoice_id.amount_residual", store=True, string="Amount Due"
    )
    can_retry_payment = fields.Boolean(
        related="invoice_id.subscription_can_retry_payment"
    )
    amount_at_risk = fields.Monetary(
        string="At Risk", compute="_compute_amounts", store=True
    )
    amount_recovered = fields.Monetary(
        string="Recovered", compute="_compute_amounts", store=True
    )
    amount_lost = fields.Monetary(string="Lost", compute="_compute_amounts", store=True)
    recovered_step_id = fields.Many2one(
        "subscription.dunning.step",
        readonly=True,
        help="The last step run before the payment came in.",
    )
    recovery_channel = fields.Selection(
        [("retry", "Automatic retry"), ("other", "Other payment")], readonly=True
    )
    event_ids = fields.One2many("subscription.dunning.event", "dunning_id")
    declined_token_id = fields.Many2one(
        "payment.token",
        readonly=True,
        help="The method declined for good or needing the customer: it is not "
        "retried; a new method saved by the customer is.",
    )
    last_error = fields.Text(readonly=True)

    _open_invoice_unique = models.UniqueIndex(
        "(invoice_id) WHERE state = 'open'",
        "An invoice has one follow-up in progress at most.",
    )
    _due_index = models.Index("(next_action_date, partner_id) WHERE state = 'open'")

    @api.depends("state", "amount_failed", "amount_residual")
    def _compute_amounts(self):
        for dunning in self:
            failed = dunning.amount_failed
            if dunning.state in ("credited", "cancelled"):
                # Nothing was to recover: neither recovered nor lost.
                dunning.update(
                    {"amount_recovered": 0.0, "amount_at_risk": 0.0, "amount_lost": 0.0}
                )
                continue
            residual = max(min(dunning.amount_residual, failed), 0.0)
            dunning.amount_recovered = dunning.currency_id.round(failed - residual)
            dunning.amount_at_risk = residual if dunning.state == "open" else 0.0
            dunning.amount_lost = (
                residual if dunning.state in ("lost", "escalated") else 0.0
            )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def write(self, vals):
        engine_only = ENGINE_FIELDS & set(vals)
        if engine_only and not self._is_engine():
            raise UserError(
                self.env._(
                    "A payment follow-up runs its steps and ends with its invoice "
                    "(use Retry Payment Now or Stop and Hand Over): %(fields)s "
                    "cannot be written directly.",
                    fields=self._engine_fields_label(engine_only),
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Scheduled action
    # ------------------------------------------------------------------

    @api.model
    def _cron_process(self, batch_size=100):
        """Charge posted invoices, open follow-ups of overdue invoices, run
        the due steps; each batch is committed, failures stay per invoice."""
        today = fields.Date.context_today(self)
        Event = self.env["subscription.dunning.event"]
        self._charge_pending_invoices(batch_size=batch_size, commit=True)
        Event._expire_unsent(commit=True)
        self._open_overdue(today, batch_size=batch_size, commit=True)
        self._stop_settled()
        self._run_due(today, batch_size=batch_size, commit=True)
        Event._send_queued(commit=True)
        # The steps held back for the answer of the day's attempts run now
        # that it came (a retry that paid leaves nothing to remind).
        self._run_due(today, batch_size=batch_size, commit=True)
        Event._send_queued(commit=True)
        Event._send_notices(commit=True)

    @api.model
    def _trigger_cron(self):
        """Run the scheduled action soon, unless this is its run (which sends
        the notices before it ends)."""
        cron = self.env.ref("subscription_billing.ir_cron_dunning", False)
        if cron and self.env.context.get("cron_id") != cron.id:
            cron.sudo()._trigger()

    # ------------------------------------------------------------------
    # Batches: claims, one savepoint per invoice, committed progress
    # ------------------------------------------------------------------

    @api.model
    def _commit(self, commit, processed=0, remaining=None):
        """In a committed run (``commit``), commit the work so far through
        ``ir.cron._commit_progress`` and return the time left; otherwise
        keep it in the caller's transaction (no limit of time)."""
        if not commit:
            return float("inf")
        return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    @api.model
    def _each_invoice(self, invoices, action):
        """``action(invoice)`` for each invoice, each in its own savepoint: a
        failure stays on its invoice (a message) and the others go on.
        Returns the ids of the failed ones."""

        def failed(invoice, error):
            _logger.info("Payment follow-up of %s failed: %s", invoice.name, error)
            invoice._subscription_record_charge_error(error)

        return for_each_isolated(invoices, action, failed).ids

    @api.model
    def _claim(self, select, model, commit=False, limit=None, of=None):
        """The rows of ``select`` claimed for this worker (``claim_ids``), as
        records of ``model``."""
        return self.env[model].browse(
            claim_ids(self.env, select, limit=limit, of=of, commit=commit)
        )

    # ------------------------------------------------------------------
    # Automatic payment
    # ------------------------------------------------------------------

    @api.model
    def _charge_pending_invoices(self, batch_size=100, commit=False):
        """Queue the first payment attempt of posted invoices waiting for it,
        a committed batch at a time (claimed with ``SKIP LOCKED``); the
        attempts are sent by ``subscription.dunning.event._send_queued``."""
        skipped = []
        self._commit(commit)

        def claim(retry):
            return self._claim(
                SQL(
                    "SELECT id FROM account_move WHERE subscription_to_charge "
                    "AND id != ALL(%s) ORDER BY id",
                    skipped or [0],
                ),
                "account.move",
                retry,
                limit=batch_size,
            )

        for invoices in claimed_batches(self.env, claim, commit=commit):
            skipped += self._each_invoice(
                invoices, lambda invoice: invoice._subscription_start_charge()
            )

    # ------------------------------------------------------------------
    # Opening
    # ------------------------------------------------------------------

    @api.model
    def _open(self, invoice, decline_type, start):
        """The follow-up in progress for ``invoice``, opened when needed."""
        invoice.ensure_one()
        dunning = self.search(
            [("invoice_id", "=", invoice.id), ("state", "=", "open")], limit=1
        )
        if dunning:
            if decline_type and decline_type != dunning.decline_type:
                dunning._as_engine().decline_type = decline_type
            return dunning
        partner = invoice.commercial_partner_id
        subscriptions = invoice.subscription_ids
        policy = (
            partner.subscription_dunning_policy_id
            or subscriptions.plan_id.dunning_policy_id[:1]
            or self.env["subscription.dunning.policy"]._get_default(invoice.company_id)
        )
        if not policy:
            raise UserError(
                self.env._(
                    "No dunning policy applies to invoice %(invoice)s: create one "
                    "(Subscriptions > Configuration > Dunning Policies).",
                    invoice=invoice.display_name,
                )
            )
        dunning = self.sudo().create(
            {
                "invoice_id": invoice.id,
                "partner_id": partner.id,
                "company_id": invoice.company_id.id,
                "policy_id": policy.id,
                "subscription_ids": [Command.set(subscriptions.ids)],
                "decline_type": decline_type,
                "date_start": start,
                "amount_failed": invoice.amount_residual,
            }
        )
        dunning._update_next_action_date()
        return dunning

    @api.model
    def _open_overdue(self, today, batch_size=100, commit=False):
        """Follow up overdue subscription invoices that no automatic payment
        covers (customers paying by transfer or in the portal)."""
        skipped = []

        def claim(retry):
            return self._claim(
                SQL(
                    """
                    SELECT m.id FROM account_move m
                     WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
                       AND m.payment_state IN %(open)s
                       AND m.invoice_date_due < %(today)s
                       AND NOT COALESCE(m.subscription_to_charge, FALSE)
                       AND m.id != ALL(%(skipped)s)
                       AND EXISTS (SELECT 1 FROM account_move_line l
                                    WHERE l.move_id = m.id
                                      AND l.subscription_id IS NOT NULL)
                       AND NOT EXISTS (SELECT 1 FROM subscription_dunning d
                                        WHERE d.invoice_id = m.id
                                          AND d.state != 'cancelled')
                       AND NOT EXISTS (SELECT 1 FROM subscription_dunning_event e
                                        WHERE e.invoice_id = m.id
                                          AND e.result IN ('queued', 'pending'))
                     ORDER BY m.id
                    """,
                    open=OPEN_PAYMENT_STATES,
                    today=today,
                    skipped=skipped or [0],
                ),
                "account.move",
                retry,
                limit=batch_size,
                of="m",
            )

        for invoices in claimed_batches(self.env, claim, commit=commit):
            skipped += self._each_invoice(
                invoices,
                lambda invoice: self._open(
                    invoice, "no_method", invoice.invoice_date_due
                ),
            )

    # ------------------------------------------------------------------
    # Running the steps
    # ------------------------------------------------------------------

    @api.model
    def _run_due(self, today, batch_size=100, commit=False):
        """Run the steps due by ``today``, a batch of customers at a time.

        Each batch claims open follow-ups with ``FOR NO KEY UPDATE SKIP
        LOCKED``, with all the due follow-ups of the same customers, so that
        one reminder lists all of a customer's overdue invoices.
        """
        skipped = []
        self._commit(commit)
        for dunnings in claimed_batches(
            self.env,
            lambda retry: self._claim_due(today, batch_size, skipped, retry),
            commit=commit,
            remaining=lambda: self._count_due(today, skipped),
        ):
            dunnings._run_steps(today)
            skipped.extend(dunnings.ids)

    @api.model
    def _due_sql(self, today, skipped, alias="subscription_dunning"):
        return SQL(
            "%(state)s = 'open' AND %(date)s <= %(today)s AND %(id)s != ALL(%(skip)s)",
            state=SQL.identifier(alias, "state"),
            date=SQL.identifier(alias, "next_action_date"),
            today=today,
            id=SQL.identifier(alias, "id"),
            skip=list(skipped) or [0],
        )

    @api.model
    def _count_due(self, today, skipped):
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                "SELECT COUNT(*) FROM subscription_dunning WHERE %s",
                self._due_sql(today, skipped),
            )
        )[0][0]

    @api.model
    def _customer_lock_sql(self, column):
        """SQL taking the run's lock on the customer in ``column`` (true when
        taken, false when another worker holds it), for the transaction: one
        worker handles all of a customer's follow-ups and notices."""
        return SQL(
            "pg_try_advisory_xact_lock(hashtext('subscription.dunning customer'), %s)",
            SQL.identifier(column),
        )

    @api.model
    def _claim_due(self, today, limit, skipped, commit=False):
        """Due follow-ups of up to ``limit`` customers, each customer whole:
        a customer held by another worker is left to it. One claim, retried
        on a serialization failure in committed runs (``claim_ids``)."""
        return self._claim(
            SQL(
                """
                WITH customers AS MATERIALIZED (
                    SELECT partner_id FROM subscription_dunning WHERE %(due)s
                     GROUP BY partner_id
                     ORDER BY MIN(next_action_date), partner_id
                ), mine AS (
                    -- Locks taken as the rows come, in their order, up to
                    -- the limit (never all customers at once).
                    SELECT partner_id FROM customers WHERE %(lock)s LIMIT %(limit)s
                )
                SELECT id FROM subscription_dunning
                 WHERE %(due)s AND partner_id IN (SELECT partner_id FROM mine)
                 ORDER BY partner_id, next_action_date, id
                """,
                due=self._due_sql(today, skipped),
                lock=self._customer_lock_sql("partner_id"),
                limit=limit,
            ),
            self._name,
            commit,
        )

    def _run_steps(self, today):
        """Run the due steps of these (locked) follow-ups; payment retries
        are queued. Returns the follow-ups whose step failed (the error stays
        on them, the others go on)."""
        reminders = defaultdict(list)

        def run(dunning):
            dunning._run_one(today, reminders)
            dunning._as_engine().last_error = False

        def record_error(dunning, error):
            _logger.info("Dunning of %s failed: %s", dunning.name, error)
            dunning._record_error(error)

        failed = for_each_isolated(self, run, record_error)
        return failed | self._send_reminders(reminders, today)

    def _record_error(self, error):
        """Keep the error on the follow-up (a message when it is new); the
        next run tries again."""
        for dunning in self:
            if dunning.last_error == str(error):
                continue
            dunning._as_engine().last_error = str(error)
            dunning.message_post(
                body=self.env._("Payment follow-up failed: %(error)s", error=error)
            )
        return self

    def _run_one(self, today, reminders):
        """Run this follow-up's due steps; queue its reminders in ``reminders``
        (sent per customer) and its payment retries."""
        self.ensure_one()
        if not self.invoice_id._subscription_is_open():
            self._stop()
            return
        if self._awaits_attempt(today):
            return  # a payment is on its way: the steps wait for its answer
        policy = self.policy_id
        steps = policy._core_steps()
        done = set(self.event_ids.step_id.ids)
        is_working_day = policy._working_day_function(self.date_start, self.company_id)
        to_run, superseded = core.due_steps(
            self.date_start, steps, done, today, is_working_day
        )
        Step = self.env["subscription.dunning.step"]
        held = []
        for item in superseded:
            step = Step.browse(item.key)
            self._log(
                step.action,
                "superseded",
                step=step,
                note=self.env._("Replaced by a later step of the same kind."),
            )
        for item in to_run:
            if held or self._awaits_attempt(today):
                # A payment is on its way: the rest waits for its answer.
                held.append(item)
                continue
            step = Step.browse(item.key)
            if step.action == "retry":
                self._step_retry(step)
            elif step.action == "reminder":
                reminders[self.partner_id].append((self, step))
            elif step.action == "activity":
                self._step_activity(step)
            elif step.action == "suspend":
                self._step_suspend(step)
            elif step.action == "close":
                self._step_close(step)
        if self.state == "open":
            # Every due step is now done, superseded or queued (reminders).
            handled = (done | {item.key for item in to_run + superseded}) - {
                item.key for item in held
            }
            self._set_next_action_date(
                core.next_date(self.date_start, steps, handled, is_working_day)
            )

    def _awaits_attempt(self, today):
        """A payment attempt of the invoice awaits the provider's answer (or
        is queued), for less than :data:`ATTEMPT_WAIT_DAYS` days."""
        self.ensure_one()
        attempt = self.env["subscription.dunning.event"].search(
            [
                ("invoice_id", "=", self.invoice_id.id),
                ("result", "in", ("queued", "pending")),
            ],
            limit=1,
        )
        return bool(attempt and (today - attempt.date.date()).days < ATTEMPT_WAIT_DAYS)

    def _update_next_action_date(self):
        """Next step's date from the steps done so far."""
        for dunning in self:
            policy = dunning.policy_id
            dunning._set_next_action_date(
                core.next_date(
                    dunning.date_start,
                    policy._core_steps(),
                    set(dunning.event_ids.step_id.ids),
                    policy._working_day_function(
                        dunning.date_start, dunning.company_id
                    ),
                )
            )

    def _set_next_action_date(self, day):
        """A follow-up with no step left is handed over (its last step was an
        activity)."""
        self.ensure_one()
        self._as_engine().next_action_date = day
        if not day and self.state == "open":
            self._close("escalated")

    def _log(self, kind, result, step=None, **values):
        self.ensure_one()
        return (
            self.env["subscription.dunning.event"]
            .sudo()
            .create(
                {
                    "dunning_id": self.id,
                    "invoice_id": self.invoice_id.id,
                    "step_id": step and step.id,
                    "kind": kind,
                    "result": result,
                    "amount": self.invoice_id.amount_residual,
                    **values,
                }
            )
        )

    def _step_retry(self, step):
        """Retry the payment with the saved method, unless one is still being
        processed, the method is gone, or the decline needs the customer."""
        invoice = self.invoice_id
        Event = self.env["subscription.dunning.event"]
        reason = None
        token = invoice._subscription_payment_token()
        if self.decline_type in ("hard", "action") and token == self.declined_token_id:
            reason = self.env._(
                "The last decline needs a new payment method from the customer."
            )
        elif not token:
            reason = self.env._("No saved payment method: reminders only.")
        if not reason:
            try:
                with self.env.cr.savepoint():
                    return Event._create_charge(invoice, token, dunning=self, step=step)
            except UserError as error:  # still being processed, method unusable
                reason = str(error)
        self._log("retry", "skipped", step=step, note=reason)
        return Event

    def _step_activity(self, step):
        activity_type = step.activity_type_id or self.env.ref(
            "mail.mail_activity_data_todo"
        )
        user = step.activity_user_id or self._responsible_user()
        self.activity_schedule(
            activity_type_id=activity_type.id,
            summary=step.activity_note
            or self.env._("Follow up the unpaid invoice %(inv)s", inv=self.name),
            user_id=user.id,
        )
        self._log("activity", "done", step=step)

    def _responsible_user(self):
        """Who follows this invoice up: the salesperson of the subscription,
        of the invoice, or the user running (internal), else the superuser
        (a provider's notification runs as the public user)."""
        self.ensure_one()
        user = self.env.user
        return (
            self.subscription_ids.user_id[:1]
            or self.invoice_id.invoice_user_id
            or (user if user._is_internal() else self.env.ref("base.user_root"))
        )

    def _step_suspend(self, step):
        subs = self.subscription_ids.filtered(lambda s: s.state in BILLABLE_STATES)
        for sub in subs:
            sub._as_engine().write(
                {"state_before_suspension": sub.state, "state": "suspended"}
            )
            sub.message_post(
                body=self.env._(
                    "Suspended for non-payment of %(inv)s: no new period is "
                    "billed until it is paid.",
                    inv=self.name,
                )
            )
        self._as_engine().suspended_subscription_ids |= subs
        # Told once per customer at the end of the run (not if it closes).
        self._log("suspend", "to_send" if subs else "done", step=step)

    def _step_close(self, step):
        reason = self.env.ref("subscription_billing.close_reason_unpaid")
        today = fields.Date.context_today(self)
        subs = self.subscription_ids.filtered(lambda s: s.state in RUNNING_STATES)
        for sub in subs:
            sub.cancel(date=today, policy="immediate", reason_id=reason.id)
        self._log("close", "to_send" if subs else "done", step=step)
        self._close("lost")

    # ------------------------------------------------------------------
    # Stopping
    # ------------------------------------------------------------------

    @api.model
    def _stop_for_invoices(self, invoices):
        """Stop what follows ``invoices`` up, now that they are settled."""
        dunnings = self.search(
            [
                ("invoice_id", "in", invoices.ids),
                ("state", "in", ("open", "lost", "escalated")),
            ]
        )
        dunnings._stop()

    @api.model
    def _stop_settled(self):
        """Safety net: stop the open follow-ups of invoices settled outside
        reconciliation (reset to draft, cancelled)."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT d.id FROM subscription_dunning d
                  JOIN account_move m ON m.id = d.invoice_id
                 WHERE d.state = 'open'
                   AND (m.state != 'posted' OR m.payment_state NOT IN %s)
                """,
                OPEN_PAYMENT_STATES,
            )
        )
        self.browse([row[0] for row in rows])._stop()

    def _stop(self):
        """End these follow-ups by what happened to their invoice."""
        for dunning in self:
            invoice = dunning.invoice_id
            if invoice.state == "posted" and invoice.payment_state in (
                "paid",
                "in_payment",
            ):
                dunning._recovered()
            elif invoice.state == "posted" and invoice.payment_state == "reversed":
                dunning._close("credited")
            elif invoice.state != "posted":
                dunning._close("cancelled")

    def _recovered(self):
        self.ensure_one()
        steps = self.event_ids.filtered(
            lambda e: e.step_id and e.result not in ("superseded", "skipped")
        ).sorted(lambda e: (e.date, e.id))
        retried = self.event_ids.filtered(
            lambda e: (
                e.kind == "retry"
                and e.transaction_id.state == "done"
                and e.transaction_id.payment_id
            )
        )
        self._as_engine().write(
            {
                "recovered_step_id": steps[-1:].step_id.id,
                "recovery_channel": "retry" if retried else "other",
            }
        )
        closed = self.state == "lost"
        self._log("paid", "done", amount=self.amount_failed)
        self._close("recovered")
        if closed:
            self._reopen_subscriptions()

    def _reopen_subscriptions(self):
        """The invoice whose non-payment closed subscriptions is paid after
        all: reopen them (as a suspended one resumes), unless another unpaid
        invoice closed them too; a reopening refused (by the change engine)
        is said on the subscription and given to its salesperson."""
        self.ensure_one()
        reason = self.env.ref("subscription_billing.close_reason_unpaid")
        today = fields.Date.context_today(self)
        for sub in self.subscription_ids.filtered(
            lambda s: s.state == "closed" and s.close_reason_id == reason
        ):
            if self.search_count(
                [
                    ("id", "!=", self.id),
                    ("state", "=", "lost"),
                    ("subscription_ids", "in", sub.ids),
                    ("amount_residual", ">", 0),
                ]
            ):
                continue
            try:
                with self.env.cr.savepoint():
                    sub.reactivate(date=today)
                sub.message_post(
                    body=self.env._(
                        "Reopened: invoice %(inv)s, whose non-payment closed it, "
                        "is paid.",
                        inv=self.name,
                    )
                )
            except UserError as error:
                body = self.env._(
                    "Invoice %(inv)s, whose non-payment closed this subscription, "
                    "is paid, but it could not be reopened: %(error)s",
                    inv=self.name,
                    error=error,
                )
                sub.message_post(body=body)
                sub.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Paid after closing: reopen it?"),
                    note=body,
                    user_id=(sub.user_id or self._responsible_user()).id,
                )

    def _close(self, state):
        self.ensure_one()
        self._as_engine().write(
            {
                "state": state,
                "date_closed": fields.Date.context_today(self),
                "next_action_date": False,
            }
        )
        if state in ("recovered", "credited", "cancelled"):
            self._resume_subscriptions()
        if state in ("recovered", "credited", "cancelled") and self.activity_ids:
            self.activity_ids.action_feedback(
                feedback=self.env._(
                    "The follow-up ended: %(state)s.",
                    state=dict(STATES)[state],
                )
            )

    def _resume_subscriptions(self):
        """Subscriptions suspended for this invoice resume once no other
        unpaid invoice keeps them suspended."""
        for sub in self.suspended_subscription_ids.filtered(
            lambda s: s.state == "suspended"
        ):
            others = self.search_count(
                [
                    ("id", "!=", self.id),
                    ("state", "=", "open"),
                    ("suspended_subscription_ids", "in", sub.ids),
                ]
            )
            if not others:
                sub._resume_after_payment()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_retry_now(self):
        """Staff: retry the payment now (outside the schedule); the attempt
        is queued and sent by the scheduled action, triggered at once."""
        Event = self.env["subscription.dunning.event"]
        for dunning in self:
            invoice = dunning.invoice_id
            blocker = invoice._subscription_retry_blocker()
            if blocker:
                raise UserError(blocker)
            token = invoice._subscription_payment_token()
            Event._create_charge(invoice, token, dunning=dunning)
        return Event._notify_queued()

    def action_stop(self):
        """Staff: hand the follow-up over (no more automatic steps)."""
        for dunning in self.filtered(lambda d: d.state == "open"):
            dunning.message_post(body=self.env._("Automatic follow-up stopped."))
            dunning._close("escalated")
        return True

    def action_view_invoice(self):
        self.ensure_one()
        return self.invoice_id._get_records_action()
