# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A quotation template with a plan: choosing it sets the quotation's plan.

The template's lines fill the quotation (sale_management's onchange), its plan
prices the recurring ones: the lines' plan line follows the order's plan.
"""

from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    subscription_plan_id = fields.Many2one(
        compute="_compute_subscription_plan_id",
        store=True,
        readonly=False,
        precompute=True,
    )

    @api.depends("sale_order_template_id")
    def _compute_subscription_plan_id(self):
        """The template's plan, on quotations that do not change a
        subscription yet; a template without a plan keeps the order's."""
        for order in self:
            plan = order.sale_order_template_id.subscription_plan_id
            if plan and order.state in ("draft", "sent") and not order.subscription_id:
                order.subscription_plan_id = plan
