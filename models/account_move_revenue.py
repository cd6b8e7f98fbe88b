# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    subscription_recognition_ids = fields.One2many(
        "subscription.revenue.recognition",
        "invoice_id",
        string="Revenue Recognition",
        readonly=True,
    )
    subscription_recognized_line_ids = fields.One2many(
        "subscription.revenue.recognition",
        "recognition_move_id",
        string="Recognised Shares",
        readonly=True,
    )

    def _post(self, soft=True):
        deferred = self._subscription_defer_lines()
        posted = super()._post(soft=soft)
        lines = deferred.filtered(lambda line: line.move_id in posted)
        if lines:
            rows = self.env["subscription.revenue.recognition"]._plan_for_lines(lines)
            # All at once (the company's setting), and the months before
            # the document's (earned already) now.
            at_once = rows.filtered(
                lambda r: (
                    r.company_id.subscription_recognition_mode == "on_post"
                    or r.month < r.move_date.replace(day=1)
                )
            )
            if at_once:
                at_once._post_recognition()
        return posted

    def _subscription_defer_lines(self):
        """Put the deferrable lines of these subscription invoices and credit
        notes on the deferred revenue account (their income account kept for
        the recognition); returns them. A line on the deferred account that
        is no longer deferrable goes back to its income account."""
        Line = self.env["account.move.line"]
        deferred = Line
        moves = self.filtered(
            lambda m: m.state == "draft" and m.is_sale_document(include_receipts=False)
        )
        restore = Line
        for move in moves:
            to_defer = Line
            for line in move.invoice_line_ids.filtered("subscription_id"):
                if line._subscription_recognition_shares():
                    to_defer |= line
                elif line.subscription_income_account_id:
                    restore |= line
            if not to_defer:
                continue
            account = move.company_id._subscription_deferred_account()
            for income, lines in (
                to_defer.filtered(
                    lambda line, account=account: line.account_id != account
                )
                .grouped("account_id")
                .items()
            ):
                lines.write(
                    {
                        "subscription_income_account_id": income.id,
                        "account_id": account.id,
                    }
                )
            missing = to_defer.filtered(
                lambda line: not line.subscription_income_account_id
            )
            if missing:
                raise UserError(
                    self.env._(
                        "Line %(line)s of %(move)s is on the deferred revenue "
                        "account but says no income account to recognise it "
                        "on: put it on its income account.",
                        line=missing[0].display_name,
                        move=move.display_name,
                    )
                )
            deferred |= to_defer
        for income, lines in restore.grouped("subscription_income_account_id").items():
            lines.write(
                {"account_id": income.id, "subscription_income_account_id": False}
            )
        return deferred

    def _subscription_check_recognition_unposted(self):
        for move in self:
            if move.subscription_recognized_line_ids:
                raise UserError(
                    self.env._(
                        "%(move)s recognises deferred subscription revenue: it "
                        "cannot be reset to draft nor cancelled. Reverse the "
                        "invoice instead.",
                        move=move.display_name,
                    )
                )
            if move.subscription_recognition_ids.filtered(
                lambda r: r.state == "posted"
            ):
                raise UserError(
                    self.env._(
                        "Part of the revenue of %(move)s is already recognised: "
                        "it cannot be reset to draft nor cancelled. Issue a "
                        "credit note instead.",
                        move=move.display_name,
                    )
                )

    def button_draft(self):
        self._subscription_check_recognition_unposted()
        result = super().button_draft()
        self.subscription_recognition_ids.sudo().unlink()
        return result

    def button_cancel(self):
        self._subscription_check_recognition_unposted()
        result = super().button_cancel()
        self.subscription_recognition_ids.sudo().unlink()
        return result
