# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upsell orders: confirming the quotation applies its changes to the
subscription through the change engine, once.

Each line with a quantity becomes a change (``change_quantity`` of a running
line, ``add_option`` of a new one), applied with the plan's policy from the
quotation's upsell date: history, MRR and proration are the engine's. The
prorated amount is billed once, by the engine: on one invoice issued at
confirmation (the order's invoice), or on the subscription's next invoice, per
the plan's *Prorated Amounts*; the order's lines are linked to the invoice
lines that bill them. The order's own invoicing (*Create Invoice*, an online
payment) never bills them again: it bills the prorated amounts still waiting
for the next invoice, now, or says there is nothing left.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..const import INVOICE_CREATE_CONTEXT

# The context key under which the engine leaves the prorated amounts of an
# upsell's changes to the order, which bills them all on one invoice.
UPSELL_DEFERS_PRORATION = "subscription_upsell_defer_proration"


class SaleOrder(models.Model):
    _inherit = "sale.order"

    subscription_upsell_date = fields.Date(
        string="Upsell From",
        copy=False,
        readonly=True,
        help="The day the upsell's changes take effect (the plan's policy may "
        "move them to the end of the period): its prices are prorated from "
        "that day.",
    )

    @api.depends("subscription_upsell_date")
    def _compute_subscription_order_kind(self):
        """An upsell stays one: the form's onchange recomputes the kind (from
        the plan) on a record that does not hold it yet."""
        result = super()._compute_subscription_order_kind()
        for order in self:
            if order.subscription_upsell_date:
                order.subscription_order_kind = "upsell"
        return result

    # ------------------------------------------------------------------
    # Duplicate: an upsell of the same subscription, priced from today
    # ------------------------------------------------------------------

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        today = fields.Date.context_today(self)
        for order, vals in zip(self, vals_list, strict=True):
            if order.subscription_order_kind == "upsell":
                vals.update(
                    subscription_order_kind="upsell",
                    subscription_id=order.subscription_id.id,
                    subscription_upsell_date=today,
                )
        return vals_list

    def copy(self, default=None):
        """A copy of an upsell is priced again, for the rest of the period from
        today (its lines' prices and descriptions are the engine's)."""
        orders = super().copy(default=default)
        lines = orders.order_line.filtered(lambda line: line._is_upsell_line())
        for line in lines:
            line._reset_price_unit()
        lines._set_upsell_description()
        return orders

    # ------------------------------------------------------------------
    # Confirmation
    # ------------------------------------------------------------------

    def _subscription_error_message(self):
        error = super()._subscription_error_message()
        if error or self.subscription_order_kind != "upsell":
            return error
        return self._upsell_error_message()

    def _upsell_error_message(self):  # noqa: C901 - one refusal per reason
        """Why this upsell quotation cannot be confirmed, or ``False``."""
        self.ensure_one()
        env = self.env
        sub = self.subscription_id.sudo()
        if not sub:
            return env._(
                "%(order)s is an upsell without a subscription: create upsells "
                "from the subscription (action menu, Upsell).",
                order=self.display_name,
            )
        if sub.state in ("draft", "closed"):
            return env._(
                "%(order)s sells more of subscription %(sub)s, which is %(state)s: "
                "nothing can be added to it.",
                order=self.display_name,
                sub=sub.display_name,
                state=dict(sub._fields["state"]._description_selection(env))[sub.state],
            )
        if self.subscription_plan_id != sub.plan_id:
            return env._(
                "%(order)s was made for the plan %(plan)s, but subscription %(sub)s "
                "is now on %(sub_plan)s: its prices are out of date. Cancel it and "
                "make a new upsell from the subscription.",
                order=self.display_name,
                plan=self.subscription_plan_id.display_name,
                sub=sub.display_name,
                sub_plan=sub.plan_id.display_name,
            )
        if self.currency_id != sub.currency_id:
            return env._(
                "%(order)s is in %(currency)s, but subscription %(sub)s is billed in "
                "%(sub_currency)s: its prices are out of date. Cancel it and make a "
                "new upsell from the subscription.",
                order=self.display_name,
                currency=self.currency_id.name,
                sub=sub.display_name,
                sub_currency=sub.currency_id.name,
            )
        if self.is_expired:
            return env._(
                "%(order)s expired on %(date)s: its prorated prices were for "
                "%(upsell_date)s. Cancel it and make a new upsell from the "
                "subscription.",
                order=self.display_name,
                date=self.validity_date,
                upsell_date=self.subscription_upsell_date,
            )
        lines = self.order_line.filtered(
            lambda line: not line.display_type and line.product_uom_qty
        )
        others = lines.filtered(lambda line: not line._is_upsell_line())
        if others:
            return env._(
                "%(order)s sells more of subscription %(sub)s: %(products)s are "
                "not on its plan %(plan)s. Sell them on a quotation of their own.",
                order=self.display_name,
                sub=sub.display_name,
                products=", ".join(others.product_id.mapped("display_name")),
                plan=sub.plan_id.display_name,
            )
        if not lines:
            return env._(
                "%(order)s adds nothing to subscription %(sub)s: raise the quantity "
                "of what the customer buys more of.",
                order=self.display_name,
                sub=sub.display_name,
            )
        quantum = repr(self.currency_id.rounding)
        for line in lines:
            if line.product_uom_qty < 0:
                return env._(
                    "%(order)s: the quantity of %(product)s cannot be negative; to "
                    "lower a quantity, change it on the subscription.",
                    order=self.display_name,
                    product=line.product_id.display_name,
                )
            error = line._upsell_line_error(quantum)
            if error:
                return error
        return False

    def _action_confirm(self):
        result = super()._action_confirm()
        self.filtered(
            lambda order: order.subscription_order_kind == "upsell"
        )._apply_upsell()
        return result

    def _apply_upsell(self):
        """Apply each line's change through the engine (once: a line keeps its
        change), then bill the prorated amounts of the order on one invoice
        when the plan invoices them now."""
        Change = (
            self.env["subscription.change"]
            .sudo()
            .with_context(**{UPSELL_DEFERS_PRORATION: True})
        )
        for order in self:
            sub = order.subscription_id.sudo()
            sub._lock_for_billing()
            lines = order.order_line.filtered(
                lambda line: (
                    line._is_upsell_line()
                    and line.product_uom_qty > 0
                    and not line.subscription_change_id
                )
            )
            changes = Change
            for line in lines:
                values = line._upsell_change_values(line.product_uom_qty)
                change, __ = Change._request(
                    sub, {**values, "date": order.subscription_upsell_date}
                )
                line.sudo().subscription_change_id = change
                changes |= change
            if sub.plan_id.proration_invoicing == "now":
                order._invoice_upsell_changes(changes)
            if changes:
                sub.message_post_with_source(
                    "mail.message_origin_link",
                    render_values={"self": sub, "origin": order},
                    subtype_xmlid="mail.mt_note",
                )

    def _invoice_upsell_changes(self, changes):
        """One invoice of the prorated amounts of ``changes`` (applied, not
        invoiced yet), its lines linked to the order's; the engine's document
        of each change."""
        self.ensure_one()
        changes = changes.sudo().filtered(
            lambda change: change.proration_state == "pending"
        )
        if not changes:
            return self.env["account.move"]
        sub = self.subscription_id.sudo()
        journal = sub.plan_id._get_sale_journal()
        vals = sub._prepare_invoice_vals(fields.Date.context_today(self), journal)
        vals["invoice_origin"] = self.name
        vals["invoice_line_ids"] = [
            Command.create(change._move_line_vals(line))
            for change in changes
            for line in change.proration_lines
        ]
        move = (
            self.env["account.move"]
            .sudo()
            .with_context(**INVOICE_CREATE_CONTEXT)
            .create(vals)
        )
        changes.move_id = move
        sub._finalize_moves(move, [sub.plan_id.invoice_policy])
        return move

    def _action_cancel(self):
        """A confirmed upsell has changed its subscription: cancelling the
        order would not undo it, nor cancel its invoice."""
        applied = self.filtered(
            lambda order: (
                order.subscription_order_kind == "upsell"
                and order.order_line.subscription_change_id
            )
        )
        if applied:
            raise UserError(
                self.env._(
                    "%(order)s has changed subscription %(sub)s (%(changes)s): it "
                    "cannot be cancelled. To undo a change, change the "
                    "subscription again (action menu of the subscription).",
                    order=applied[:1].display_name,
                    sub=applied[:1].subscription_id.display_name,
                    changes=", ".join(
                        applied[:1]
                        .order_line.subscription_change_id.sudo()
                        .mapped("name")
                    ),
                )
            )
        return super()._action_cancel()

    # ------------------------------------------------------------------
    # Invoicing
    # ------------------------------------------------------------------

    def _create_invoices(self, grouped=False, final=False, date=None):
        """Upsell orders are billed by the engine: the prorated amounts not
        invoiced yet (left for the next invoice) are invoiced now, on one
        invoice; what the engine invoiced already is never billed again."""
        upsell = self.filtered(
            lambda order: (
                order.subscription_id and order.subscription_order_kind == "upsell"
            )
        )
        moves = self.env["account.move"]
        others = self - upsell
        if others:
            moves |= super(SaleOrder, others)._create_invoices(
                grouped=grouped, final=final, date=date
            )
        if upsell:
            moves |= upsell._create_upsell_invoices()
        return moves

    def _create_upsell_invoices(self):
        moves = self.env["account.move"]
        for order in self.filtered(lambda order: order.state == "sale"):
            order.subscription_id.sudo()._lock_for_billing()
            moves |= order._invoice_upsell_changes(
                order.order_line.subscription_change_id
            )
        if not moves and self.env.context.get("raise_if_nothing_to_invoice", True):
            order = self[:1]
            invoices = order.order_line.subscription_change_id.sudo().move_id
            if invoices:
                message = self.env._(
                    "Nothing to invoice on %(order)s: its prorated amount is "
                    "invoiced on %(invoices)s.",
                    order=order.display_name,
                    invoices=", ".join(invoices.mapped("display_name")),
                )
            else:
                message = self.env._(
                    "Nothing to invoice on %(order)s: nothing is prorated; the "
                    "next invoices of subscription %(sub)s bill its changes.",
                    order=order.display_name,
                    sub=order.subscription_id.display_name,
                )
            raise UserError(message)
        return moves
