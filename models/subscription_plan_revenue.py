# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

RECOGNITION_METHODS = [
    ("none", "At once (nothing deferred)"),
    ("days", "Over the service period, by days"),
    ("months", "Over the service period, by equal months"),
]


class SubscriptionPlan(models.Model):
    _inherit = "subscription.plan"

    revenue_recognition = fields.Selection(
        RECOGNITION_METHODS,
        required=True,
        default="none",
        tracking=True,
        help="How the revenue of the plan's invoices is recognised. At once: "
        "on the invoice's income account. Over the service period: the "
        "invoice puts the revenue of the months still to come on the deferred "
        "revenue account, and each month end moves that month's share to "
        "income, by days or in equal shares per whole month (partial months "
        "by their days).",
    )
