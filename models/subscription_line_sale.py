# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

from odoo import Command, fields, models


class SubscriptionLine(models.Model):
    _inherit = "subscription.line"

    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Order Line",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The quotation line this subscription line was sold on: the first "
        "invoice of the line invoices it.",
    )

    def _prepare_invoice_line_vals(self, period):
        """The first invoice of a line sold on an order also invoices the
        order's line (the order and the subscription share that invoice)."""
        vals = super()._prepare_invoice_line_vals(period)
        sale_line = self.sale_line_id.sudo()
        if (
            vals
            and sale_line
            and not sale_line.invoice_lines.filtered(
                lambda aml: aml.move_id.state != "cancel"
            )
        ):
            vals["sale_line_ids"] = [Command.link(sale_line.id)]
        return vals
