# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Invoices and prepaid credit: the purchase of credit is recorded when its
invoice is paid; the credit applied to an invoice cancelled or deleted is
given back."""

from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    subscription_wallet_purchase_id = fields.Many2one(
        "subscription.wallet",
        string="Credit Bought For",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The wallet credited when this invoice is paid.",
    )

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        for move in self.sudo().filtered(
            lambda m: m.subscription_wallet_purchase_id and m.move_type == "out_invoice"
        ):
            move.subscription_wallet_purchase_id._record_purchase(move)
        return result

    def button_cancel(self):
        result = super().button_cancel()
        self.env["subscription.wallet"].sudo()._reverse_invoice(self)
        return result

    def button_draft(self):
        """An invoice whose credit was given back (cancelled) loses its
        credit lines when reset to draft: the credit is not applied twice."""
        cancelled = self.filtered(lambda m: m.state == "cancel")
        result = super().button_draft()
        given_back = (
            self.env["subscription.wallet.movement"]
            .sudo()
            .search([("invoice_id", "in", cancelled.ids), ("kind", "=", "reversal")])
        )
        for move in given_back.invoice_id:
            lines = move.invoice_line_ids.filtered("subscription_wallet_id")
            move.write(
                {"invoice_line_ids": [fields.Command.unlink(line.id) for line in lines]}
            )
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_give_back_wallet_credit(self):
        self.env["subscription.wallet"].sudo()._reverse_invoice(self)
