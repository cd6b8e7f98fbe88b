# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A subscription quotation paid online is paid in full.

A partial prepayment would be invoiced as a down payment, which cannot be
deducted from the subscription's first invoice (the first period's, issued by
the billing engine): when a subscription quotation requires an online payment,
the payment is its full amount. The percentage follows (100 % as soon as the
quotation has a plan), and a lower one typed in is refused.
"""

from odoo import api, models
from odoo.exceptions import ValidationError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    @api.depends("subscription_plan_id")
    def _compute_prepayment_percent(self):
        result = super()._compute_prepayment_percent()
        for order in self:
            if order.subscription_plan_id and order.subscription_order_kind == "new":
                order.prepayment_percent = 1.0
        return result

    @api.constrains("prepayment_percent", "require_payment", "subscription_plan_id")
    def _check_subscription_prepayment(self):
        for order in self:
            if (
                order.require_payment
                and order.subscription_plan_id
                and order.subscription_order_kind == "new"
                and order.prepayment_percent < 1.0
            ):
                raise ValidationError(
                    self.env._(
                        "%(order)s sells a subscription: its online payment is the "
                        "full amount (its first invoice, the first period and the "
                        "one-time lines), not a prepayment of %(percent)s %%. Set "
                        "the prepayment to 100 %%, or do not require an online "
                        "payment.",
                        order=order.display_name,
                        percent=round(order.prepayment_percent * 100, 2),
                    )
                )
