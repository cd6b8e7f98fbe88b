# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from .portal import SubscriptionPortal


class SubscriptionDiscountPortal(SubscriptionPortal):
    @http.route(
        ["/my/subscriptions/<int:subscription_id>/coupon"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_subscription_coupon(self, subscription_id, code=None, **post):
        """Redeem a coupon code on the customer's own subscription (403 for
        anyone else); a refused code shows its reason on the page."""
        sub_sudo = self._subscription_check_change(subscription_id)
        try:
            with request.env.cr.savepoint():
                sub_sudo._redeem_coupon(sub_sudo._clean_coupon_code(code))
        except (UserError, ValidationError) as error:
            return self._subscription_error_page(sub_sudo, str(error))
        return request.redirect(f"{sub_sudo.access_url}?changed=1")
