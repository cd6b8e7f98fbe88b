# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal


class WalletPortal(CustomerPortal):
    """The customer's prepaid credit in the portal: ``/my/wallets``.

    Wallets are read as superuser, only those of the user's commercial
    entity: any other id answers 404. Top Up creates an invoice of credit and
    opens its portal page, where the customer pays it.
    """

    def _wallet_domain(self):
        partner = request.env.user.partner_id.commercial_partner_id
        return [("partner_id", "=", partner.id)]

    def _wallet_get(self, wallet_id):
        """The user's wallet ``wallet_id`` (as superuser), or 404."""
        wallet = (
            request.env["subscription.wallet"]
            .sudo()
            .search([("id", "=", int(wallet_id)), *self._wallet_domain()], limit=1)
        )
        if not wallet:
            raise NotFound()
        return wallet

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "wallet_count" in counters:
            values["wallet_count"] = (
                request.env["subscription.wallet"]
                .sudo()
                .search_count(self._wallet_domain())
            )
        return values

    def _wallet_page_values(self, wallets, error=None):
        values = self._prepare_portal_layout_values()
        values.update({"wallets": wallets, "page_name": "wallets", "error": error})
        return values

    @http.route("/my/wallets", type="http", auth="user", website=True)
    def portal_my_wallets(self, **kw):
        wallets = (
            request.env["subscription.wallet"].sudo().search(self._wallet_domain())
        )
        return request.render(
            "subscription_billing.portal_my_wallets", self._wallet_page_values(wallets)
        )

    @http.route("/my/wallets/<int:wallet_id>", type="http", auth="user", website=True)
    def portal_my_wallet(self, wallet_id, **kw):
        wallet = self._wallet_get(wallet_id)
        return request.render(
            "subscription_billing.portal_my_wallets", self._wallet_page_values(wallet)
        )

    @http.route(
        "/my/wallets/<int:wallet_id>/top_up",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_wallet_top_up(self, wallet_id, amount=None, **kw):
        wallet = self._wallet_get(wallet_id)
        try:
            invoice = wallet._create_topup_invoice(
                amount, partner=request.env.user.partner_id
            )
        except UserError as error:
            return request.render(
                "subscription_billing.portal_my_wallets",
                self._wallet_page_values(wallet, error=str(error)),
            )
        return request.redirect(invoice.get_portal_url())
