# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class SubscriptionLineMixin(models.AbstractModel):
    """What plan lines and subscription lines share: a priced product."""

    _name = "subscription.line.mixin"
    _description = "Recurring Line (shared fields)"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    # Overridden as related fields by each concrete line model.
    company_id = fields.Many2one("res.company")
    currency_id = fields.Many2one("res.currency")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        domain="[('sale_ok', '=', True)]",
    )
    name = fields.Char(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    price_unit = fields.Monetary(
        string="Unit Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
        help="Price of one unit for one whole billing period.",
    )
    discount = fields.Float(string="Discount (%)", digits="Discount", default=0.0)
    price_subtotal = fields.Monetary(
        string="Amount per Period", compute="_compute_price_subtotal"
    )

    _quantity_positive = models.Constraint(
        "CHECK(quantity >= 0)", "The quantity of a recurring line cannot be negative."
    )
    _discount_range = models.Constraint(
        "CHECK(discount >= 0 AND discount <= 100)",
        "A discount is a percentage between 0 and 100.",
    )

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id:
                line.name = line.product_id.display_name

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            if line.product_id:
                line.price_unit = line.product_id.currency_id._convert(
                    line.product_id.lst_price,
                    line.currency_id or line.product_id.currency_id,
                    line.company_id or self.env.company,
                    fields.Date.context_today(line),
                )

    @api.depends("quantity", "price_unit", "discount", "currency_id")
    def _compute_price_subtotal(self):
        for line in self:
            amount = line.quantity * line.price_unit * (1 - line.discount / 100.0)
            line.price_subtotal = (
                line.currency_id.round(amount) if line.currency_id else amount
            )
