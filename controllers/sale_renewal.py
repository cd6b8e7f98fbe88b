# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import http
from odoo.http import request

from odoo.addons.sale.controllers.portal import CustomerPortal

from ..models.sale_order_renewal import RENEWAL_DECLINE_KEY


class SaleRenewalPortal(CustomerPortal):
    @http.route()
    def portal_quote_decline(
        self, order_id, access_token=None, decline_message=None, **kwargs
    ):
        """The customer rejects a quotation: for a renewal quotation, the
        subscription ends with its term."""
        request.update_context(**{RENEWAL_DECLINE_KEY: True})
        return super().portal_quote_decline(
            order_id,
            access_token=access_token,
            decline_message=decline_message,
            **kwargs,
        )
