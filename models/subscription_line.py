# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionLine(models.Model):
    _name = "subscription.line"
    _inherit = ["subscription.line.mixin"]
    _description = "Subscription Line"
    _order = "subscription_id, sequence, id"

    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    currency_id = fields.Many2one(related="subscription_id.currency_id")
