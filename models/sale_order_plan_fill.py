# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The plan fills an empty quotation (a salesperson's shortcut).

Choosing a plan on a quotation without product lines adds the plan's lines:
its included lines at their quantity, its options as the quotation's optional
products (Odoo 19.0: the lines of an optional section, at quantity 0, that the
customer may raise on the portal before signing). An option left at 0 is not
sold: it is not a line of the subscription.
"""

from odoo import Command, api, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    @api.onchange("subscription_plan_id")
    def _onchange_subscription_plan_id_fill_lines(self):
        plan = self.subscription_plan_id
        if (
            not plan
            or self.state not in ("draft", "sent")
            or self.subscription_id
            or self.order_line.filtered(lambda line: not line.display_type)
        ):
            return
        self.order_line = [
            Command.create(vals) for vals in self._subscription_plan_order_lines(plan)
        ]

    def _subscription_plan_order_lines(self, plan):
        """Values of the quotation lines of ``plan``'s lines: the included
        ones, then an optional section with the options at quantity 0."""
        self.ensure_one()
        plan = plan.with_context(lang=self.partner_id.lang or self.env.lang)
        sequence = max(self.order_line.mapped("sequence"), default=0)
        included = plan.line_ids.filtered(lambda line: not line.is_optional)
        options = plan.line_ids - included
        vals_list = []
        for plan_line in included:
            sequence += 1
            vals_list.append(
                self._subscription_plan_order_line(
                    plan_line, sequence, plan_line.quantity
                )
            )
        if options:
            sequence += 1
            vals_list.append(
                {
                    "display_type": "line_section",
                    "name": plan.env._("Options"),
                    "is_optional": True,
                    "sequence": sequence,
                }
            )
            for plan_line in options:
                sequence += 1
                vals_list.append(
                    self._subscription_plan_order_line(plan_line, sequence, 0.0)
                )
        return vals_list

    def _subscription_plan_order_line(self, plan_line, sequence, quantity):
        vals = {
            "product_id": plan_line.product_id.id,
            "product_uom_qty": quantity,
            "sequence": sequence,
        }
        if plan_line.name:
            vals["name"] = plan_line.name
        return vals

    # ------------------------------------------------------------------
    # Options left at 0 are not sold
    # ------------------------------------------------------------------

    def _subscription_error_message(self):
        error = super()._subscription_error_message()
        if error or self.subscription_order_kind != "new":
            return error
        recurring = self.order_line.filtered(
            lambda line: line.subscription_is_recurring and not line.display_type
        )
        if recurring and not any(line.product_uom_qty for line in recurring):
            return self.env._(
                "%(order)s sells nothing of its plan %(plan)s: every line of the "
                "plan is at quantity 0. Set the quantity of at least one of "
                "%(products)s.",
                order=self.display_name,
                plan=self.subscription_plan_id.display_name,
                products=", ".join(recurring.product_id.mapped("display_name")),
            )
        return False

    def _prepare_subscription_vals(self):
        vals = super()._prepare_subscription_vals()
        vals["line_ids"] = [
            command for command in vals["line_ids"] if command[2].get("quantity")
        ]
        return vals
