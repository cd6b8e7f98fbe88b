# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The subscription's portal page lists the customer's orders that created,
changed or renewed it."""

from odoo import models


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    def _portal_sale_orders(self, user):
        """The subscription's quotations sent and orders confirmed, of its
        customer, that ``user`` (the visitor: the portal renders the page as
        superuser) may open (sudo, newest first)."""
        self.ensure_one()
        orders = self.sudo().sale_order_ids.filtered(
            lambda order: (
                order.state in ("sent", "sale")
                and order.partner_id.commercial_partner_id
                == self.sudo().commercial_partner_id
            )
        )
        if not user:
            return orders.browse()
        visible = orders.with_user(user)._filtered_access("read")
        return visible.sudo().sorted(
            lambda order: (order.date_order, order.id), reverse=True
        )
