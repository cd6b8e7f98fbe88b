# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionWalletCreditWizard(models.TransientModel):
    """Top Up (an invoice of credit) or Grant Credit (free, managers) from the
    wallet's form: both call the wallet's public methods."""

    _name = "subscription.wallet.credit.wizard"
    _description = "Top Up or Grant Prepaid Credit"

    wallet_id = fields.Many2one("subscription.wallet", required=True, readonly=True)
    currency_id = fields.Many2one(related="wallet_id.currency_id")
    mode = fields.Selection(
        [("top_up", "Top up (invoice)"), ("grant", "Grant for free")],
        required=True,
        default="top_up",
        readonly=True,
    )
    amount = fields.Monetary(required=True)
    note = fields.Char()

    def action_confirm(self):
        self.ensure_one()
        if self.mode == "grant":
            self.wallet_id.grant_credit(self.amount, self.note)
            return {"type": "ir.actions.act_window_close"}
        invoice = self.wallet_id.action_top_up(self.amount)
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": invoice.id,
            "views": [(False, "form")],
        }
