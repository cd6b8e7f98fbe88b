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
        plans = self._plan_reminders(reminders, today)
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
    def _plan_reminders(self, reminders, today):
        """For each customer of ``reminders``, which of its steps are new
        (not sent since its oldest open follow-up began), and the follow-up
        (the most advanced) whose message tells them: two queries for all the
        customers."""
        if not reminders:
            return []
        partners = self.env["res.partner"].union(*reminders)
        step_ids = {step.id for pairs in reminders.values() for __, step in pairs}
        cycle_start = dict(
            self._read_group(
                [("partner_id", "in", partners.ids), ("state", "=", "open")],
                ["partner_id"],
                ["date_start:min"],
            )
        )
        starts = {
            partner: fields.Datetime.to_datetime(cycle_start.get(partner) or today)
            for partner in partners
        }
        already = self.env["subscription.dunning.event"].search(
            [
                ("partner_id", "in", partners.ids),
                ("kind", "=", "reminder"),
                ("result", "=", "sent"),
                ("step_id", "in", list(step_ids)),
                ("date", ">=", min(starts.values())),
            ]
        )
        sent_of = defaultdict(dict)
        for event in already:
            if event.date >= starts[event.partner_id]:
                sent_of[event.partner_id][event.step_id] = event.message_id
        default_template = self.env.ref(
            "subscription_billing.mail_template_dunning_reminder"
        )
        plans = []
        for partner, pairs in reminders.items():
            own_steps = {step for __, step in pairs}
            sent_steps = {
                step: message
                for step, message in sent_of[partner].items()
                if step in own_steps
            }
            new_pairs = [(d, s) for d, s in pairs if s not in sent_steps]
            lead, template = self.browse(), None
            if new_pairs:
                lead, step = max(new_pairs, key=lambda pair: (pair[1].day, pair[0].id))
                template = step.mail_template_id or default_template
            plans.append(
                {
                    "lead": lead,
                    "template": template,
                    "pairs": pairs,
                    "sent_steps": sent_steps,
                }
            )
        return plans

    def _post_reminders(self, template):
        """Post ``template`` on these follow-ups, in one batch, or one by one
        when the batch fails. Returns ``({id: message}, {follow-up: error})``."""
        try:
            with self.env.cr.savepoint():
                messages = self._post_template(template)
        except Exception as error:  # noqa: BLE001
            if len(self) == 1:
                _logger.info("Reminder of %s failed: %s", self.name, error)
                return {}, {self: error}
        else:
            # Outside the try: a failure here must not post the batch again.
            self._trigger_mail_queue()
            return {message.res_id: message for message in messages}, {}
        posted, errors = {}, {}

        def post(lead):
            posted[lead.id] = lead._post_template(template)

        def failed(lead, error):
            _logger.info("Reminder of %s failed: %s", lead.name, error)
            errors[lead] = error

        for_each_isolated(self, post, failed)
        if posted:
            self._trigger_mail_queue()
        return posted, errors

    @api.model
    def _trigger_mail_queue(self):
        """Deliver the queued emails soon (the queue's own schedule is
        hourly): once per batch posted, not once per message."""
        queue = self.env.ref("mail.ir_cron_mail_scheduler_action", False)
        if queue:
            queue.sudo()._trigger()

    def _post_template(self, template):
        """Post ``template`` on each of these follow-ups as the mail composer
        posts it on one record (comment, in the customer's language, its
        recipients, sender and layout), but rendered in one pass per
        language for all of them; the emails go through the mail queue, as
        the composer sends those of a batch (the caller triggers the queue).
        Returns the messages."""
        if not self:
            return self.env["mail.message"]
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        rendered = template._generate_template(
            self.ids,
            (
                "attachment_ids",
                "body_html",
                "email_cc",
                "email_from",
                "email_to",
                "partner_to",
                "reply_to",
                "scheduled_date",
                "subject",
            ),
            recipients_allow_suggested=True,
            find_or_create_partners=True,
        )
        langs = template._render_lang(self.ids)
        Thread = self.env["mail.thread"].with_context(active_test=False)
        user_partner = self.env.user.partner_id
        messages = self.env["mail.message"]
        authors = {}  # a batch has one sender or a few
        for dunning in self:
            values = rendered[dunning.id]
            email_from = values.get("email_from") or self.env.user.email_formatted
            if email_from not in authors:
                author, __ = Thread._message_compute_author(None, email_from)
                authors[email_from] = author
            author_id = authors[email_from]
            messages |= dunning.message_post(
                body=values.get("body_html") or "",
                subject=values.get("subject") or "",
                email_from=email_from,
                author_id=author_id or user_partner.id,
                partner_ids=values.get("partner_ids", []),
                attachment_ids=values.get("attachment_ids", []),
                scheduled_date=values.get("scheduled_date"),
                force_email_lang=langs.get(dunning.id),
                email_layout_xmlid=template.email_layout_xmlid,
                email_add_signature=False,
                mail_auto_delete=template.auto_delete,
                mail_server_id=template.mail_server_id.id,
                message_type="comment",
                subtype_id=subtype_id,
                force_send=False,
                **({"reply_to": values["reply_to"]} if values.get("reply_to") else {}),
            )
        return messages

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
