# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionWalletCreditWizard(models.TransientModel):
    _name = "subscription.wallet.credit.wizard"
    _description = "Grant or Buy Prepaid Credit"

    wallet_id = fields.Many2one("subscription.wallet", required=True)
    currency_id = fields.Many2one(related="wallet_id.currency_id")
    mode = fields.Selection(
        [("grant", "Grant credit"), ("buy", "Buy credit")],
        required=True,
        default="grant",
    )
    amount = fields.Monetary(required=True)
    note = fields.Char()

    def action_confirm(self):
        self.ensure_one()
        if self.mode == "grant":
            self.wallet_id.grant(self.amount, self.note)
            return {"type": "ir.actions.act_window_close"}
        invoice = self.wallet_id.action_buy_credit(self.amount)
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": invoice.id,
            "views": [(False, "form")],
        }
