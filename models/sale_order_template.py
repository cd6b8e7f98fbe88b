# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SaleOrderTemplate(models.Model):
    _inherit = "sale.order.template"

    subscription_plan_id = fields.Many2one(
        "subscription.plan",
        check_company=True,
        index="btree_not_null",
        help="Quotations made from this template sell a subscription on this "
        "plan: choosing the template sets the plan of the quotation.",
    )
