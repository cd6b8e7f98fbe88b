# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A price phase of a plan: an introductory price for N billing periods, or
a fixed first term at one price, before the standard price (after the
trial). A phase prices the whole plan as a percentage of its standard
prices: one number covers a plan of one line (10.00 instead of 20.00 is
50 %) as well as a plan of several lines, and the standard price stays the
lines' own (pricelist included)."""

from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import changes as core_changes
from ..core import phases as core
from ..tools import MAX_LINE_VALUE, check_number_values, exact_decimal


class SubscriptionPlanPhase(models.Model):
    _name = "subscription.plan.phase"
    _description = "Subscription Plan Phase"
    _order = "plan_id, sequence, id"

    plan_id = fields.Many2one(
        "subscription.plan", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    duration = fields.Integer(
        string="Billing Periods",
        default=1,
        help="How many billing periods the phase lasts, from the first billed "
        "day (after the trial) or the end of the previous phase.",
    )
    price_percent = fields.Float(
        string="Price (% of Standard)",
        default=100.0,
        digits=(16, 2),
        help="The plan's recurring prices during the phase, as a percentage of "
        "their standard price: 50 bills 10.00 instead of 20.00.",
    )
    recurring_amount = fields.Monetary(
        string="Price per Period",
        compute="_compute_recurring_amount",
        help="The plan's price per period during the phase (its lines, "
        "options excluded).",
    )

    @api.depends("price_percent", "plan_id.line_ids.price_unit")
    def _compute_recurring_amount(self):
        for phase in self:
            quantum = repr(phase.currency_id.rounding or 0.01)
            if not 0 <= phase.price_percent <= core.MAX_PERCENT:
                phase.recurring_amount = 0.0  # refused when saved
                continue
            phase.recurring_amount = float(
                sum(
                    (
                        core_changes.line_amount(
                            repr(line.quantity),
                            phase._price_of(line.price_unit),
                            repr(line.discount),
                            quantum,
                        )
                        for line in phase.plan_id.line_ids
                        if line.line_type == "fixed" and not line.is_optional
                    ),
                    Decimal(0),
                )
            )

    @api.constrains("duration", "price_percent", "plan_id")
    def _check_phase(self):
        for phase in self:
            plan = phase.plan_id
            if phase.duration < 1:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the phase %(phase)s needs a duration of at "
                        "least one billing period.",
                        plan=plan.display_name,
                        phase=phase.name,
                    )
                )
            if not 0 <= phase.price_percent <= core.MAX_PERCENT:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the price of the phase %(phase)s is 0 to "
                        "%(max)s %% of the standard price, not %(percent)s %%.",
                        plan=plan.display_name,
                        phase=phase.name,
                        max=core.MAX_PERCENT,
                        percent=phase.price_percent,
                    )
                )
            if any(
                phase._price_of(line.price_unit) > MAX_LINE_VALUE
                for line in plan.line_ids
            ):
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the phase %(phase)s would price a line "
                        "above %(max)s.",
                        plan=plan.display_name,
                        phase=phase.name,
                        max=f"{MAX_LINE_VALUE:,}",
                    )
                )
            if len(plan.phase_ids) > core.MAX_PHASES:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s has %(count)s phases: a plan has at most "
                        "%(max)s.",
                        plan=plan.display_name,
                        count=len(plan.phase_ids),
                        max=core.MAX_PHASES,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_number_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_number_values(self, vals)
        return super().write(vals)

    def _price_of(self, standard, currency=None):
        """The phase's unit price of a line whose standard price is
        ``standard`` (a float), exact, rounded to the currency."""
        self.ensure_one()
        currency = currency or self.currency_id
        return core.phase_price(
            exact_decimal(standard),
            exact_decimal(self.price_percent),
            repr(currency.rounding or 0.01),
        )
