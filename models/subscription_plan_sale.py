# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The plan's quotations and orders, from the plan's form."""

from odoo import fields, models


class SubscriptionPlan(models.Model):
    _inherit = "subscription.plan"

    sale_order_count = fields.Integer(
        string="Quotations",
        compute="_compute_sale_order_count",
        groups="sales_team.group_sale_salesman",
    )

    def _compute_sale_order_count(self):
        counts = dict(
            self.env["sale.order"]._read_group(
                [("subscription_plan_id", "in", self.ids)],
                ["subscription_plan_id"],
                ["__count"],
            )
        )
        for plan in self:
            plan.sale_order_count = counts.get(plan, 0)

    def action_view_sale_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sale.action_quotations_with_onboarding"
        )
        action["domain"] = [("subscription_plan_id", "=", self.id)]
        action["context"] = {"default_subscription_plan_id": self.id}
        return action
