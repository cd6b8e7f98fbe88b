# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import math

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import check_number_values, format_quantity

TIER_VALUES = ("from_units", "to_units", "unit_price", "rate", "flat_fee")


class SubscriptionPricingTier(models.Model):
    """One tier of a usage line's price (graduated, volume, percentages)."""

    _name = "subscription.pricing.tier"
    _description = "Usage Pricing Tier"
    _order = "sequence, from_units, id"

    sequence = fields.Integer(default=10)
    plan_line_id = fields.Many2one(
        "subscription.plan.line", index="btree_not_null", ondelete="cascade"
    )
    subscription_line_id = fields.Many2one(
        "subscription.line", index="btree_not_null", ondelete="cascade"
    )
    from_units = fields.Float(string="From", digits=(20, 6), required=True, default=0.0)
    to_units = fields.Float(
        string="Up To",
        digits=(20, 6),
        help="Upper bound of the tier; leave 0 on the last tier: no upper bound.",
    )
    unit_price = fields.Float(
        digits=(20, 8),
        min_display_digits=2,
        help="Price of each unit in the tier (graduated and volume).",
    )
    rate = fields.Float(
        string="Rate (%)", digits=(12, 6), help="Percentage (graduated percentage)."
    )
    flat_fee = fields.Float(
        digits=(20, 8),
        min_display_digits=2,
        help="Charged once when the tier is reached.",
    )
    range_display = fields.Char(
        string="Units",
        compute="_compute_range_display",
        help="The units the tier prices, with the metric's precision.",
    )

    _one_owner = models.Constraint(
        "CHECK((plan_line_id IS NULL) != (subscription_line_id IS NULL))",
        "A pricing tier belongs to one plan line or one subscription line.",
    )

    @api.depends(
        "from_units",
        "to_units",
        "plan_line_id.metric_id.quantity_decimals",
        "subscription_line_id.metric_id.quantity_decimals",
    )
    def _compute_range_display(self):
        for tier in self:
            metric = (tier.plan_line_id or tier.subscription_line_id).metric_id
            decimals = metric.quantity_decimals if metric else None
            start = format_quantity(self.env, tier.from_units, decimals)
            if tier.to_units:
                tier.range_display = self.env._(
                    "%(from)s to %(to)s",
                    **{
                        "from": start,
                        "to": format_quantity(self.env, tier.to_units, decimals),
                    },
                )
            else:
                tier.range_display = self.env._("%(from)s and above", **{"from": start})

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_number_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_number_values(self, vals)
        return super().write(vals)

    @api.constrains(*TIER_VALUES, "plan_line_id", "subscription_line_id")
    def _check_tier(self):
        """A tier written on its own is checked with its line's whole price
        list (tiers in order, no overlap), as when the line is saved."""
        for tier in self:
            for name in TIER_VALUES:
                if not math.isfinite(tier[name] or 0.0) or (tier[name] or 0.0) < 0:
                    raise ValidationError(
                        self.env._(
                            "Pricing tier: %(field)s must be a positive number "
                            "(got %(value)s).",
                            field=tier._fields[name]._description_string(self.env),
                            value=tier[name],
                        )
                    )
        self.plan_line_id._check_usage_pricing()
        self.subscription_line_id._check_usage_pricing()

    def _prepare_copy_vals(self):
        return [
            {
                "sequence": tier.sequence,
                "from_units": tier.from_units,
                "to_units": tier.to_units,
                "unit_price": tier.unit_price,
                "rate": tier.rate,
                "flat_fee": tier.flat_fee,
            }
            for tier in self
        ]
