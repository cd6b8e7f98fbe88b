# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Charges billed once on a subscription: its one-time lines (a setup fee,
on its first invoice) and its one-off charges (``add_charge``, billed on its
next invoice). Each is recorded with its invoice line in a
``subscription.charge`` row, so nothing bills twice."""

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# Longest description of a one-off charge (an invoice line's label).
MAX_DESCRIPTION = 1000
MAX_ID = 2**31 - 1


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    charge_ids = fields.One2many(
        "subscription.charge", "subscription_id", string="Charges Billed Once"
    )

    # ------------------------------------------------------------------
    # API
    # ------------------------------------------------------------------

    def add_charge(self, product_id, price_unit, quantity=1, description=None):
        """Add a one-off charge, billed once on the next invoice (API).

        ``product_id``: a product sold (id); ``price_unit`` and ``quantity``:
        numbers (the quantity above 0); ``description``: the invoice line's
        label (default: the product's name). Returns the charge's id.
        """
        self._ensure_one_subscription()
        self.check_access("write")
        product = self._clean_charge_product(product_id)
        price = self._clean_charge_number("price_unit", price_unit)
        qty = self._clean_charge_number("quantity", quantity)
        if not qty:
            raise UserError(self.env._("quantity must be above 0 (got 0)."))
        name = self._clean_charge_description(description) or product.display_name
        if self.state == "closed":
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is closed: it has no next invoice to "
                    "bill a charge on.",
                    sub=self.display_name,
                )
            )
        charge = self.env["subscription.charge"].create(
            {
                "subscription_id": self.id,
                "product_id": product.id,
                "name": name,
                "quantity": qty,
                "price_unit": price,
            }
        )
        return charge.id

    def _clean_charge_number(self, name, value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(
                self.env._(
                    "%(name)s: %(value)s is not a number.",
                    name=name,
                    value=repr(value)[:40],
                )
            )
        return self._clean_change_number(name, value)

    def _clean_charge_product(self, product_id):
        if (
            isinstance(product_id, bool)
            or not isinstance(product_id, int)
            or not 0 < product_id <= MAX_ID
        ):
            raise UserError(
                self.env._(
                    "product_id: %(value)s is not a product id.",
                    value=repr(product_id)[:40],
                )
            )
        product = self.env["product.product"].browse(product_id).exists()
        if (
            not product
            or not product.sale_ok
            or (product.company_id and product.company_id != self.company_id)
        ):
            raise UserError(
                self.env._(
                    "product_id: no product %(id)s sold by %(company)s.",
                    id=product_id,
                    company=self.company_id.display_name,
                )
            )
        return product

    def _clean_charge_description(self, description):
        if description is None:
            return None
        if not isinstance(description, str):
            raise UserError(
                self.env._(
                    "description: %(value)s is not a text.",
                    value=repr(description)[:40],
                )
            )
        if "\x00" in description:
            raise UserError(self.env._("description: a NUL character is not allowed."))
        if len(description) > MAX_DESCRIPTION:
            raise UserError(
                self.env._(
                    "description: %(count)s characters, at most %(max)s.",
                    count=len(description),
                    max=MAX_DESCRIPTION,
                )
            )
        return description.strip() or None

    # ------------------------------------------------------------------
    # Billing
    # ------------------------------------------------------------------

    def _prepare_service_line_vals(self, period):
        """The one-time lines due in ``period`` go with its recurring lines."""
        vals_list = super()._prepare_service_line_vals(period)
        for line in self.line_ids.filtered(lambda line: line.line_type == "one_time"):
            vals = line._prepare_one_time_invoice_line_vals(period)
            if vals:
                vals_list.append(vals)
        return vals_list

    def _add_pending_changes(self, groups):
        """The pending one-off charges go on each subscription's first
        invoice of this run."""
        result = super()._add_pending_changes(groups)
        charges = (
            self.env["subscription.charge"]
            .sudo()
            .search(
                [("subscription_id", "in", self.ids), ("state", "=", "pending")],
                order="subscription_id, id",
            )
        )
        if not charges:
            return result
        first_group = {}
        for group in sorted(groups, key=lambda g: g.invoice_date):
            for sub in group.subscriptions:
                first_group.setdefault(sub, group)
        for charge in charges:
            group = first_group.get(charge.subscription_id)
            if group is not None:
                group.add_lines([charge._prepare_invoice_line_vals()])
        return result

    def _write_billing(self, groups):
        moves = super()._write_billing(groups)
        if moves:
            self._record_charges(moves)
        return moves

    def _record_charges(self, moves):
        """Mark the one-off charges of ``moves`` billed and record their
        one-time lines; a charge billed meanwhile (another worker) fails the
        batch (rolled back), as does a one-time line billed twice (unique)."""
        lines = moves.invoice_line_ids
        manual = lines.filtered("subscription_charge_id")
        if manual:
            self.env["subscription.charge"].flush_model()
            pairs = [(line.subscription_charge_id.id, line.id) for line in manual]
            updated = self.env.execute_query(
                SQL(
                    """
                    UPDATE subscription_charge c
                       SET state = 'billed', invoice_line_id = v.line_id,
                           write_uid = %(uid)s, write_date = now() AT TIME ZONE 'UTC'
                      FROM (SELECT unnest(%(charges)s::int[]) AS charge_id,
                                   unnest(%(lines)s::int[]) AS line_id) v
                     WHERE c.id = v.charge_id AND c.state = 'pending'
                 RETURNING c.id
                    """,
                    uid=self.env.uid,
                    charges=[pair[0] for pair in pairs],
                    lines=[pair[1] for pair in pairs],
                )
            )
            self.env["subscription.charge"].invalidate_model(
                ["state", "invoice_line_id"]
            )
            if len(updated) != len(pairs):
                raise UserError(
                    self.env._(
                        "A charge of %(subs)s was billed meanwhile: run the "
                        "billing again.",
                        subs=", ".join(manual.subscription_id.mapped("display_name")),
                    )
                )
        one_time = lines.filtered(
            lambda line: line.subscription_line_id.line_type == "one_time"
        )
        if one_time:
            self.env["subscription.charge"].sudo()._as_engine().create(
                [
                    {
                        "subscription_id": line.subscription_id.id,
                        "origin": "plan",
                        "state": "billed",
                        "subscription_line_id": line.subscription_line_id.id,
                        "invoice_line_id": line.id,
                        "product_id": line.product_id.id,
                        "name": line.subscription_line_id.name,
                        "quantity": line.quantity,
                        "price_unit": line.price_unit,
                        "discount": line.discount,
                        "analytic_distribution": line.analytic_distribution,
                    }
                    for line in one_time
                ]
            )
