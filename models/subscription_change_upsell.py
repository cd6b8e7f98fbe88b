# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A change applied by an upsell order's line: the invoice line that bills
its prorated amount invoices the order's line, and an upsell's changes are
invoiced together, on one invoice (``sale_order_upsell.py``)."""

from odoo import Command, fields, models

from .sale_order_upsell import UPSELL_DEFERS_PRORATION


class SubscriptionChange(models.Model):
    _inherit = "subscription.change"

    sale_line_ids = fields.One2many(
        "sale.order.line",
        "subscription_change_id",
        string="Upsell Order Line",
        readonly=True,
    )

    def _invoice_proration(self, policy):
        if self.env.context.get(UPSELL_DEFERS_PRORATION):
            return  # the upsell order invoices all its changes at once
        return super()._invoice_proration(policy)

    def _move_line_vals(self, line, sign=1):
        """The first invoice line of an upsell's change invoices the order's
        line (its quantity: the units added)."""
        vals = super()._move_line_vals(line, sign)
        sale_line = self.sudo().sale_line_ids[:1]
        if sale_line and self.proration_lines and line == self.proration_lines[0]:
            vals["sale_line_ids"] = [Command.link(sale_line.id)]
        return vals
