# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

from odoo import api, fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    subscription_plan_line_id = fields.Many2one(
        "subscription.plan.line",
        string="Plan Line",
        compute="_compute_subscription_plan_line_id",
        store=True,
        precompute=True,
        help="The line of the quotation's plan that prices this product: the "
        "line is recurring, billed every period.",
    )
    subscription_is_recurring = fields.Boolean(
        string="Recurring",
        compute="_compute_subscription_plan_line_id",
        store=True,
        precompute=True,
    )
    subscription_recurrence = fields.Char(
        string="Billed",
        compute="_compute_subscription_recurrence",
        help="Recurring lines are billed every period of the plan, the others "
        "once, on the first invoice.",
    )
    subscription_line_id = fields.Many2one(
        "subscription.line",
        copy=False,
        readonly=True,
        index="btree_not_null",
    )

    @api.depends("order_id.subscription_plan_id", "product_id", "display_type")
    def _compute_subscription_plan_line_id(self):
        for line in self:
            plan = line.order_id.subscription_plan_id
            plan_line = self.env["subscription.plan.line"]
            if plan and line.product_id and not line.display_type:
                plan_line = line.product_id._get_subscription_plan_line(plan)
            line.subscription_plan_line_id = plan_line
            line.subscription_is_recurring = bool(plan_line)

    @api.depends("subscription_is_recurring", "order_id.subscription_plan_id")
    def _compute_subscription_recurrence(self):
        for line in self:
            if line.display_type or not line.order_id.subscription_plan_id:
                line.subscription_recurrence = False
            elif line.subscription_plan_line_id.line_type == "usage":
                line.subscription_recurrence = self.env._("Per use")
            elif line.subscription_is_recurring:
                line.subscription_recurrence = (
                    line.order_id.subscription_plan_id.billing_period_label
                )
            else:
                line.subscription_recurrence = self.env._("Once")

    @api.depends("subscription_plan_line_id")
    def _compute_analytic_distribution(self):
        """A recurring line without a distribution model's takes its plan
        line's distribution (or the plan's default)."""
        result = super()._compute_analytic_distribution()
        for line in self:
            plan_line = line.subscription_plan_line_id
            if plan_line and not line.display_type and not line.analytic_distribution:
                line.analytic_distribution = (
                    plan_line._subscription_analytic_distribution()
                )
        return result

    @api.depends("subscription_plan_line_id")
    def _compute_price_unit(self):
        return super()._compute_price_unit()

    def _get_display_price(self):
        """A recurring line is priced by its plan line (the plan is the price
        list), through the order's pricelist; usage is priced per use."""
        plan_line = self.subscription_plan_line_id
        if not plan_line:
            return super()._get_display_price()
        if plan_line.line_type == "usage":
            return 0.0
        return plan_line._get_pricelist_price(
            self.order_id.pricelist_id,
            self.product_uom_qty or 1.0,
            self.order_id.date_order,
            currency=self.currency_id,
        )

    @api.depends("subscription_plan_line_id")
    def _compute_qty_to_invoice(self):
        result = super()._compute_qty_to_invoice()
        for line in self:
            if line.subscription_plan_line_id.line_type == "usage":
                line.qty_to_invoice = 0.0
        return result

    def _prepare_subscription_line_vals(self):
        """Values of the subscription line this recurring order line becomes:
        the plan line's terms (usage pricing, tiers), the order's product,
        description, quantity and price."""
        self.ensure_one()
        vals = self.subscription_plan_line_id._prepare_subscription_line_vals()
        vals.update(
            {
                "sequence": self.sequence,
                "product_id": self.product_id.id,
                "name": self.name,
                "quantity": self.product_uom_qty,
                "price_unit": self.price_unit,
                "discount": self.discount,
                "sale_line_id": self.id,
                # The quotation's distribution, as the customer was sold it.
                "analytic_distribution": self.analytic_distribution or False,
            }
        )
        return vals
