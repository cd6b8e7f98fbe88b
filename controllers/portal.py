# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..const import RUNNING_STATES


class SubscriptionPortal(CustomerPortal):
    """The customer's subscriptions in the portal: ``/my/subscriptions``.

    Customers see the subscriptions of their commercial entity (record rule);
    a link with the access token opens one subscription. Any other id answers
    404 (unknown) or 403 (someone else's).
    """

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "subscription_count" in counters:
            Subscription = request.env["subscription.subscription"]
            values["subscription_count"] = (
                Subscription.search_count(self._subscription_domain())
                if Subscription.has_access("read")
                else 0
            )
        return values

    def _subscription_domain(self):
        return [("state", "!=", "draft")]

    def _subscription_sortings(self):
        return {
            "date": {"label": request.env._("Start Date"), "order": "date_start desc"},
            "name": {"label": request.env._("Reference"), "order": "name"},
            "next": {
                "label": request.env._("Next Invoice"),
                "order": "next_invoice_date",
            },
            "state": {"label": request.env._("Status"), "order": "state"},
        }

    def _subscription_filters(self):
        states = dict(
            request.env["subscription.subscription"]
            ._fields["state"]
            ._description_selection(request.env)
        )
        filters = {
            "all": {"label": request.env._("All"), "domain": []},
            "running": {
                "label": request.env._("Running"),
                "domain": [("state", "in", RUNNING_STATES)],
            },
        }
        for state in (*RUNNING_STATES, "closed"):
            filters[state] = {"label": states[state], "domain": [("state", "=", state)]}
        return filters

    @http.route(
        ["/my/subscriptions", "/my/subscriptions/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_subscriptions(self, page=1, sortby=None, filterby=None, **kw):
        Subscription = request.env["subscription.subscription"]
        sortings = self._subscription_sortings()
        filters = self._subscription_filters()
        sortby = sortby if sortby in sortings else "date"
        filterby = filterby if filterby in filters else "all"
        domain = self._subscription_domain() + filters[filterby]["domain"]
        count = Subscription.search_count(domain)
        pager = portal_pager(
            url="/my/subscriptions",
            url_args={"sortby": sortby, "filterby": filterby},
            total=count,
            page=page,
            step=self._items_per_page,
        )
        subscriptions = Subscription.search(
            domain,
            order=sortings[sortby]["order"],
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        request.session["my_subscriptions_history"] = subscriptions.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "subscriptions": subscriptions.sudo(),
                "page_name": "subscription",
                "pager": pager,
                "default_url": "/my/subscriptions",
                "searchbar_sortings": sortings,
                "sortby": sortby,
                "searchbar_filters": filters,
                "filterby": filterby,
            }
        )
        return request.render("subscription_billing.portal_my_subscriptions", values)

    def _subscription_check_access(self, subscription_id, access_token=None):
        """The subscription (sudo) if the user may see it; 404 or 403."""
        try:
            sub_sudo = self._document_check_access(
                "subscription.subscription", subscription_id, access_token
            )
        except MissingError as error:
            raise NotFound() from error
        except AccessError as error:
            raise Forbidden() from error
        if sub_sudo.state == "draft":
            raise NotFound()
        return sub_sudo

    @http.route(
        ["/my/subscriptions/<int:subscription_id>"],
        type="http",
        auth="public",
        website=True,
    )
    def portal_my_subscription(
        self, subscription_id, access_token=None, report_type=None, download=False, **kw
    ):
        sub_sudo = self._subscription_check_access(subscription_id, access_token)
        if report_type in ("html", "pdf", "text"):
            return self._show_report(
                model=sub_sudo,
                report_type=report_type,
                report_ref="subscription_billing.action_report_subscription_statement",
                download=download,
            )
        values = self._subscription_page_values(sub_sudo, access_token, **kw)
        return request.render("subscription_billing.portal_subscription_page", values)

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/change"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_subscription_change(
        self, subscription_id, operation=None, confirm=None, **post
    ):
        """Self-service: the first post shows the change and its amounts
        (nothing written); the confirmation applies it. Only the customer's
        own users may change a subscription (not a shared link)."""
        sub_sudo = self._subscription_check_change(subscription_id)
        params = {
            key: post.get(key)
            for key in ("line_id", "quantity", "plan_id", "plan_line_id", "reason_id")
        }
        try:
            summary = sub_sudo._portal_change(operation, params, simulate=not confirm)
        except UserError as error:
            return self._subscription_error_page(sub_sudo, str(error))
        if confirm:
            return request.redirect(f"{sub_sudo.access_url}?changed=1")
        values = self._subscription_page_values(sub_sudo, None)
        values.update(
            {
                "change": summary,
                "change_operation": operation,
                "change_params": {k: v for k, v in params.items() if v},
            }
        )
        return request.render(
            "subscription_billing.portal_subscription_change_confirm", values
        )

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/payment_method"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_subscription_payment_method(
        self, subscription_id, token_id=None, **post
    ):
        """Use one of the customer's saved methods for the automatic payment."""
        sub_sudo = self._subscription_check_change(subscription_id)
        token = sub_sudo._portal_payment_tokens().filtered(
            lambda t: str(t.id) == str(token_id)
        )
        try:
            with request.env.cr.savepoint():
                sub_sudo._portal_set_payment_token(token)
        except (UserError, ValidationError) as error:
            return self._subscription_error_page(sub_sudo, str(error))
        return request.redirect(f"{sub_sudo.access_url}?changed=1")

    def _subscription_check_change(self, subscription_id):
        """The subscription (sudo, acting as the user) if the user may change
        it: one of the customer's own users; 403 otherwise (another customer,
        the seller's staff, a shared link)."""
        sub_sudo = self._subscription_check_access(subscription_id)
        # Superuser rights, but the change is recorded as the customer's.
        sub_sudo = sub_sudo.with_user(request.env.user).sudo()
        if not sub_sudo._portal_can_change():
            raise Forbidden()
        return sub_sudo

    def _subscription_error_page(self, sub_sudo, message):
        """The subscription page with ``message``: nothing was changed."""
        values = self._subscription_page_values(sub_sudo, None)
        values["error_message"] = message
        return request.render("subscription_billing.portal_subscription_page", values)

    def _subscription_page_values(self, sub_sudo, access_token, **kw):
        invoices = sub_sudo.invoice_ids.filtered(
            lambda m: (
                m.state == "posted" and m.move_type in ("out_invoice", "out_refund")
            )
        ).sorted(lambda m: (m.invoice_date, m.id), reverse=True)
        values = {
            "subscription": sub_sudo,
            "page_name": "subscription",
            "lines": sub_sudo.line_ids.filtered("is_current"),
            "preview": sub_sudo._portal_preview(),
            "history": sub_sudo.history_ids.sorted(
                lambda h: (h.date, h.id), reverse=True
            ),
            "invoices": invoices,
            "report_type": "html",
            # Changes are for the customer's own users, not for a shared link.
            "can_change": sub_sudo.with_user(request.env.user)
            .sudo()
            ._portal_can_change(),
            "actions": sub_sudo._portal_actions(),
            "past_usage": sub_sudo.usage_charge_ids.sorted(
                lambda c: (c.usage_start, c.id), reverse=True
            )[:24],
            "payment_tokens": sub_sudo._portal_payment_tokens(),
            "options": sub_sudo._portal_available_options(),
            "close_reasons": sub_sudo._portal_close_reasons(),
            "changed": kw.get("changed"),
        }
        return self._get_page_view_values(
            sub_sudo, access_token, values, "my_subscriptions_history", False, **kw
        )
