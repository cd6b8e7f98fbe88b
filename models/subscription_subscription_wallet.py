# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The prepaid credit of a subscription's customer, shown on the subscription."""

from odoo import fields, models


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    wallet_ids = fields.Many2many(
        "subscription.wallet",
        string="Prepaid Credit Wallets",
        compute="_compute_wallet_balance",
    )
    wallet_balance = fields.Monetary(
        string="Prepaid Credit",
        compute="_compute_wallet_balance",
        help="What the customer's wallets in this subscription's company and "
        "currency hold: it pays the next invoices before any charge.",
    )

    def _compute_wallet_balance(self):
        wallets = self.env["subscription.wallet"].search(
            [
                (
                    "partner_id",
                    "in",
                    self.partner_invoice_id.commercial_partner_id.ids
                    + self.partner_id.commercial_partner_id.ids,
                )
            ]
        )
        for sub in self:
            partner = (sub.partner_invoice_id or sub.partner_id).commercial_partner_id
            own = wallets.filtered(
                lambda w, s=sub, p=partner: (
                    w.partner_id == p
                    and w.company_id == s.company_id
                    and w.currency_id == s.currency_id
                )
            )
            sub.wallet_ids = own
            sub.wallet_balance = sum(own.mapped("balance"))
