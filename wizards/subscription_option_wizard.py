# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class SubscriptionOptionWizard(models.TransientModel):
    """Add a paid option of the plan (or more seats of it) to a subscription."""

    _name = "subscription.option.wizard"
    _description = "Add an Option to a Subscription"

    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, readonly=True
    )
    plan_id = fields.Many2one(related="subscription_id.plan_id")
    plan_line_id = fields.Many2one(
        "subscription.plan.line",
        string="Option",
        required=True,
        domain="[('plan_id', '=', plan_id), ('is_optional', '=', True)]",
    )
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)

    @api.onchange("plan_line_id")
    def _onchange_plan_line_id(self):
        if self.plan_line_id:
            self.quantity = self.plan_line_id.quantity

    def action_add(self):
        self.ensure_one()
        sub = self.subscription_id
        if sub.state == "closed":
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is closed: options cannot be added.",
                    sub=sub.display_name,
                )
            )
        if self.quantity <= 0:
            raise UserError(self.env._("The quantity of an option must be positive."))
        if (
            self.plan_line_id.plan_id != sub.plan_id
            or not self.plan_line_id.is_optional
        ):
            raise UserError(
                self.env._(
                    "%(option)s is not an option of the plan %(plan)s.",
                    option=self.plan_line_id.display_name,
                    plan=sub.plan_id.display_name,
                )
            )
        existing = sub.line_ids.filtered(
            lambda line: (
                line.plan_line_id == self.plan_line_id and line.line_type == "fixed"
            )
        )
        if existing:
            existing[:1].quantity += self.quantity
        else:
            vals = self.plan_line_id._prepare_subscription_line_vals()
            vals["quantity"] = self.quantity
            sub.line_ids = [Command.create(vals)]
        sub.message_post(
            body=self.env._(
                "Option added: %(quantity)s × %(option)s.",
                quantity=self.quantity,
                option=self.plan_line_id.name,
            )
        )
        return {"type": "ir.actions.act_window_close"}
