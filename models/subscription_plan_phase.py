# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A price phase of a plan: an introductory price for N billing periods, or
a fixed first term at one price, before the standard price (after the
trial). A phase prices the plan either as a percentage of its standard
prices (one number covers a plan of one line, 10.00 instead of 20.00 is
50 %, as well as a plan of several lines, and the standard price stays the
lines' own, pricelist included), or at an exact fixed price: the unit price
of the plan's one recurring line during the phase ("9.99 per month for 3
months" on a 19.99 plan). A fixed price is exact only for one line, so a
plan with a fixed-price phase has exactly one recurring line; the lines of
other products keep their standard price."""

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
    price_mode = fields.Selection(
        [("percent", "Percentage"), ("fixed", "Fixed price")],
        required=True,
        default="percent",
        help="Percentage: the plan's recurring prices times the percentage of "
        "the standard price. "
        "Fixed price: the unit price of the plan's recurring line during the "
        "phase (plans of one recurring line).",
    )
    fixed_price = fields.Monetary(
        string="Fixed Unit Price",
        help="The unit price of the plan's recurring line during the phase, "
        "in the plan's currency: 9.99 bills 9.99 per period instead of 19.99.",
    )
    recurring_amount = fields.Monetary(
        string="Price per Period",
        compute="_compute_recurring_amount",
        help="The plan's price per period during the phase (its lines, "
        "options excluded).",
    )

    @api.depends(
        "price_percent",
        "price_mode",
        "fixed_price",
        "plan_id.line_ids.price_unit",
        "plan_id.line_ids.quantity",
    )
    def _compute_recurring_amount(self):
        for phase in self:
            quantum = repr(phase.currency_id.rounding or 0.01)
            if phase._price_error():
                phase.recurring_amount = 0.0  # refused when saved
                continue
            phase.recurring_amount = float(
                sum(
                    (
                        core_changes.line_amount(
                            repr(line.quantity),
                            phase._price_of(line.price_unit, product=line.product_id),
                            repr(line.discount),
                            quantum,
                        )
                        for line in phase.plan_id.line_ids
                        if line.line_type == "fixed" and not line.is_optional
                    ),
                    Decimal(0),
                )
            )

    @api.constrains("duration", "price_percent", "price_mode", "fixed_price", "plan_id")
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
            error = phase._price_error()
            if error:
                raise ValidationError(error)
            if any(
                phase._price_of(line.price_unit, product=line.product_id)
                > MAX_LINE_VALUE
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

    def _price_error(self):
        """Why the phase's price is refused (a message), or ``""``."""
        self.ensure_one()
        plan = self.plan_id
        if self.price_mode == "fixed":
            if self.fixed_price < 0:
                return self.env._(
                    "Plan %(plan)s: the fixed price of the phase %(phase)s "
                    "cannot be negative (got %(price)s).",
                    plan=plan.display_name,
                    phase=self.name,
                    price=self.fixed_price,
                )
            recurring = plan._phase_recurring_lines()
            if len(recurring) != 1:
                return self.env._(
                    "Plan %(plan)s: the phase %(phase)s has a fixed price, the "
                    "price of the plan's one recurring line; the plan has "
                    "%(count)s. Price the phase as a percentage of the "
                    "standard price, or keep one recurring line.",
                    plan=plan.display_name,
                    phase=self.name,
                    count=len(recurring),
                )
            return ""
        if not 0 <= self.price_percent <= core.MAX_PERCENT:
            return self.env._(
                "Plan %(plan)s: the price of the phase %(phase)s is 0 to "
                "%(max)s %% of the standard price, not %(percent)s %%.",
                plan=plan.display_name,
                phase=self.name,
                max=core.MAX_PERCENT,
                percent=self.price_percent,
            )
        return ""

    def _price_of(self, standard, currency=None, product=None, date=None):
        """The phase's unit price of a line of ``product`` whose standard
        price is ``standard`` (a float), exact, rounded to ``currency``
        (default: the plan's). A fixed price is the plan's recurring line's:
        converted from the plan's currency; the other products keep their
        standard price."""
        self.ensure_one()
        currency = currency or self.currency_id
        quantum = repr(currency.rounding or 0.01)
        if self.price_mode != "fixed":
            return core.phase_price(
                exact_decimal(standard), exact_decimal(self.price_percent), quantum
            )
        main = self.plan_id._phase_recurring_lines()
        if product and main and product != main[:1].product_id:
            return core.phase_price(exact_decimal(standard), 100, quantum)
        fixed = self.fixed_price
        if currency != self.currency_id:
            fixed = self.currency_id._convert(
                fixed,
                currency,
                self.company_id or self.env.company,
                date or fields.Date.context_today(self),
            )
        return core.phase_price(
            exact_decimal(standard),
            None,
            quantum,
            mode=core.FIXED,
            fixed=exact_decimal(fixed),
        )
