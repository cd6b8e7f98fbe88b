# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The customer's order page links the subscription the order created, changes
or renews, for whoever may open the subscription's own page."""

from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _portal_subscription(self, user):
        """The order's subscription (sudo) if ``user`` (the visitor: the
        portal renders the order as superuser) may open its portal page: the
        customer's own users, staff with read access. Empty otherwise: on a
        shared link of the order, for another customer."""
        self.ensure_one()
        sub = self.sudo().subscription_id
        if not sub or sub.state == "draft" or not user:
            return self.env["subscription.subscription"]
        if not sub.with_user(user).has_access("read"):
            return self.env["subscription.subscription"]
        return sub
