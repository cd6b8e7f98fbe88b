# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    plan_id = fields.Many2one(
        "subscription.plan",
        string="Subscription Plan",
        index="btree_not_null",
        ondelete="cascade",
        check_company=True,
        help="The rule prices the lines of this plan only (subscriptions and "
        "quotations of the plan), before the rules without a plan; ordinary "
        "sales of the product ignore it. Based on the sales price, it starts "
        "from the plan's price of the product. Without a rule for the plan, "
        "the plan's price applies, converted at the day's rate when the "
        "pricelist's currency is not the plan's. Empty: a rule for every "
        "sale, as usual.",
    )

    def _compute_base_price(self, product, quantity, uom, date, currency, **kwargs):
        """On a plan line (``subscription_plan_line`` in ``kwargs``), the sales
        price is the plan line's price, in the plan's currency, converted."""
        plan_line = kwargs.get("subscription_plan_line")
        template = (
            product if product._name == "product.template" else product.product_tmpl_id
        )
        if (
            not plan_line
            or (self.base or "list_price") != "list_price"
            or template != plan_line.product_id.product_tmpl_id
        ):
            return super()._compute_base_price(
                product, quantity, uom, date, currency, **kwargs
            )
        currency.ensure_one()
        price = plan_line.price_unit
        if uom and uom != product.uom_id:
            price = product.uom_id._compute_price(price, uom)
        source = plan_line.currency_id
        if source != currency:
            price = source._convert(
                price,
                currency,
                plan_line.company_id or self.env.company,
                date or fields.Date.context_today(self),
                round=False,
            )
        return price
