# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A quotation of a plan that starts with a price phase: its recurring lines
are priced at the first phase's price (what the first invoice bills), and
the subscription line remembers the standard price for after the phases."""

from odoo import models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _subscription_first_phase(self):
        """The plan's first phase when this line is a recurring line of a new
        subscription's quotation (empty otherwise)."""
        self.ensure_one()
        order = self.order_id
        if (
            order.subscription_order_kind != "new"
            or self.subscription_plan_line_id.line_type != "fixed"
        ):
            return self.env["subscription.plan.phase"]
        return order.subscription_plan_id.phase_ids.sorted(
            lambda p: (p.sequence, p.id)
        )[:1]

    def _subscription_standard_price(self):
        """The line's unit price after the phases: the plan line's, through
        the order's pricelist (a float)."""
        self.ensure_one()
        return self.subscription_plan_line_id._get_pricelist_price(
            self.order_id.pricelist_id,
            self.product_uom_qty or 1.0,
            self.order_id.date_order,
            currency=self.currency_id,
        )

    def _get_display_price(self):
        """A recurring line of a plan with phases is priced at its first
        phase's price: 10.00 on the quotation for 50 % of 20.00."""
        price = super()._get_display_price()
        phase = self._subscription_first_phase()
        if not phase:
            return price
        return float(
            phase._price_of(
                price,
                self.currency_id,
                product=self.product_id,
                date=self.order_id.date_order,
            )
        )

    def _prepare_subscription_line_vals(self):
        """The subscription line starts at the quotation's (phase) price and
        keeps the standard price for the end of the phases."""
        vals = super()._prepare_subscription_line_vals()
        if self._subscription_first_phase():
            vals["standard_price_unit"] = self._subscription_standard_price()
        return vals
