# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionCouponWizard(models.TransientModel):
    """Apply a coupon: staff types the customer's code on a subscription."""

    _name = "subscription.coupon.wizard"
    _description = "Apply a Coupon"

    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, ondelete="cascade"
    )
    code = fields.Char(string="Coupon Code", required=True)

    def action_apply(self):
        self.ensure_one()
        self.subscription_id.apply_coupon(self.code)
        return {"type": "ir.actions.act_window_close"}
