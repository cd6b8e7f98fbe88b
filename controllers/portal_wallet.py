# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal


class WalletPortal(CustomerPortal):
    """The customer's prepaid credit in the portal: ``/my/wallets``.

    Only the wallets of the user's commercial entity are read (as superuser,
    with that domain): another customer's never show.
    """

    def _wallet_domain(self):
        partner = request.env.user.partner_id.commercial_partner_id
        return [("commercial_partner_id", "=", partner.id)]

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "wallet_count" in counters:
            values["wallet_count"] = (
                request.env["subscription.wallet"]
                .sudo()
                .search_count(self._wallet_domain())
            )
        return values

    @http.route("/my/wallets", type="http", auth="user", website=True)
    def portal_my_wallets(self, **kw):
        wallets = (
            request.env["subscription.wallet"].sudo().search(self._wallet_domain())
        )
        values = self._prepare_portal_layout_values()
        values.update({"wallets": wallets, "page_name": "wallets"})
        return request.render("subscription_billing.portal_my_wallets", values)
