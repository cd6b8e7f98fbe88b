# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The quotation of a plan with price phases says what follows the first
phase: "Introductory until Mar 31, 2026, then $ 20.00 per month from Apr 1,
2026" (below the recurring amount, and on the customer's page)."""

from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import formatLang

from ..core import changes as core_changes
from ..core.periods import ONE_DAY
from ..tools import exact_decimal, format_day


class SaleOrder(models.Model):
    _inherit = "sale.order"

    subscription_phase_note = fields.Char(
        string="After the First Phase",
        compute="_compute_subscription_phase_note",
        help="The recurring price after the plan's first phase, and from when.",
    )

    @api.depends(
        "subscription_plan_id.phase_ids",
        "subscription_start_date",
        "order_line.price_subtotal",
        "order_line.product_uom_qty",
    )
    @api.depends_context("lang")
    def _compute_subscription_phase_note(self):
        for order in self:
            order.subscription_phase_note = order._subscription_phase_text()

    def _subscription_phase_text(self):
        """What follows the first phase, in the context's language; ``""``
        without a phase."""
        self.ensure_one()
        lines = self.order_line.filtered(
            lambda line: not line.display_type and line._subscription_first_phase()
        )
        if not lines:
            return ""
        first = lines[0]._subscription_first_phase()
        plan = self.subscription_plan_id
        start = self.subscription_start_date or fields.Date.context_today(self)
        draft = self.env["subscription.subscription"].new(
            {"plan_id": plan.id, "date_start": start, "company_id": self.company_id.id}
        )
        bounds = plan._phase_boundaries(draft._get_schedule(open_ended=True))
        if not bounds:
            return ""
        day = bounds[0][1]
        following = bounds[1][0] if len(bounds) > 1 else None
        quantum = repr(self.currency_id.rounding or 0.01)
        total = Decimal(0)
        for line in lines:
            standard = line._subscription_standard_price()
            price = (
                following._price_of(
                    standard, self.currency_id, product=line.product_id, date=day
                )
                if following
                else exact_decimal(standard)
            )
            total += core_changes.line_amount(
                repr(line.product_uom_qty), price, repr(line.discount or 0.0), quantum
            )
        return self.env._(
            "%(phase)s until %(end)s, then %(amount)s %(period)s from %(date)s",
            phase=first.name,
            end=format_day(self.env, day - ONE_DAY),
            amount=formatLang(self.env, float(total), currency_obj=self.currency_id),
            period=plan._get_period_phrase(),
            date=format_day(self.env, day),
        )
