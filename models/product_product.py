# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _get_subscription_plan_line(self, plan):
        """The line of ``plan`` that sells this product (a recurring line
        first, else a usage line; the first in the plan's order): a
        ``subscription.plan.line`` record, or an empty recordset."""
        self.ensure_one()
        lines = plan.line_ids.filtered(lambda line: line.product_id == self)
        return lines.sorted(lambda line: line.line_type == "usage")[:1]

    def _subscription_plan_lines(self):
        """The lines of active plans that sell these products (the plans'
        price list)."""
        return (
            self.env["subscription.plan.line"]
            .with_context(active_test=False)
            .search([("product_id", "in", self.ids), ("plan_id.active", "=", True)])
        )
