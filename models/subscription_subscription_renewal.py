# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Renewal as a quotation: the subscription's side.

On plans with ``renewal_quotation``, the billing run (first step, with the
renewal reminders) creates one quotation per subscription and term, its
``renewal_quotation_days`` before the end of the term, priced with the
plan's indexation, and sends it to the customer. The quotation replaces the
automatic indexation of that renewal:

- accepted (confirmed by the salesperson, or signed in the portal): a
  scheduled change on the new term's first day sets the quotation's lines
  and prices (``subscription.change.renewal_order_id``); the term renews at
  its end as always;
- declined (the customer in the portal, or the salesperson for them): a
  cancellation at the end of the term, reason *Renewal declined*;
- cancelled or left unanswered (it is valid until the term's last day): no
  effect; the term renews by itself (the plan's auto-renewal) on the current
  prices. The customer's silence is not a refusal.
"""

import logging
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import Command, api, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import mute_logger

from ..core import changes as core_changes
from ..core.periods import ONE_DAY
from ..tools import for_each_isolated, format_day

_logger = logging.getLogger(__name__)

# Context key: the renewal quotation a renewal change applies (see
# ``subscription_change_renewal``).
RENEWAL_ORDER_KEY = "subscription_renewal_order_id"


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    # ------------------------------------------------------------------
    # The billing run: quotations due
    # ------------------------------------------------------------------

    @api.model
    def _process_renewal_reminders(self, today):
        """Renewal quotations first: a subscription quoted is told of its
        renewal by its quotation (no second reminder for the same term)."""
        self._process_renewal_quotations(today)
        return super()._process_renewal_reminders(today)

    @api.model
    def _process_renewal_quotations(self, today):
        """Create and send the renewal quotations due by ``today``: once per
        subscription and term (``sale.order``'s unique renewal key)."""
        [(horizon,)] = (
            self.env["subscription.plan"]
            .with_context(active_test=False)
            ._read_group(
                [("renewal_quotation", "=", True)],
                aggregates=["renewal_quotation_days:max"],
            )
        )
        if not horizon:
            return self.env["sale.order"]
        subs = self.search(
            [
                ("state", "in", ("active", "paused")),
                ("plan_id.renewal_quotation", "=", True),
                ("date_end", ">=", today),
                ("date_end", "<=", today + timedelta(days=horizon)),
                ("close_reason_id", "=", False),
            ]
        ).filtered(
            lambda s: (
                s._renews()
                and s.date_end
                <= today + timedelta(days=s.plan_id.renewal_quotation_days)
            )
        )
        if not subs:
            return self.env["sale.order"]
        quoted = {
            (order.subscription_id.id, order.subscription_renewal_end)
            for order in self.env["sale.order"]
            .sudo()
            .search(
                [
                    ("subscription_id", "in", subs.ids),
                    ("subscription_renewal_end", "!=", False),
                ]
            )
        }
        orders = self.env["sale.order"]

        def quote(sub):
            nonlocal orders
            orders |= sub._create_renewal_quotation()

        # One subscription that cannot be quoted (its error on its record,
        # retried by the next run) does not stop the others or the run.
        for_each_isolated(
            subs.filtered(lambda s: (s.id, s.date_end) not in quoted),
            quote,
            lambda sub, error: sub._record_billing_error(error),
            errors=(UserError, ValidationError),
        )
        return orders

    def _create_renewal_quotation(self):
        """Create, then send, the quotation of the next term; nothing when
        another run has just created it (the unique key refuses a second)."""
        self.ensure_one()
        Order = self.env["sale.order"].sudo().with_company(self.company_id)
        if Order.search_count(
            [
                ("subscription_id", "=", self.id),
                ("subscription_renewal_end", "=", self.date_end),
            ],
            limit=1,
        ):
            return Order.browse()
        try:
            # Another worker quoting the same term at the same time: the
            # unique key refuses the second insert.
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                order = Order.create(self._prepare_renewal_quotation_vals())
        except pg_errors.UniqueViolation:
            _logger.info("Renewal quotation of %s already created", self.name)
            return Order.browse()
        # The quotation carries this renewal's indexation.
        self.change_ids.filtered(
            lambda c: c.state == "scheduled" and c.is_indexation
        )._as_engine().state = "cancelled"
        self.message_post_with_source(
            "mail.message_origin_link",
            render_values={"self": self, "origin": order},
            subtype_xmlid="mail.mt_note",
        )
        order._portal_ensure_token()
        order._send_order_notification_mail(order._find_mail_template())
        if order.state == "draft":
            order.action_quotation_sent()
        self.renewal_reminder_sent_for = self.date_end
        return order

    def _renewal_quotation_lines(self):
        """The recurring lines billed on the term's last day (usage is priced
        per use, not quoted)."""
        self.ensure_one()
        return self._lines_on(self.date_end).filtered(
            lambda line: line.line_type == "fixed"
        )

    def _renewal_price(self, line):
        """The next term's unit price of ``line``: its price raised by the
        plan's indexation, rounded to the currency."""
        self.ensure_one()
        return float(
            core_changes.indexed_price(
                repr(line.price_unit),
                self.plan_id.renewal_increase_percent,
                repr(self.currency_id.rounding),
            )
        )

    def _prepare_renewal_quotation_vals(self):
        """The next term's quotation: the current lines, their prices raised
        by the plan's indexation, valid until the term's last day."""
        self.ensure_one()
        plan = self.plan_id
        vals = {
            "partner_id": self.partner_id.id,
            "partner_invoice_id": self.partner_invoice_id.id,
            "company_id": self.company_id.id,
            "user_id": self.user_id.id,
            "origin": self.name,
            "subscription_plan_id": plan.id,
            "subscription_id": self.id,
            "subscription_order_kind": "renewal",
            "subscription_renewal_end": self.date_end,
            "subscription_start_date": self.date_end + ONE_DAY,
            "validity_date": self.date_end,
            # Signed, not paid: the new term is billed by the billing run.
            "require_signature": True,
            "require_payment": False,
            "order_line": [
                Command.create(
                    {
                        "product_id": line.product_id.id,
                        "name": line.name,
                        "product_uom_qty": line.quantity,
                        "price_unit": self._renewal_price(line),
                        "discount": line.discount,
                        "subscription_line_id": line.id,
                    }
                )
                for line in self._renewal_quotation_lines()
            ],
        }
        for name in ("pricelist_id", "payment_term_id", "fiscal_position_id"):
            if self[name]:
                vals[name] = self[name].id
        return vals

    def _schedule_indexation(self, after=None):
        """The renewal quotation carries the indexation of plans that quote
        their renewals: nothing is scheduled by itself."""
        return super(
            SubscriptionSubscription,
            self.filtered(lambda s: not s.plan_id.renewal_quotation),
        )._schedule_indexation(after=after)

    # ------------------------------------------------------------------
    # The customer's answer
    # ------------------------------------------------------------------

    def _accept_renewal_quotation(self, order):
        """The term renews on ``order``'s lines and prices from its first day:
        a scheduled change, visible and cancellable, recorded in the history
        when it applies."""
        self.ensure_one()
        self._lock_for_billing()
        day = order.subscription_renewal_end + ONE_DAY
        self.change_ids.filtered(
            lambda c: c.state == "scheduled" and c.is_indexation
        )._as_engine().state = "cancelled"
        self.env["subscription.change"].with_context(
            **{RENEWAL_ORDER_KEY: order.id}
        )._request(
            self,
            {
                "operation": "change_price",
                "is_indexation": True,
                "policy": "immediate",
                "date": day,
            },
        )
        self.message_post(
            body=self.env._(
                "Renewal quotation %(order)s accepted: the term renews on its "
                "prices from %(date)s.",
                order=order.name,
                date=format_day(self.env, day),
            )
        )

    def _withdraw_renewal_quotation(self, order):
        """An accepted renewal quotation cancelled before the new term: its
        change is cancelled, the term renews on the current prices."""
        self.ensure_one()
        applied = self.change_ids.filtered(
            lambda c: c.renewal_order_id == order and c.state == "applied"
        )
        if applied:
            raise UserError(
                self.env._(
                    "The renewal %(order)s of subscription %(sub)s applied on "
                    "%(date)s: the new term runs on its prices. Change the "
                    "prices on the subscription instead of cancelling it.",
                    order=order.name,
                    sub=self.display_name,
                    date=format_day(self.env, applied[:1].effective_date),
                )
            )
        changes = self.change_ids.filtered(
            lambda c: c.renewal_order_id == order and c.state == "scheduled"
        )
        if changes:
            changes.action_cancel()

    def _decline_renewal_quotation(self, order):
        """The customer does not renew: the subscription ends with its term
        (a cancellation on the next term's first day)."""
        self.ensure_one()
        if (
            self.state == "closed"
            or self.close_reason_id
            or self.date_end != order.subscription_renewal_end
        ):
            # Already ending, or the term changed: nothing left to stop.
            return
        self._lock_for_billing()
        self.env["subscription.change"]._request(
            self,
            {
                "operation": "cancel",
                "policy": "immediate",
                "date": order.subscription_renewal_end + ONE_DAY,
                "close_reason_id": self.env.ref(
                    "subscription_billing.close_reason_renewal_declined"
                ).id,
            },
        )
        self.message_post(
            body=self.env._(
                "Renewal quotation %(order)s declined: the subscription ends on "
                "%(date)s.",
                order=order.name,
                date=format_day(self.env, order.subscription_renewal_end),
            )
        )
