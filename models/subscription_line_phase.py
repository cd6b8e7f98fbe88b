# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The standard price of a line that starts in a price phase of its plan: the
phases price it as a percentage of it, and the last phase change brings it
back."""

from odoo import fields, models


class SubscriptionLine(models.Model):
    _inherit = "subscription.line"

    standard_price_unit = fields.Float(
        string="Standard Unit Price",
        digits="Product Price",
        readonly=True,
        help="The unit price after the plan's price phases (set when the "
        "subscription starts in a phase).",
    )
