# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The sales side of a subscription: the orders that created, changed or
renewed it, and their one-time lines, billed once on its next invoice."""

from odoo import api, fields, models


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    sale_order_ids = fields.One2many(
        "sale.order",
        "subscription_id",
        string="Sales Orders",
        readonly=True,
        groups="sales_team.group_sale_salesman",
    )
    sale_order_count = fields.Integer(
        compute="_compute_sale_order_count", groups="sales_team.group_sale_salesman"
    )

    @api.depends("sale_order_ids")
    def _compute_sale_order_count(self):
        counts = dict(
            self.env["sale.order"]._read_group(
                [("subscription_id", "in", self.ids)],
                ["subscription_id"],
                ["__count"],
            )
        )
        for sub in self:
            sub.sale_order_count = counts.get(sub, 0)

    def action_view_sale_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        orders = self.sale_order_ids
        action["domain"] = [("id", "in", orders.ids)]
        action["context"] = {"create": False}
        if len(orders) == 1:
            action.update(
                {"views": [(False, "form")], "view_mode": "form", "res_id": orders.id}
            )
        return action

    # ------------------------------------------------------------------
    # Billing
    # ------------------------------------------------------------------

    def _sale_lines_to_bill(self):
        """One-time lines of the confirmed orders of these subscriptions that
        no invoice holds yet."""
        return (
            self.env["sale.order.line"]
            .sudo()
            .search(
                [
                    ("order_id.subscription_id", "in", self.ids),
                    ("order_id.state", "=", "sale"),
                    ("order_id.subscription_order_kind", "=", "new"),
                    ("subscription_is_recurring", "=", False),
                    ("is_downpayment", "=", False),
                    ("display_type", "=", False),
                    ("qty_to_invoice", "!=", 0),
                ],
                order="order_id, sequence, id",
            )
        )

    def _add_pending_changes(self, groups):
        """The orders' one-time lines go on each subscription's first invoice
        of this run, with their order's taxes, analytics and link."""
        result = super()._add_pending_changes(groups)
        lines = self._sale_lines_to_bill()
        if not lines:
            return result
        first_group = {}
        for group in sorted(groups, key=lambda g: g.invoice_date):
            for sub in group.subscriptions:
                first_group.setdefault(sub, group)
        for line in lines:
            sub = line.order_id.subscription_id
            group = first_group.get(sub)
            if group is None:
                continue
            vals = line.with_context(
                lang=sub.partner_invoice_id.lang
            )._prepare_invoice_line(sequence=line.sequence)
            vals["subscription_id"] = sub.id
            group.add_lines([vals])
        return result
