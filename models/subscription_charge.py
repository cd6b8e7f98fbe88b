# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Charges billed once: one-off charges added to a subscription (pending
until its next invoice) and the record of each one-time plan line billed."""

import math

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import MAX_LINE_VALUE, check_number_values

# Only the billing engine writes these (the invoice line and the state).
ENGINE_FIELDS = {"state", "invoice_line_id", "subscription_line_id", "origin"}
ENGINE_DEFAULTS = {"state": "pending", "origin": "manual"}
# What a billed charge keeps: its invoice line holds it.
BILLED_FIELDS = {
    "subscription_id",
    "product_id",
    "name",
    "quantity",
    "price_unit",
    "discount",
    "analytic_distribution",
}


class SubscriptionCharge(models.Model):
    _name = "subscription.charge"
    _inherit = ["subscription.engine.mixin", "analytic.mixin"]
    _description = "Subscription Charge Billed Once"
    _order = "subscription_id, create_date desc, id desc"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "subscription.subscription",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        domain="[('sale_ok', '=', True)]",
    )
    name = fields.Char(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    price_unit = fields.Monetary(
        string="Unit Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
    )
    discount = fields.Float(string="Discount (%)", digits="Discount", default=0.0)
    price_subtotal = fields.Monetary(string="Amount", compute="_compute_subtotal")
    origin = fields.Selection(
        [("manual", "One-off charge"), ("plan", "One-time plan line")],
        default="manual",
        required=True,
        readonly=True,
    )
    subscription_line_id = fields.Many2one(
        "subscription.line",
        string="One-time Line",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
    )
    state = fields.Selection(
        [("pending", "To invoice"), ("billed", "Invoiced")],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    invoice_line_id = fields.Many2one(
        "account.move.line", readonly=True, ondelete="set null", copy=False
    )
    invoice_id = fields.Many2one(
        related="invoice_line_id.move_id", string="Invoice", readonly=True
    )

    _quantity_positive = models.Constraint(
        "CHECK(quantity > 0)", "The quantity of a charge must be positive."
    )
    _price_positive = models.Constraint(
        "CHECK(price_unit >= 0)",
        "The unit price of a charge cannot be negative: give a credit note instead.",
    )
    _discount_range = models.Constraint(
        "CHECK(discount >= 0 AND discount <= 100)",
        "A discount is a percentage between 0 and 100.",
    )
    # A one-time line is billed once: a retry or a second worker fails here.
    _one_time_line_unique = models.UniqueIndex(
        "(subscription_line_id) WHERE subscription_line_id IS NOT NULL",
        "A one-time line is billed once.",
    )
    _invoice_line_unique = models.UniqueIndex(
        "(invoice_line_id) WHERE invoice_line_id IS NOT NULL",
        "An invoice line bills one charge.",
    )
    _billed_has_state = models.Constraint(
        "CHECK(state = 'billed' OR invoice_line_id IS NULL)",
        "A charge on an invoice is billed.",
    )

    @api.depends("product_id")
    def _compute_name(self):
        for charge in self:
            if charge.product_id:
                charge.name = charge.product_id.display_name

    @api.depends("subscription_id", "subscription_line_id")
    def _compute_analytic_distribution(self):
        """A one-time line's charge: the line's distribution; a one-off
        charge: the plan's default (editable until billed)."""
        for charge in self:
            distribution = (
                charge.subscription_line_id.analytic_distribution
                or charge.subscription_id.plan_id.analytic_distribution
            )
            charge.analytic_distribution = distribution or charge.analytic_distribution

    @api.depends("product_id")
    def _compute_price_unit(self):
        for charge in self:
            if charge.product_id:
                sub = charge.subscription_id
                charge.price_unit = charge.product_id.currency_id._convert(
                    charge.product_id.lst_price,
                    sub.currency_id or charge.product_id.currency_id,
                    sub.company_id or self.env.company,
                    fields.Date.context_today(charge),
                )

    @api.depends("quantity", "price_unit", "discount", "currency_id")
    def _compute_subtotal(self):
        for charge in self:
            amount = charge.quantity * charge.price_unit * (1 - charge.discount / 100)
            charge.price_subtotal = (
                charge.currency_id.round(amount) if charge.currency_id else amount
            )

    @api.constrains("quantity", "price_unit", "discount")
    def _check_values(self):
        for charge in self:
            for name, high in (
                ("quantity", MAX_LINE_VALUE),
                ("price_unit", MAX_LINE_VALUE),
                ("discount", 100),
            ):
                value = charge[name] or 0.0
                if not math.isfinite(value) or not 0 <= value <= high:
                    raise ValidationError(
                        self.env._(
                            "Charge %(charge)s: %(field)s must be between 0 and "
                            "%(max)s (got %(value)s).",
                            charge=charge.name or charge.product_id.display_name,
                            field=charge._fields[name]._description_string(self.env),
                            max=f"{high:,}",
                            value=value,
                        )
                    )
            if charge.name and "\x00" in charge.name:
                raise ValidationError(
                    self.env._("A charge's description cannot hold a NUL character.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_number_values(self, vals)
            # The form may send the defaults (to bill, added by hand).
            engine = {
                name
                for name in set(vals) & ENGINE_FIELDS
                if vals[name] not in (ENGINE_DEFAULTS.get(name), False, None)
            }
            if engine and not self._is_engine():
                raise UserError(
                    self.env._(
                        "Only the billing sets these fields of a charge: %(fields)s.",
                        fields=self._engine_fields_label(engine),
                    )
                )
        charges = super().create(vals_list)
        closed = charges.subscription_id.filtered(lambda sub: sub.state == "closed")
        if closed and not self._is_engine():
            raise UserError(
                self.env._(
                    "Subscription %(subs)s is closed: it has no next invoice to "
                    "bill a charge on.",
                    subs=", ".join(closed.mapped("display_name")),
                )
            )
        return charges

    def write(self, vals):
        check_number_values(self, vals)
        if not self._is_engine():
            if set(vals) & ENGINE_FIELDS:
                raise UserError(
                    self.env._(
                        "Only the billing sets these fields of a charge: %(fields)s.",
                        fields=self._engine_fields_label(set(vals) & ENGINE_FIELDS),
                    )
                )
            billed = self.filtered(lambda charge: charge.state == "billed")
            if billed and set(vals) & BILLED_FIELDS:
                raise UserError(
                    self.env._(
                        "Charge %(charges)s is billed: its invoice holds it. "
                        "Correct it with a credit note or a new charge.",
                        charges=", ".join(billed.mapped("display_name")),
                    )
                )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        billed = self.filtered(lambda charge: charge.state == "billed")
        if billed:
            raise UserError(
                self.env._(
                    "Charge %(charges)s is billed and cannot be deleted: its "
                    "invoice holds it (a credit note corrects it).",
                    charges=", ".join(billed.mapped("display_name")),
                )
            )

    def _prepare_invoice_line_vals(self):
        """Invoice line values of this pending charge (not prorated)."""
        self.ensure_one()
        return {
            "product_id": self.product_id.id,
            "name": self.name,
            "quantity": self.quantity,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "subscription_id": self.subscription_id.id,
            "subscription_charge_id": self.id,
            "analytic_distribution": self.analytic_distribution or False,
        }
