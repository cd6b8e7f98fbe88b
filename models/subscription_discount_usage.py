# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionDiscountUsage(models.Model):
    """One invoice that applied a discount, for one service period: a retry
    never applies it twice, and "N periods" counts these rows."""

    _name = "subscription.discount.usage"
    _description = "Subscription Discount Usage"
    _order = "period_start, id"

    discount_id = fields.Many2one(
        "subscription.discount", required=True, index=True, ondelete="cascade"
    )
    subscription_id = fields.Many2one(related="discount_id.subscription_id")
    currency_id = fields.Many2one(related="discount_id.currency_id")
    period_start = fields.Date(required=True, readonly=True)
    move_line_id = fields.Many2one(
        "account.move.line", string="Invoice Line", readonly=True, ondelete="set null"
    )
    move_id = fields.Many2one(related="move_line_id.move_id", string="Invoice")
    amount = fields.Monetary(readonly=True, help="What the invoice took off.")

    _period_unique = models.Constraint(
        "unique(discount_id, period_start)",
        "A discount applies once to a billing period.",
    )
