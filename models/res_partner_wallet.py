# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from decimal import Decimal

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    subscription_wallet_count = fields.Integer(
        string="Wallets",
        compute="_compute_subscription_wallet",
        groups="subscription_billing.group_subscription_user",
    )
    subscription_wallet_balance = fields.Monetary(
        string="Prepaid Credit",
        compute="_compute_subscription_wallet",
        groups="subscription_billing.group_subscription_user",
        help="The balance of the customer's wallets in the company's currency.",
    )

    def _compute_subscription_wallet(self):
        wallets = self.env["subscription.wallet"].search(
            [("partner_id", "in", self.commercial_partner_id.ids)]
        )
        # One sum of the ledger for every wallet, exact (Decimal).
        balances = wallets._balances()
        company = self.env.company
        for partner in self:
            own = wallets.filtered(
                lambda w, p=partner: w.partner_id == p.commercial_partner_id
            )
            partner.subscription_wallet_count = len(own)
            partner.subscription_wallet_balance = float(
                sum(
                    (
                        balances.get(wallet.id, Decimal(0))
                        for wallet in own
                        if wallet.currency_id == company.currency_id
                        and wallet.company_id == company
                    ),
                    Decimal(0),
                )
            )

    def action_view_subscription_wallets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_wallet_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action
