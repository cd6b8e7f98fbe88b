# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The lines of an upsell quotation: each one is a change of the
subscription (more of a running line, or an option added), priced by the
change engine for the rest of the period already invoiced."""

from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import formatLang

from ..core import changes as core
from ..tools import DocumentFormat, exact_decimal


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    subscription_change_id = fields.Many2one(
        "subscription.change",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The change of the subscription this upsell line applied, once, "
        "when the order was confirmed.",
    )

    _unique_subscription_change = models.Constraint(
        "UNIQUE(subscription_change_id)",
        "A change of a subscription is applied by one order line only.",
    )

    def copy_data(self, default=None):
        """A copied upsell line changes the same line of the subscription."""
        vals_list = super().copy_data(default=default)
        for line, vals in zip(self, vals_list, strict=True):
            if line.order_id.subscription_order_kind == "upsell":
                vals.setdefault("subscription_line_id", line.subscription_line_id.id)
        return vals_list

    def _is_upsell_line(self):
        """A line of an upsell quotation that changes its subscription: a
        running line of the subscription, or one of the plan's products."""
        self.ensure_one()
        return bool(
            self.order_id.subscription_order_kind == "upsell"
            and self.order_id.subscription_id
            and not self.display_type
            and self.product_id
            and (self.subscription_line_id or self.subscription_plan_line_id)
        )

    def _upsell_change_values(self, quantity):
        """The change request (operation and values) that adds ``quantity``
        to the subscription, or ``None`` when the line is neither a running
        line of the subscription nor an option of its plan."""
        self.ensure_one()
        sub = self.order_id.subscription_id.sudo()
        line = self.subscription_line_id.sudo()
        plan_line = self.subscription_plan_line_id.sudo()
        if not line and plan_line and not plan_line.is_optional:
            running, __ = sub._upsell_lines(self.order_id.subscription_upsell_date)
            line = running.filtered(lambda sl: sl.plan_line_id == plan_line)[:1]
        if line:
            return {
                "operation": "change_quantity",
                "line_id": line.id,
                "quantity": line.quantity + quantity,
            }
        if plan_line.is_optional:
            return {
                "operation": "add_option",
                "plan_line_id": plan_line.id,
                "quantity": quantity,
            }
        return None

    def _upsell_simulate(self, quantity):
        """The engine's simulation of this line's change for ``quantity``
        more, on the order's upsell date: ``(change, effect)``."""
        self.ensure_one()
        values = self._upsell_change_values(quantity)
        if values is None:
            raise UserError(
                self.env._(
                    "%(product)s is neither a line of subscription %(sub)s nor an "
                    "option of its plan %(plan)s: remove it from the upsell.",
                    product=self.product_id.display_name,
                    sub=self.order_id.subscription_id.display_name,
                    plan=self.order_id.subscription_id.plan_id.display_name,
                )
            )
        order = self.order_id
        return order.subscription_id._upsell_simulate(
            values, order.subscription_upsell_date
        )

    def _upsell_unit_price(self):
        """``(prorated price of one unit, change, effect)``: what one more unit
        costs for the rest of the period already invoiced (the sum of the
        engine's prorated units, one per period part)."""
        change, effect = self._upsell_simulate(1.0)
        unit = sum(
            (exact_decimal(vals["price_unit"]) for vals in effect["lines"]), Decimal(0)
        )
        return unit, change, effect

    @staticmethod
    def _upsell_amount(effect, quantum):
        """The engine's prorated amount of a change: its lines, each rounded as
        on the invoice."""
        return sum(
            (
                core.line_amount(
                    repr(vals["quantity"]),
                    vals["price_unit"],
                    repr(vals.get("discount", 0.0)),
                    quantum,
                )
                for vals in effect["lines"]
            ),
            Decimal(0),
        )

    def _upsell_description(self, change, effect):
        """The line's name: what it is, the days it covers and the full
        period's price, e.g. "Extra seat — 03/15/2026 → 03/31/2026 (17/31
        days), 10.00 per month", in the customer's language."""
        self.ensure_one()
        sub = self.order_id.subscription_id.sudo()
        fmt = DocumentFormat.for_partner(self.env, self.order_id.partner_id)
        if change.operation == "add_option":
            name = change.plan_line_id.name or self.product_id.display_name
            full_price = change.plan_line_id.price_unit
        else:
            name = change.line_id.name or self.product_id.display_name
            full_price = change.line_id.price_unit
        parts = [
            fmt.days_period(
                fields.Date.to_date(vals["subscription_period_start"]),
                fields.Date.to_date(vals["subscription_period_end"]),
                vals["subscription_billed_days"],
                vals["subscription_period_days"],
                vals["subscription_billed_days"] != vals["subscription_period_days"],
            )
            for vals in effect["lines"]
            if vals.get("subscription_period_start")
        ]
        values = {
            "product": name,
            "price": fmt.money(exact_decimal(full_price)),
            "per_period": sub.plan_id._get_period_phrase(lang=fmt.lang),
        }
        if parts:
            return fmt.env._(
                "%(product)s — %(period)s, %(price)s %(per_period)s",
                period="; ".join(parts),
                **values,
            )
        return fmt.env._(
            "%(product)s — from %(date)s, %(price)s %(per_period)s",
            date=fmt.date(change.effective_date),
            **values,
        )

    def _upsell_line_error(self, quantum):
        """Why this upsell line's change cannot be applied as quoted, or
        ``False``: the engine refuses it, its line is no longer billed, or its
        price is no longer the engine's (invoiced or changed since)."""
        self.ensure_one()
        env = self.env
        order = self.order_id
        day = order.subscription_upsell_date
        sub_line = self.subscription_line_id.sudo()
        if sub_line and not sub_line._is_active_on(day):
            return env._(
                "%(order)s: the line %(line)s of subscription %(sub)s changed since "
                "the quotation. Cancel it and make a new upsell from the "
                "subscription.",
                order=order.display_name,
                line=sub_line.name,
                sub=order.subscription_id.display_name,
            )
        try:
            __, effect = self._upsell_simulate(self.product_uom_qty)
        except UserError as error:
            return env._(
                "%(order)s: %(product)s: %(error)s",
                order=order.display_name,
                product=self.product_id.display_name,
                error=error.args[0],
            )
        engine = self._upsell_amount(effect, quantum)
        quoted = core.line_amount(
            repr(self.product_uom_qty),
            repr(self.price_unit),
            repr(self.discount),
            quantum,
        )
        if engine != quoted:
            return env._(
                "%(order)s: %(product)s is quoted %(quoted)s, but the subscription "
                "%(sub)s now prorates it %(engine)s (it was invoiced or changed "
                "since the quotation, or its price was edited). Cancel it and make "
                "a new upsell from the subscription.",
                order=order.display_name,
                product=self.product_id.display_name,
                quoted=formatLang(env, float(quoted), currency_obj=order.currency_id),
                sub=order.subscription_id.display_name,
                engine=formatLang(env, float(engine), currency_obj=order.currency_id),
            )
        return False

    # ------------------------------------------------------------------
    # Price, discount, description, invoicing
    # ------------------------------------------------------------------

    def _get_display_price(self):
        """An upsell line is priced per unit for the rest of the period already
        invoiced, as the change engine prorates it (0 when the change takes
        effect at the end of the period, or when the engine refuses it: the
        confirmation says why)."""
        if not self._is_upsell_line():
            return super()._get_display_price()
        try:
            unit, __, __ = self._upsell_unit_price()
        except UserError:
            return 0.0
        return float(unit)

    @api.depends("order_id.subscription_order_kind")
    def _compute_discount(self):
        result = super()._compute_discount()
        for line in self:
            if line.order_id.subscription_order_kind == "upsell" and (
                line.subscription_line_id or line.subscription_plan_line_id
            ):
                line.discount = 0.0
        return result

    def _set_upsell_description(self):
        """Name each upsell line after its change (period and full price)."""
        for line in self.filtered(lambda line: line._is_upsell_line()):
            try:
                __, change, effect = line._upsell_unit_price()
            except UserError:
                continue
            line.name = line._upsell_description(change, effect)

    @api.depends(
        "subscription_change_id.state", "subscription_change_id.proration_state"
    )
    def _compute_qty_to_invoice(self):
        """A change with nothing prorated (it takes effect at the end of the
        period) is billed by the subscription's next periods: nothing to
        invoice on the order."""
        result = super()._compute_qty_to_invoice()
        for line in self:
            change = line.subscription_change_id.sudo()
            if change and (
                change.state != "applied" or change.proration_state == "none"
            ):
                line.qty_to_invoice = 0.0
        return result
