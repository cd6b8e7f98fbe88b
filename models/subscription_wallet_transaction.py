# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The ledger of the prepaid credit: one row per movement of a wallet.

A wallet's balance is the sum of its rows (``subscription.wallet.balance``),
never a stored counter. Each row names the journal entry that carries it
(``move_id``) and, for a purchase, a consumption or its refund, the invoice
(``invoice_id``); the database refuses a second row of one kind for one
wallet and invoice, and a second expiry of one wallet.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import exact_decimal

KINDS = [
    ("purchase", "Purchase"),
    ("grant", "Grant"),
    ("consumption", "Consumption"),
    ("refund", "Refund"),
    ("expiry", "Expiry"),
]


class SubscriptionWalletTransaction(models.Model):
    _name = "subscription.wallet.transaction"
    _description = "Prepaid Credit Movement"
    _order = "id"
    _check_company_auto = True

    wallet_id = fields.Many2one(
        "subscription.wallet",
        required=True,
        index=True,
        ondelete="restrict",
        readonly=True,
    )
    company_id = fields.Many2one(related="wallet_id.company_id", store=True)
    currency_id = fields.Many2one(related="wallet_id.currency_id")
    partner_id = fields.Many2one(related="wallet_id.partner_id")
    date = fields.Date(required=True, default=fields.Date.context_today, readonly=True)
    kind = fields.Selection(KINDS, required=True, readonly=True)
    amount = fields.Monetary(
        required=True,
        readonly=True,
        help="Credit in (positive: purchase, grant, refund) or out (negative: "
        "consumption, expiry).",
    )
    invoice_id = fields.Many2one(
        "account.move",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        help="The invoice that bought the credit, or the invoice the credit paid.",
    )
    move_id = fields.Many2one(
        "account.move",
        string="Journal Entry",
        readonly=True,
        ondelete="restrict",
        help="The accounting entry that carries this movement.",
    )
    note = fields.Char(readonly=True)
    balance_after = fields.Monetary(
        compute="_compute_balance_after",
        help="The wallet's balance once this movement is counted.",
    )

    _invoice_kind_unique = models.UniqueIndex(
        "(wallet_id, invoice_id, kind) WHERE invoice_id IS NOT NULL",
        "A wallet moves credit once per invoice and kind.",
    )
    _expiry_unique = models.UniqueIndex(
        "(wallet_id) WHERE kind = 'expiry'", "A wallet expires once."
    )

    @api.depends("wallet_id", "amount")
    def _compute_balance_after(self):
        """The running sum of the wallet's rows up to each row (by id): one
        pass per wallet."""
        after = {}
        for wallet in self.wallet_id:
            total = exact_decimal(0)
            for row in wallet.transaction_ids.sorted("id"):
                total += exact_decimal(row.amount)
                after[row.id] = total
        for row in self:
            row.balance_after = float(after.get(row.id, exact_decimal(row.amount)))

    def write(self, vals):
        if vals:
            raise UserError(
                self.env._(
                    "A movement of prepaid credit is never changed: add a new one."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._("A movement of prepaid credit is never deleted: add a new one.")
        )
