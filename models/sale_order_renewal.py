# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Renewal quotations: the quotation of a fixed term's next term.

Created by the billing run (``subscription_subscription_renewal``), one per
subscription and term: ``subscription_renewal_end`` is the end of the term
it renews, unique with the subscription, so a retried run or a second worker
cannot create a second one.

- Confirmed (the salesperson, the customer signing in the portal): the new
  term takes its lines and prices from its first day.
- Declined (the customer in the portal, with a reason; the salesperson's
  *Declined* button): the subscription ends with its term.
- Cancelled, or expired (valid until the term's last day): nothing changes.

A renewal quotation bills nothing by itself: the billing run invoices the
new term, whose first invoice also invoices the quotation's lines (linked
like a new subscription's first invoice); its lines are never *to invoice*.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..core.periods import ONE_DAY
from ..tools import format_day

# Context key: the cancellation of a renewal quotation is the customer's
# refusal (the portal's decline, the salesperson's Declined button).
RENEWAL_DECLINE_KEY = "subscription_renewal_decline"


class SaleOrder(models.Model):
    _inherit = "sale.order"

    subscription_renewal_end = fields.Date(
        string="Renews the Term Ending",
        readonly=True,
        copy=False,
        help="Renewal quotation: the last day of the term it renews; the new "
        "term starts the day after, on the quotation's prices once accepted.",
    )
    subscription_renewal_declined = fields.Boolean(
        string="Renewal Declined",
        readonly=True,
        copy=False,
        help="The customer declined this renewal: the subscription ends with its term.",
    )

    _subscription_renewal_unique = models.UniqueIndex(
        "(subscription_id, subscription_renewal_end) "
        "WHERE subscription_renewal_end IS NOT NULL",
        "A subscription has one renewal quotation per term.",
    )

    @api.depends("subscription_renewal_end")
    def _compute_subscription_order_kind(self):
        """A renewal stays one: the form's onchange recomputes the kind (from
        the plan) on a record that does not hold it yet."""
        result = super()._compute_subscription_order_kind()
        for order in self:
            if order.subscription_renewal_end:
                order.subscription_order_kind = "renewal"
        return result

    def _is_renewal_quotation(self):
        self.ensure_one()
        return bool(self.subscription_renewal_end and self.subscription_id)

    # ------------------------------------------------------------------
    # Confirmation: the customer accepts
    # ------------------------------------------------------------------

    def _subscription_error_message(self):
        error = super()._subscription_error_message()
        if error or not self._is_renewal_quotation():
            return error
        env = self.env
        sub = self.subscription_id.sudo()
        end = self.subscription_renewal_end
        if end < fields.Date.context_today(self):
            return env._(
                "%(order)s renews the term of %(sub)s that ended on %(end)s: the "
                "term has already renewed on its prices (or closed). Change its "
                "prices on the subscription instead.",
                order=self.display_name,
                sub=sub.display_name,
                end=format_day(env, end),
            )
        if sub.state == "closed" or sub.close_reason_id or sub.date_end != end:
            return env._(
                "%(order)s renews the term of %(sub)s ending on %(end)s, but the "
                "subscription no longer renews then (cancelled, closed or its "
                "term changed): cancel this quotation.",
                order=self.display_name,
                sub=sub.display_name,
                end=format_day(env, end),
            )
        one_time = self.order_line.filtered(
            lambda line: (
                not line.display_type
                and line.product_id
                and not line.subscription_is_recurring
            )
        )
        if one_time:
            return env._(
                "%(order)s renews %(sub)s: it holds the subscription's recurring "
                "lines only. Sell %(products)s on a quotation of its own.",
                order=self.display_name,
                sub=sub.display_name,
                products=", ".join(one_time.product_id.mapped("display_name")),
            )
        return False

    def _action_confirm(self):
        renewals = self.filtered(lambda order: order._is_renewal_quotation())
        result = super()._action_confirm()
        # Confirming the quotation is the right (the salesperson, or the
        # customer signing): the subscription follows.
        for order in renewals:
            order.subscription_id.sudo()._accept_renewal_quotation(order)
        return result

    # ------------------------------------------------------------------
    # Cancellation: declined, or withdrawn
    # ------------------------------------------------------------------

    def _action_cancel(self):
        renewals = self.filtered(lambda order: order._is_renewal_quotation())
        declined = renewals.filtered(lambda order: order.state in ("draft", "sent"))
        if not self.env.context.get(RENEWAL_DECLINE_KEY):
            declined = declined.browse()
        for order in renewals.filtered(lambda order: order.state == "sale"):
            order.subscription_id.sudo()._withdraw_renewal_quotation(order)
        result = super()._action_cancel()
        if declined:
            declined.sudo().subscription_renewal_declined = True
            for order in declined:
                order.subscription_id.sudo()._decline_renewal_quotation(order)
        return result

    def action_subscription_renewal_decline(self):
        """The customer declined (told the salesperson): the subscription ends
        with its term."""
        for order in self:
            if not order._is_renewal_quotation() or order.state not in (
                "draft",
                "sent",
            ):
                raise UserError(
                    self.env._(
                        "%(order)s is not an open renewal quotation: only a "
                        "renewal quotation still waiting for the customer's "
                        "answer can be declined.",
                        order=order.display_name,
                    )
                )
        self.with_context(**{RENEWAL_DECLINE_KEY: True}).action_cancel()
        for order in self:
            order.message_post(
                body=self.env._("The customer declined the renewal."),
            )
        return True

    # ------------------------------------------------------------------
    # Invoicing: the billing run bills the new term
    # ------------------------------------------------------------------

    def _create_invoices(self, grouped=False, final=False, date=None):
        """Renewal quotations invoice nothing by themselves: the billing run
        bills the new term on the accepted prices."""
        renewals = self.filtered(lambda order: order._is_renewal_quotation())
        others = self - renewals
        moves = self.env["account.move"]
        if others:
            moves = super(SaleOrder, others)._create_invoices(
                grouped=grouped, final=final, date=date
            )
        if (
            renewals
            and not moves
            and self.env.context.get("raise_if_nothing_to_invoice", True)
        ):
            order = renewals[:1]
            raise UserError(
                self.env._(
                    "Nothing to invoice on %(order)s: a renewal is billed by its "
                    "subscription %(sub)s, whose billing run invoices the new "
                    "term from %(date)s.",
                    order=order.display_name,
                    sub=order.subscription_id.sudo().display_name,
                    date=format_day(self.env, order.subscription_renewal_end + ONE_DAY),
                )
            )
        return moves
