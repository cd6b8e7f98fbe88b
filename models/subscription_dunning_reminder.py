# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Reminders of a follow-up: one message per customer and step, and the
values the dunning mail templates read."""

import logging
from collections import defaultdict

from odoo import api, fields, models

from ..tools import for_each_isolated

_logger = logging.getLogger(__name__)


class SubscriptionDunning(models.Model):
    _inherit = "subscription.dunning"

    # ------------------------------------------------------------------
    # Reminders
    # ------------------------------------------------------------------

    @api.model
    def _send_reminders(self, reminders, today):
        """One message per customer of ``reminders`` (``{partner: [(follow-up,
        step)]}``) for its reminder steps due now, listing all its overdue
        invoices; a step already sent to the customer while its invoices stay
        overdue is not sent again. Messages are rendered in batch per
        template; a failure stays on its customer's follow-ups, which are due
        again at the next run. Returns the follow-ups that failed."""
        for partner, pairs in list(reminders.items()):
            # A follow-up that ended in this run (closed) is not reminded.
            for dunning, step in pairs:
                if dunning.state != "open":
                    dunning._log(
                        "reminder",
                        "skipped",
                        step=step,
                        note=self.env._(
                            "Not sent: the follow-up ended in the same run."
                        ),
                    )
            reminders[partner] = [(d, s) for d, s in pairs if d.state == "open"]
            if not reminders[partner]:
                del reminders[partner]
        plans = [
            self._plan_reminder(partner, pairs, today)
            for partner, pairs in reminders.items()
        ]
        leads_of = defaultdict(lambda: self.browse())
        for plan in plans:
            if plan["lead"]:
                leads_of[plan["template"]] |= plan["lead"]
        message_of = {}
        failed = self.browse()
        for template, leads in leads_of.items():
            posted, errors = leads._post_reminders(template)
            message_of.update(posted)
            for lead, error in errors.items():
                plan = next(p for p in plans if p["lead"] == lead)
                for dunning, __ in plan["pairs"]:
                    dunning._as_engine().next_action_date = today
                    failed |= dunning._record_error(error)
        for plan in plans:
            message = message_of.get(plan["lead"].id)
            if plan["lead"] and not message:
                continue
            for dunning, step in plan["pairs"]:
                if step in plan["sent_steps"]:
                    dunning._log(
                        "reminder",
                        "included",
                        step=step,
                        message_id=plan["sent_steps"][step].id,
                        note=self.env._("The customer already received this reminder."),
                    )
                else:
                    dunning._log("reminder", "sent", step=step, message_id=message.id)
        return failed

    @api.model
    def _plan_reminder(self, partner, pairs, today):
        """Which steps of ``partner`` are new, and the follow-up (the most
        advanced) whose message tells them."""
        open_dunnings = self.search(
            [("partner_id", "=", partner.id), ("state", "=", "open")]
        )
        cycle_start = min(open_dunnings.mapped("date_start"), default=today)
        already = self.env["subscription.dunning.event"].search(
            [
                ("partner_id", "=", partner.id),
                ("kind", "=", "reminder"),
                ("result", "=", "sent"),
                ("step_id", "in", [step.id for __, step in pairs]),
                ("date", ">=", fields.Datetime.to_datetime(cycle_start)),
            ]
        )
        sent_steps = {event.step_id: event.message_id for event in already}
        new_pairs = [(d, s) for d, s in pairs if s not in sent_steps]
        lead, template = self.browse(), None
        if new_pairs:
            lead, step = max(new_pairs, key=lambda pair: (pair[1].day, pair[0].id))
            template = step.mail_template_id or self.env.ref(
                "subscription_billing.mail_template_dunning_reminder"
            )
        return {
            "lead": lead,
            "template": template,
            "pairs": pairs,
            "sent_steps": sent_steps,
        }

    def _post_reminders(self, template):
        """Post ``template`` on these follow-ups, in one batch, or one by one
        when the batch fails. Returns ``({id: message}, {follow-up: error})``."""
        try:
            with self.env.cr.savepoint():
                messages = self.message_post_with_source(
                    template, subtype_xmlid="mail.mt_comment"
                )
            return {message.res_id: message for message in messages}, {}
        except Exception as error:  # noqa: BLE001
            if len(self) == 1:
                _logger.info("Reminder of %s failed: %s", self.name, error)
                return {}, {self: error}
        posted, errors = {}, {}

        def post(lead):
            posted[lead.id] = lead.message_post_with_source(
                template, subtype_xmlid="mail.mt_comment"
            )

        def failed(lead, error):
            _logger.info("Reminder of %s failed: %s", lead.name, error)
            errors[lead] = error

        for_each_isolated(self, post, failed)
        return posted, errors

    # ------------------------------------------------------------------
    # Values for the mail templates
    # ------------------------------------------------------------------

    def _reminder_invoices(self):
        """The customer's overdue subscription invoices (for the templates)."""
        self.ensure_one()
        return (
            self.search(
                [("partner_id", "=", self.partner_id.id), ("state", "=", "open")]
            )
            .invoice_id.filtered(lambda inv: inv.amount_residual > 0)
            .sorted(lambda inv: (inv.invoice_date_due or inv.invoice_date, inv.id))
        )

    def _notice_events(self, kind):
        """The customer's notices of ``kind`` told by this message."""
        self.ensure_one()
        return (
            self.env["subscription.dunning.event"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self.partner_id.id),
                    ("kind", "=", kind),
                    ("result", "=", "to_send"),
                ]
            )
        )

    def _notice_invoices(self, kind):
        """The invoices of the customer's notices of ``kind`` (templates)."""
        return (
            self._notice_events(kind)
            .invoice_id.with_env(self.env)
            .sorted(lambda inv: (inv.invoice_date_due or inv.invoice_date, inv.id))
        )

    def _notice_subscriptions(self, kind):
        """The subscriptions that the customer's notices of ``kind`` suspend
        or close (templates)."""
        dunnings = self._notice_events(kind).dunning_id.with_env(self.env)
        if kind == "suspend":
            return dunnings.suspended_subscription_ids.filtered(
                lambda s: s.state == "suspended"
            )
        return dunnings.subscription_ids.filtered(lambda s: s.state == "closed")

    def _portal_pay_url(self, invoice=None):
        invoice = invoice or self.invoice_id
        return invoice.get_base_url() + invoice.get_portal_url()

    def _payment_method_url(self):
        return self.invoice_id.get_base_url() + "/my/payment_method"
