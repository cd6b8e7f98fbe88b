# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

from odoo import api, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    @api.depends("order_id.subscription_renewal_end")
    def _compute_qty_to_invoice(self):
        """A renewal quotation's lines are never to invoice: the billing run
        bills the new term, whose first invoice also invoices them."""
        result = super()._compute_qty_to_invoice()
        for line in self:
            if line.order_id.subscription_renewal_end:
                line.qty_to_invoice = 0.0
        return result

    def _get_display_price(self):
        """A renewal quotation's line is priced by the line it renews, with
        the plan's indexation (a new quantity keeps the renewal price)."""
        sub_line = self.subscription_line_id.sudo()
        if self.order_id.subscription_renewal_end and sub_line.line_type == "fixed":
            return sub_line.subscription_id._renewal_price(sub_line)
        return super()._get_display_price()
