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
    billing_period_label = fields.Char(related="plan_id.billing_period_label")
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

    def _get_pricelist_price(self, pricelist, quantity, date, currency=None):
        """The unit price of this line's product on its plan with
        ``pricelist``, for ``quantity`` on ``date``: a float in ``currency``
        (default: the pricelist's).

        The pricelist's rules for the plan apply first, then its other rules;
        a rule based on the sales price starts from this line's price (not
        the product's). Without a pricelist, this line's price, converted
        when ``currency`` is not the plan's.
        """
        self.ensure_one()
        date = date or fields.Date.context_today(self)
        target = currency or pricelist.currency_id or self.currency_id
        if pricelist:
            source = pricelist.currency_id
            price = pricelist._get_product_price(
                self.product_id,
                quantity or 1.0,
                currency=source,
                date=date,
                subscription_plan=self.plan_id,
                subscription_plan_line=self,
            )
        else:
            source = self.currency_id
            price = self.price_unit
        if source != target:
            price = source._convert(
                price, target, self.company_id or self.env.company, date
            )
        return price

    def _subscription_analytic_distribution(self):
        """The distribution of the subscription lines made from this line:
        its own, or its plan's default."""
        self.ensure_one()
        return self.analytic_distribution or self.plan_id.analytic_distribution or False

    def _prepare_subscription_line_vals(self, subscription=None, date=None):
        """Values of a subscription line from this plan line; for
        ``subscription``, a recurring line is priced by its pricelist in its
        currency on ``date`` (default: its start)."""
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
            "analytic_distribution": self._subscription_analytic_distribution(),
            "tier_ids": [
                Command.create(tier_vals)
                for tier_vals in self.tier_ids._prepare_copy_vals()
            ],
        }
        for name in PRICING_FIELDS:
            vals[name] = self[name].id if name == "metric_id" else self[name]
        if subscription and self.line_type == "fixed":
            vals["price_unit"] = self._get_pricelist_price(
                subscription.pricelist_id,
                self.quantity,
                date or subscription.date_start,
                subscription.currency_id,
            )
        return vals
