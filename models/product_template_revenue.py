# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from .subscription_plan_revenue import RECOGNITION_METHODS


class ProductTemplate(models.Model):
    _inherit = "product.template"

    subscription_revenue_recognition = fields.Selection(
        RECOGNITION_METHODS,
        string="Revenue Recognition",
        help="Overrides the plan's revenue recognition for this product's "
        "subscription invoice lines. Empty: the plan's.",
    )
