# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from decimal import Decimal

from odoo import models


class SubscriptionChange(models.Model):
    _inherit = "subscription.change"

    def _mrr_of_effect(self, day, ended, created, plan):
        """The MRR before and after a change, less the discounts running on
        its day (so its history entry moves from the discounted MRR)."""
        before, after = super()._mrr_of_effect(day, ended, created, plan)
        sub = self.subscription_id
        if not sub.sudo().discount_ids:
            return before, after
        current = sub._lines_on(day)
        after_items = (current - ended)._discount_items() + [
            (
                vals.get("product_id"),
                vals.get("quantity", 1.0),
                vals.get("price_unit", 0.0),
                vals.get("discount", 0.0),
            )
            for vals in created
            if vals.get("line_type", "fixed") == "fixed"
        ]
        zero = Decimal(0)
        return (
            max(before - sub._discount_mrr(day, current._discount_items()), zero),
            max(after - sub._discount_mrr(day, after_items, plan), zero),
        )
