# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class SubscriptionLine(models.Model):
    _inherit = "subscription.line"

    def _discount_items(self):
        """``(product id, quantity, unit price, discount)`` of the recurring
        lines: what a subscription discount takes its share of."""
        return [
            (line.product_id.id, line.quantity, line.price_unit, line.discount)
            for line in self
            if line.line_type == "fixed"
        ]
