# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prepaid credit on subscription invoices: the customer's wallets pay the
invoices of a run before they are posted."""

from odoo import fields, models
from odoo.exceptions import UserError


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    wallet_ids = fields.One2many(
        "subscription.wallet",
        compute="_compute_wallet_ids",
        string="Prepaid Credit Wallets",
    )

    def _compute_wallet_ids(self):
        Wallet = self.env["subscription.wallet"]
        for sub in self:
            sub.wallet_ids = Wallet.search(
                [
                    (
                        "commercial_partner_id",
                        "=",
                        sub.partner_invoice_id.commercial_partner_id.id,
                    ),
                    ("company_id", "=", sub.company_id.id),
                    ("currency_id", "=", sub.currency_id.id),
                ]
            )

    def _finalize_moves(self, moves, policies):
        """The wallets' credit goes on the new invoices before they are posted."""
        self.env["subscription.wallet"]._apply_to_invoices(moves)
        return super()._finalize_moves(moves, policies)

    def grant_wallet_credit(self, amount, note=None, currency=None):
        """Grant ``amount`` (API) to the first wallet of this subscription's
        customer in its currency (created when there is none); ``currency``
        (a code or record), when given, must be the subscription's."""
        self.ensure_one()
        self.check_access("write")
        if currency:
            code = currency if isinstance(currency, str) else currency.name
            if code != self.currency_id.name:
                raise UserError(
                    self.env._(
                        "Subscription %(sub)s is billed in %(currency)s: credit "
                        "in %(other)s cannot pay its invoices.",
                        sub=self.display_name,
                        currency=self.currency_id.name,
                        other=code,
                    )
                )
        wallet = self.wallet_ids.filtered("active")[:1]
        Wallet = self.env["subscription.wallet"]
        # Refused before anything is written.
        (wallet or Wallet.new({"currency_id": self.currency_id.id}))._clean_amount(
            amount
        )
        if not wallet:
            wallet = self.env["subscription.wallet"].create(
                {
                    "name": self.env._("Prepaid credit"),
                    "partner_id": self.partner_invoice_id.commercial_partner_id.id,
                    "company_id": self.company_id.id,
                    "currency_id": self.currency_id.id,
                }
            )
            self.invalidate_recordset(["wallet_ids"])
        return wallet.grant(amount, note)
