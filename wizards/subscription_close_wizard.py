# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionCloseWizard(models.TransientModel):
    _name = "subscription.close.wizard"
    _description = "Close Subscriptions"

    subscription_ids = fields.Many2many(
        "subscription.subscription",
        default=lambda self: self.env.context.get("active_ids"),
    )
    close_reason_id = fields.Many2one("subscription.close.reason", required=True)
    date_end = fields.Date(
        string="Last Day of Service",
        required=True,
        default=fields.Date.context_today,
    )

    def action_close(self):
        self.ensure_one()
        self.subscription_ids._action_close(self.date_end, self.close_reason_id)
        return {"type": "ir.actions.act_window_close"}
