# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionPlanLine(models.Model):
    _name = "subscription.plan.line"
    _inherit = ["subscription.line.mixin"]
    _description = "Subscription Plan Line"
    _order = "plan_id, sequence, id"

    plan_id = fields.Many2one(
        "subscription.plan", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    name = fields.Char(translate=True)

    def _prepare_subscription_line_vals(self):
        self.ensure_one()
        return {
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": self.name,
            "quantity": self.quantity,
            "price_unit": self.price_unit,
            "discount": self.discount,
        }
