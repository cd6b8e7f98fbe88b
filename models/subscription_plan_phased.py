# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The price phases of a plan (``subscription.plan.phase``), in order, and
where they fall on a subscription's billing schedule."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import phases as core


class SubscriptionPlan(models.Model):
    _inherit = "subscription.plan"

    phase_ids = fields.One2many(
        "subscription.plan.phase",
        "plan_id",
        string="Phases",
        copy=True,
        help="Prices before the standard price, one after the other from the "
        "first billed day (after the trial): an introductory price, a first "
        "term at another price.",
    )

    def _phase_boundaries(self, schedule):
        """``[(phase, first day after it)]`` on ``schedule`` (open-ended)."""
        self.ensure_one()
        phases = self.phase_ids.sorted(lambda p: (p.sequence, p.id))
        if not phases or not schedule:
            return []
        days = core.phase_boundaries(schedule, phases.mapped("duration"))
        return list(zip(phases, days, strict=True))

    def _phase_recurring_lines(self):
        """The plan's recurring lines a fixed-price phase prices: its fixed
        lines (options included)."""
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.line_type == "fixed")

    @api.constrains("line_ids", "phase_ids")
    def _check_fixed_price_phases(self):
        """A fixed-price phase prices the plan's one recurring line: a second
        one is refused (the phase would not say its price)."""
        for plan in self:
            for phase in plan.phase_ids.filtered(lambda p: p.price_mode == "fixed"):
                error = phase._price_error()
                if error:
                    raise ValidationError(error)
