# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Quotations that sell a subscription.

A quotation with a plan becomes, on confirmation, a subscription: its
recurring lines (the plan's products) are the subscription's lines, its
one-time lines (setup, hardware, onboarding) are billed once, on the
subscription's first invoice.

The first invoice is issued by the billing engine, whoever asks for it: the
billing run on the first period's date, or the order's own invoicing
(*Create Invoice*, an online payment) which bills the first period at once.
The first period has one row (unique per subscription and period start), so
the order's invoice and the subscription's first invoice are one document.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..const import BILLABLE_STATES
from ..tools import format_day


class SaleOrder(models.Model):
    _inherit = "sale.order"

    subscription_plan_id = fields.Many2one(
        "subscription.plan",
        check_company=True,
        tracking=True,
        index="btree_not_null",
        help="Confirming the quotation creates a subscription on this plan: the "
        "plan's products on the quotation are its recurring lines, the other "
        "lines are billed once, on its first invoice.",
    )
    subscription_start_date = fields.Date(
        string="Subscription Start",
        copy=False,
        help="The first day of the subscription (default: the day the order is "
        "confirmed).",
    )
    subscription_id = fields.Many2one(
        "subscription.subscription",
        copy=False,
        readonly=True,
        index="btree_not_null",
        check_company=True,
        help="The subscription this order created, or the one it changes or renews.",
    )
    subscription_order_kind = fields.Selection(
        [
            ("new", "New subscription"),
            ("upsell", "Upsell"),
            ("renewal", "Renewal"),
        ],
        string="Subscription Order",
        compute="_compute_subscription_order_kind",
        store=True,
        copy=False,
    )
    subscription_period_label = fields.Char(
        related="subscription_plan_id.billing_period_label"
    )
    subscription_recurring_amount = fields.Monetary(
        string="Recurring Amount",
        compute="_compute_subscription_recurring_amount",
        help="The untaxed amount of the recurring lines, per billing period.",
    )

    @api.depends("subscription_plan_id")
    def _compute_subscription_order_kind(self):
        for order in self:
            if order.subscription_order_kind in ("upsell", "renewal"):
                continue
            order.subscription_order_kind = (
                "new" if order.subscription_plan_id else False
            )

    @api.depends("order_line.price_subtotal", "order_line.subscription_is_recurring")
    def _compute_subscription_recurring_amount(self):
        for order in self:
            order.subscription_recurring_amount = sum(
                order.order_line.filtered("subscription_is_recurring").mapped(
                    "price_subtotal"
                )
            )

    # ------------------------------------------------------------------
    # Confirmation
    # ------------------------------------------------------------------

    def _confirmation_error_message(self):
        error = super()._confirmation_error_message()
        if error:
            return error
        return self._subscription_error_message()

    def _subscription_error_message(self):
        """Why this quotation cannot become (or change) a subscription, or
        ``False``."""
        self.ensure_one()
        env = self.env
        plan = self.subscription_plan_id
        product_lines = self.order_line.filtered(
            lambda line: not line.display_type and line.product_id
        )
        # One search for every product of the order (not one per line).
        offered = product_lines.product_id.sudo()._subscription_plan_lines()
        if not plan:
            sold = product_lines.filtered(
                lambda line: line.product_id in offered.product_id
            )
            if sold and not self.subscription_id:
                return env._(
                    "%(order)s sells %(products)s, offered on subscription: choose "
                    "the quotation's subscription plan (below the payment terms), "
                    "or remove these lines.",
                    order=self.display_name,
                    products=", ".join(sold.product_id.mapped("display_name")),
                )
            return False
        if plan.company_id and plan.company_id != self.company_id:
            return env._(
                "%(order)s is in company %(company)s but its plan %(plan)s belongs "
                "to %(plan_company)s: choose a plan of %(company)s.",
                order=self.display_name,
                company=self.company_id.display_name,
                plan=plan.display_name,
                plan_company=plan.company_id.display_name,
            )
        foreign = product_lines.filtered(
            lambda line: (
                not line.subscription_is_recurring
                and offered.filtered(
                    lambda plan_line, product=line.product_id: (
                        plan_line.product_id == product
                        and plan_line.line_type != "one_time"
                    )
                )
            )
        )
        if foreign:
            return env._(
                "%(order)s bills the plan %(plan)s, which has no price for "
                "%(products)s (it is sold on another plan): one quotation bills one "
                "plan. Add the product to the plan %(plan)s, or sell it on a "
                "quotation of its own plan.",
                order=self.display_name,
                plan=plan.display_name,
                products=", ".join(foreign.product_id.mapped("display_name")),
            )
        negative = product_lines.filtered(
            lambda line: line.subscription_is_recurring and line.product_uom_qty < 0
        )
        if negative:
            return env._(
                "%(order)s: a subscription line cannot have a negative quantity "
                "(%(products)s). To bill less, lower the quantity of the "
                "subscription later with a change.",
                order=self.display_name,
                products=", ".join(negative.product_id.mapped("display_name")),
            )
        if self.subscription_order_kind == "new" and not product_lines.filtered(
            "subscription_is_recurring"
        ):
            return env._(
                "%(order)s has no line of its plan %(plan)s: add at least one of "
                "the plan's products (%(products)s).",
                order=self.display_name,
                plan=plan.display_name,
                products=", ".join(plan.line_ids.product_id.mapped("display_name")),
            )
        if self.subscription_order_kind == "new" and any(
            line.is_downpayment for line in self.order_line
        ):
            return env._(
                "%(order)s sells a subscription: its first invoice is the first "
                "period's, a down payment cannot be deducted from it. Remove the "
                "down payment.",
                order=self.display_name,
            )
        return False

    def _action_confirm(self):
        result = super()._action_confirm()
        self.filtered(
            lambda order: (
                order.subscription_order_kind == "new" and not order.subscription_id
            )
        )._create_subscriptions()
        return result

    def _create_subscriptions(self):
        """Create and start the subscriptions these confirmed orders sell.

        Runs as superuser: confirming the order is the right (a salesperson,
        or the customer signing or paying online); the subscription follows.
        """
        Subscription = self.env["subscription.subscription"].sudo()
        for order in self:
            sub = Subscription.create(order._prepare_subscription_vals())
            order.subscription_id = sub
            if not order.subscription_start_date:
                order.subscription_start_date = sub.date_start
            sub.message_post_with_source(
                "mail.message_origin_link",
                render_values={"self": sub, "origin": order},
                subtype_xmlid="mail.mt_note",
            )
            sub.action_start()
            order._subscription_set_payment_token()
        return self.subscription_id

    def _prepare_subscription_vals(self):
        self.ensure_one()
        lines = self.order_line.filtered(
            lambda line: line.subscription_is_recurring and not line.display_type
        )
        return {
            "partner_id": self.partner_id.id,
            "partner_invoice_id": self.partner_invoice_id.id,
            "plan_id": self.subscription_plan_id.id,
            "company_id": self.company_id.id,
            "pricelist_id": self.pricelist_id.id,
            "currency_id": self.currency_id.id,
            "payment_term_id": self.payment_term_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "user_id": self.user_id.id,
            "date_start": self.subscription_start_date
            or fields.Date.context_today(self),
            "line_ids": [
                Command.create(line._prepare_subscription_line_vals()) for line in lines
            ],
        }

    def _subscription_set_payment_token(self):
        """The card saved while paying the quotation online pays the next
        periods."""
        self.ensure_one()
        sub = self.subscription_id.sudo()
        transactions = self.sudo().transaction_ids.filtered(
            lambda tx: tx.state in ("authorized", "done") and tx.token_id
        )
        for tx in transactions.sorted("id", reverse=True):
            if sub._payment_token_is_usable(tx.token_id):
                sub._set_payment_token(tx.token_id)
                return

    # ------------------------------------------------------------------
    # Invoicing
    # ------------------------------------------------------------------

    def _create_invoices(self, grouped=False, final=False, date=None):
        """Subscription orders are invoiced by the billing engine: the first
        period's invoice, with the order's one-time lines on it."""
        by_engine = self.filtered(
            lambda order: (
                order.subscription_id and order.subscription_order_kind == "new"
            )
        )
        moves = self.env["account.move"]
        others = self - by_engine
        if others:
            moves |= super(SaleOrder, others)._create_invoices(
                grouped=grouped, final=final, date=date
            )
        if by_engine:
            moves |= by_engine._create_subscription_invoices()
        return moves

    def _create_subscription_invoices(self):
        """Bill the first period of each order's subscription now (and any
        period due since): one invoice, the order's one-time lines on it.

        Raises when there is nothing to invoice (unless the caller says
        otherwise, as Odoo's ``raise_if_nothing_to_invoice``).
        """
        today = fields.Date.context_today(self)
        moves = self.env["account.move"]
        nothing = self.env["sale.order"]
        for order in self:
            sub = order.subscription_id.sudo()
            if (
                sub.state not in BILLABLE_STATES
                or not sub.next_invoice_date
                or sub.invoiced_until
                or sub.plan_id.billing_timing != "advance"
            ):
                nothing |= order
                continue
            sub._lock_for_billing()
            up_to = max(today, sub.next_invoice_date)
            moves |= sub._bill_due_periods(up_to, isolate=False).moves
        if (
            not moves
            and nothing
            and self.env.context.get("raise_if_nothing_to_invoice", True)
        ):
            sub = nothing[:1].subscription_id.sudo()
            raise UserError(
                self.env._(
                    "Nothing to invoice on %(order)s: its subscription %(sub)s is "
                    "invoiced by the billing run (next invoice on %(date)s), and "
                    "its one-time lines are on the first invoice.",
                    order=nothing[:1].display_name,
                    sub=sub.display_name,
                    date=format_day(self.env, sub.next_invoice_date)
                    if sub.next_invoice_date
                    else "-",
                )
            )
        return moves

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_view_subscription(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "subscription.subscription",
            "res_id": self.subscription_id.id,
            "view_mode": "form",
        }
