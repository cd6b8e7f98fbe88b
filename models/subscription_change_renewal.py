# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The renewal change of an accepted renewal quotation.

A renewal indexation (``is_indexation``) that names the quotation it comes
from: on the new term's first day its lines replace the running recurring
lines, with the quotation's quantities and prices (instead of the plan's
percentage). It is allowed after the end of the current term as any
indexation of a term that renews, cancellable while scheduled, and recorded
in the history when it applies. The new lines keep the quotation's line:
the first invoice of the new term invoices it."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .subscription_subscription_renewal import RENEWAL_ORDER_KEY


class SubscriptionChange(models.Model):
    _inherit = "subscription.change"

    renewal_order_id = fields.Many2one(
        "sale.order",
        string="Renewal Quotation",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The accepted quotation whose lines and prices the new term takes.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        order_id = self.env.context.get(RENEWAL_ORDER_KEY)
        if order_id:
            for vals in vals_list:
                if vals.get("is_indexation"):
                    vals.setdefault("renewal_order_id", order_id)
        return super().create(vals_list)

    def write(self, vals):
        if "renewal_order_id" in vals and not self._is_engine():
            raise UserError(
                self.env._(
                    "A renewal change applies the quotation it was accepted "
                    "with: cancel the change and the quotation instead of "
                    "writing its quotation."
                )
            )
        return super().write(vals)

    def _prepare(self, day):
        order_id = self.env.context.get(RENEWAL_ORDER_KEY)
        if order_id and self.is_indexation and not self.renewal_order_id:
            self.renewal_order_id = order_id
        return super()._prepare(day)

    def _describe(self):
        if self.renewal_order_id and self.is_indexation:
            return self.env._(
                "Renewal on the quotation %(order)s",
                order=self.renewal_order_id.sudo().name,
            )
        return super()._describe()

    def _renewal_sale_lines(self):
        """The quotation's recurring lines, usage excluded (priced per use)."""
        return self.renewal_order_id.sudo().order_line.filtered(
            lambda line: (
                line.subscription_is_recurring
                and not line.display_type
                and line.subscription_plan_line_id.line_type != "usage"
            )
        )

    def _line_effect(self, day):
        if not (self.renewal_order_id and self.is_indexation):
            return super()._line_effect(day)
        sub = self.subscription_id
        fixed = sub.line_ids.filtered(
            lambda line: line._is_active_on(day) and line.line_type == "fixed"
        )
        unmatched = fixed
        created = []
        for sale_line in self._renewal_sale_lines():
            base = sale_line.subscription_line_id & unmatched
            if not base:
                # The line was replaced since the quotation (a change).
                base = unmatched.filtered(
                    lambda line, product=sale_line.product_id: (
                        line.product_id == product
                    )
                )[:1]
            if not base:
                created.append(sale_line._prepare_subscription_line_vals())
                continue
            unmatched -= base
            created.append(
                base._prepare_copy_vals(
                    name=sale_line.name,
                    quantity=sale_line.product_uom_qty,
                    price_unit=sale_line.price_unit,
                    discount=sale_line.discount,
                    sale_line_id=sale_line.id,
                )
            )
        return fixed, created, sub.plan_id
