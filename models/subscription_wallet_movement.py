# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The ledger of a prepaid credit wallet: one row per credit or debit, never
changed; the balance is their sum."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The sign of each kind: credit in (+) or out (-).
SIGNS = {"grant": 1, "purchase": 1, "reversal": 1, "applied": -1, "expiry": -1}


class SubscriptionWalletMovement(models.Model):
    _name = "subscription.wallet.movement"
    _description = "Prepaid Credit Movement"
    _order = "date desc, id desc"

    wallet_id = fields.Many2one(
        "subscription.wallet", required=True, index=True, ondelete="restrict"
    )
    partner_id = fields.Many2one(related="wallet_id.commercial_partner_id")
    company_id = fields.Many2one(related="wallet_id.company_id", store=True)
    currency_id = fields.Many2one(related="wallet_id.currency_id")
    kind = fields.Selection(
        [
            ("grant", "Granted"),
            ("purchase", "Bought"),
            ("applied", "Applied to invoice"),
            ("expiry", "Expired"),
            ("reversal", "Given back"),
        ],
        required=True,
        readonly=True,
    )
    amount = fields.Monetary(
        required=True, readonly=True, help="Credit in (positive) or out (negative)."
    )
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    invoice_id = fields.Many2one(
        "account.move", index="btree_not_null", readonly=True, ondelete="set null"
    )
    note = fields.Char(readonly=True)

    # A retry never applies (nor buys, nor gives back) twice on one invoice;
    # a wallet expires once.
    _wallet_invoice_kind_unique = models.UniqueIndex(
        "(wallet_id, invoice_id, kind) WHERE invoice_id IS NOT NULL",
        "A wallet moves once per invoice and kind.",
    )
    _wallet_expiry_unique = models.UniqueIndex(
        "(wallet_id) WHERE kind = 'expiry'", "A wallet expires once."
    )

    @api.constrains("kind", "amount")
    def _check_amount_sign(self):
        for movement in self:
            sign = SIGNS[movement.kind]
            zero = movement.currency_id.is_zero(movement.amount)
            if (zero and movement.kind != "expiry") or (
                not zero and (movement.amount > 0) != (sign > 0)
            ):
                raise ValidationError(
                    self.env._(
                        "Wallet %(wallet)s: a movement of kind %(kind)s cannot "
                        "be of %(amount)s.",
                        wallet=movement.wallet_id.display_name,
                        kind=movement.kind,
                        amount=movement.amount,
                    )
                )
