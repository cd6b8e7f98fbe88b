# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .subscription_line_mixin import PRICING_FIELDS


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
    plan_line_id = fields.Many2one(
        "subscription.plan.line", string="From Plan Line", ondelete="set null"
    )
    tier_ids = fields.One2many(
        "subscription.pricing.tier", "subscription_line_id", string="Tiers", copy=True
    )
    usage_charge_ids = fields.One2many(
        "subscription.usage.charge", "subscription_line_id", string="Rated Usage"
    )

    @api.constrains(*PRICING_FIELDS, "tier_ids", "subscription_id")
    def _check_pricing(self):
        self._check_usage_pricing()
        usage_lines = self.subscription_id.line_ids.filtered(
            lambda line: line.line_type == "usage"
        )
        for sub in self.subscription_id:
            metrics = usage_lines.filtered(
                lambda line, s=sub: line.subscription_id == s
            )
            codes = metrics.metric_id.mapped("code")
            if len(codes) != len(metrics):
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s rates each metric on one usage line "
                        "only: merge the lines of the same metric.",
                        sub=sub.display_name,
                    )
                )

    def write(self, vals):
        if set(vals) & {"line_type", "metric_id"} and self.usage_charge_ids:
            raise ValidationError(
                self.env._(
                    "A usage line that billed usage keeps its metric: add a new line "
                    "instead."
                )
            )
        return super().write(vals)
