# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class SubscriptionPlanLine(models.Model):
    _inherit = "subscription.plan.line"

    def _prepare_subscription_line_vals(self, subscription=None, date=None):
        vals = super()._prepare_subscription_line_vals(subscription, date)
        vals["charge_timing"] = self.charge_timing
        return vals
