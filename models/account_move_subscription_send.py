# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Sending the invoices of the billing runs: our own scheduled action, safe on
several workers (bounded batches claimed with ``FOR UPDATE SKIP LOCKED``), and
fast (a batch's PDFs in one wkhtmltopdf call; or no PDF at all, the email
carrying the invoice's portal link).

The invoices wait with Odoo's ``sending_data`` set (so Odoo's "being sent"
badge, reset to draft and manual sending keep working), marked with the
``subscription_billing`` key; Odoo's own sending cron leaves marked ones to us.
"""

import logging
from collections import defaultdict

from odoo import api, models
from odoo.fields import Domain
from odoo.tools import SQL, email_split

from ..tools import claim_ids, claimed_batches

_logger = logging.getLogger(__name__)

# The key of ``sending_data`` that hands an invoice to our sending action.
SEND_MARKER = "subscription_billing"


def _marked_sql(alias):
    return SQL("(%s ? %s)", SQL.identifier(alias, "sending_data"), SEND_MARKER)


class AccountMove(models.Model):
    _inherit = "account.move"

    _subscription_send_index = models.Index(
        "(id) WHERE state = 'posted' AND sending_data ? 'subscription_billing'"
    )

    # ------------------------------------------------------------------
    # Odoo's sending cron: not our invoices
    # ------------------------------------------------------------------

    @api.model
    def _cron_account_move_send(self, job_count=10):
        """Odoo's sending cron (same steps), less the subscription invoices:
        ours sends them, claimed so that two workers never take the same one.
        It also keeps only the moves it could lock, where Odoo ignores the
        result of ``try_lock_for_update``."""
        domain = Domain(
            [("sending_data", "!=", False), ("state", "=", "posted")]
        ) & Domain.custom(
            to_sql=lambda model, alias, query: SQL("NOT %s", _marked_sql(alias)),
            predicate=lambda move: SEND_MARKER not in (move.sending_data or {}),
        )
        to_process = self.search(
            domain,
            order="date asc, invoice_date asc, sequence_number asc, id asc",
            limit=job_count,
        ).try_lock_for_update()
        if not to_process:
            return
        self.env["account.move.send"]._generate_and_send_invoices(
            to_process, from_cron=True
        )
        self.env["ir.cron"]._commit_progress(
            len(to_process), remaining=self.search_count(domain)
        )

    # ------------------------------------------------------------------
    # Our sending cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_send_subscription_invoices(self, batch_size=100):
        """Send the invoices the billing runs queued, batch by batch, each
        batch claimed (``SKIP LOCKED``), sent and committed: a crash rolls its
        batch back and the next run sends it; the sent ones are unmarked in
        the same transaction, never sent twice."""
        # Nothing pending before a claim that may restart the transaction.
        self.env["ir.cron"]._commit_progress(0)
        for moves in claimed_batches(
            self.env,
            lambda retry: self._subscription_claim_to_send(batch_size, commit=retry),
            commit=True,
            remaining=self._subscription_count_to_send,
        ):
            moves._subscription_send()

    @api.model
    def _subscription_claim_to_send(self, limit, commit=False):
        return self.browse(
            claim_ids(
                self.env,
                SQL(
                    "SELECT id FROM account_move m WHERE m.state = 'posted' "
                    "AND %s ORDER BY m.id",
                    _marked_sql("m"),
                ),
                limit=limit,
                commit=commit,
            )
        )

    @api.model
    def _subscription_count_to_send(self):
        return self.env.execute_query(
            SQL(
                "SELECT COUNT(*) FROM account_move m WHERE m.state = 'posted' AND %s",
                _marked_sql("m"),
            )
        )[0][0]

    def _subscription_send(self):
        """Send these claimed invoices as their company says: PDF attached
        (Odoo's sending) or portal link (no PDF rendered)."""
        by_mode = defaultdict(lambda: self.browse())
        for move in self:
            by_mode[(move.company_id, move.company_id.subscription_invoice_email)] |= (
                move
            )
        for (__, mode), moves in by_mode.items():
            if mode == "link":
                moves._subscription_send_links()
            else:
                moves._subscription_send_pdfs()

    def _subscription_send_pdfs(self):
        """Odoo's sending: the PDFs of a batch in one wkhtmltopdf call, when
        its Qt is patched (an unpatched one renders one document a call)."""
        from odoo.addons.base.models.ir_actions_report import _wkhtml

        size = len(self) if _wkhtml().is_patched_qt else 1
        Send = self.env["account.move.send"]
        for start in range(0, len(self), size):
            Send._generate_and_send_invoices(self[start : start + size], from_cron=True)

    def _subscription_send_links(self):
        """The invoice email (Odoo's template: its button opens the invoice on
        the portal, which renders the PDF on demand), without attachment, to
        the recipients Odoo's sending would choose; rendered in batches, one
        per template and language."""
        moves = self.sudo()
        subtype = self.env.ref("mail.mt_comment")
        by_template = defaultdict(lambda: moves.browse())
        for move in moves:
            by_template[move._get_mail_template()] |= move
        defaults = moves._message_get_default_recipients()
        sent = moves.browse()
        for template, template_moves in by_template.items():
            template = template.sudo()
            by_lang = defaultdict(list)
            for move_id, lang in template._render_lang(template_moves.ids).items():
                by_lang[lang].append(move_id)
            for lang, ids in by_lang.items():
                for rendered in self._subscription_render_links(template, lang, ids):
                    for move in moves.browse(list(rendered)):
                        if move._subscription_send_link(
                            template,
                            lang,
                            rendered[move.id],
                            defaults[move.id],
                            subtype,
                        ):
                            sent |= move
        for move in sent:
            if move.is_invoice(include_receipts=True):
                move.journal_id._notify_invoice_subscribers(
                    invoice=move, mail_params={"attachment_ids": []}
                )
        sent.is_move_sent = True
        moves.sending_data = False

    def _subscription_render_links(self, template, lang, ids):
        """The template's values for ``ids`` in ``lang``: rendered for all of
        them at once; when that fails, one by one, so that one invoice whose
        rendering fails (its error on it) does not hold back the others.
        Yields dicts ``{move_id: {field: value}}``."""
        rendering = template.with_context(lang=lang)

        def render(move_ids):
            values = {
                "body": rendering._render_field(
                    "body_html", move_ids, options={"post_process": True}
                ),
                "subject": rendering._render_field("subject", move_ids),
                "email_from": rendering._render_field("email_from", move_ids),
                "reply_to": rendering._render_field("reply_to", move_ids),
            }
            return {
                move_id: {key: found[move_id] for key, found in values.items()}
                for move_id in move_ids
            }

        try:
            with self.env.cr.savepoint():
                rendered = render(ids)
        except Exception:  # noqa: BLE001
            _logger.info("Invoice emails: batch rendering failed, one by one")
        else:
            yield rendered
            return
        for move_id in ids:
            try:
                with self.env.cr.savepoint():
                    rendered = render([move_id])
            except Exception as error:  # noqa: BLE001
                self.browse(move_id)._subscription_send_failed(error)
                continue
            yield rendered

    def _subscription_send_link(self, template, lang, rendered, defaults, subtype):
        """Post this invoice's email (its values ``rendered``); True when sent.
        A failure is written on the invoice, which leaves the queue (sent
        again from its *Send* button), and does not stop the batch."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                partners = self._subscription_send_recipients(template, lang, defaults)
                if not (self.partner_id.email or partners):
                    self.message_post(
                        body=self.env._(
                            "Not emailed: the customer has no email address. Add "
                            "one and send the invoice from its Send button."
                        )
                    )
                    return False
                # As Odoo's sending: the queueing user, unless the template
                # names a sender.
                author_id = (self.sending_data or {}).get("author_partner_id")
                email_from = rendered["email_from"]
                if email_from or not author_id:
                    author_id, email_from = self._message_compute_author(
                        email_from=email_from
                    )
                params = {
                    "author_id": author_id,
                    "email_from": email_from,
                    "subtype_id": subtype.id,
                    "model_description": self.with_context(lang=lang).type_name,
                    "notify_author_mention": True,
                    "body": rendered["body"],
                    "subject": rendered["subject"],
                    "partner_ids": partners.ids,
                    "attachments": [],
                }
                if rendered["reply_to"]:
                    params["reply_to"] = rendered["reply_to"]
                self.env["account.move.send"]._send_mail(self, template, **params)
                return True
        except Exception as error:  # noqa: BLE001
            self._subscription_send_failed(error)
            return False

    def _subscription_send_failed(self, error):
        _logger.warning("Invoice email of %s failed: %s", self.display_name, error)
        self.sudo().message_post(
            body=self.env._(
                "The invoice email could not be sent: %(error)s. Fix the cause "
                "and send the invoice from its Send button.",
                error=str(error),
            )
        )

    def _subscription_send_recipients(self, template, lang, defaults):
        """The partners Odoo's sending mails this invoice to
        (``account.move.send._get_default_mail_partner_ids``), from the
        default recipients computed for the whole batch."""
        self.ensure_one()
        if not template.use_default_to:
            return self.env["account.move.send"]._get_default_mail_partner_ids(
                self, template, lang
            )
        partners = self.env["res.partner"].browse(defaults["partner_ids"])
        emails = email_split(defaults["email_to"] or "")
        if emails:
            partners |= self._partner_find_from_emails_single(
                emails + emails, no_create=False
            )
        return partners.filtered("email")
