# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _compute_subscription_plan_line_id(self):
        """A one-time line of the plan (a setup fee) is sold once: priced by
        its plan line, billed on the first invoice as the order's other
        one-time lines, not a recurring line of the subscription."""
        result = super()._compute_subscription_plan_line_id()
        for line in self:
            if line.subscription_plan_line_id.line_type == "one_time":
                line.subscription_is_recurring = False
        return result
