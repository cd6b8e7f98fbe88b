# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, api, fields, models

from .subscription_line_mixin import PRICING_FIELDS


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
    tier_ids = fields.One2many(
        "subscription.pricing.tier", "plan_line_id", string="Tiers", copy=True
    )
    is_optional = fields.Boolean(
        string="Optional",
        help="A paid option or add-on: not on new subscriptions by default; "
        "staff add it to a subscription with Add an Option.",
    )

    min_quantity = fields.Float(
        digits="Product Unit",
        help="The smallest quantity a change may set (customers and staff).",
    )
    max_quantity = fields.Float(
        digits="Product Unit",
        help="The largest quantity a change may set; 0: no maximum.",
    )

    _quantity_bounds = models.Constraint(
        "CHECK(min_quantity >= 0 AND max_quantity >= 0 AND "
        "(max_quantity = 0 OR max_quantity >= min_quantity))",
        "The quantity bounds of a plan line must be positive, the maximum "
        "(when set) at least the minimum.",
    )

    @api.constrains(*PRICING_FIELDS, "tier_ids")
    def _check_pricing(self):
        self._check_usage_pricing()

    def _prepare_subscription_line_vals(self):
        self.ensure_one()
        vals = {
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": self.name,
            "quantity": self.quantity,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "plan_line_id": self.id,
            "seats_metric_id": self.seats_metric_id.id,
            "tier_ids": [
                Command.create(tier_vals)
                for tier_vals in self.tier_ids._prepare_copy_vals()
            ],
        }
        for name in PRICING_FIELDS:
            vals[name] = self[name].id if name == "metric_id" else self[name]
        return vals
