# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A subscription in the price phases of its plan: it starts at the first
phase's prices, and schedules the change that ends the running phase, one at
a time, on the first day after its last billing period (the billing run
applies it before invoicing that day). The form and the portal show the
running phase, its last day and the price after."""

from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import formatLang

from ..const import BILLABLE_STATES
from ..core import changes as core_changes
from ..core.periods import ONE_DAY
from ..tools import format_day


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    phase_id = fields.Many2one(
        "subscription.plan.phase",
        string="Current Phase",
        compute="_compute_phase",
        help="The price phase of the plan the subscription is in.",
    )
    phase_end_date = fields.Date(
        string="Phase Until",
        compute="_compute_phase",
        help="Last day of the current phase's price.",
    )
    phase_next_amount = fields.Monetary(
        string="Price After the Phase",
        compute="_compute_phase",
        help="The price per period from the day after the phase.",
    )

    @api.depends("change_ids.state", "change_ids.phase_id", "line_ids.price_unit")
    def _compute_phase(self):
        for sub in self:
            change = sub._next_phase_change()
            sub.phase_id = change.phase_id
            sub.phase_end_date = change.effective_date - ONE_DAY if change else False
            sub.phase_next_amount = float(sub._amount_after(change)) if change else 0.0

    def _next_phase_change(self):
        self.ensure_one()
        return self.change_ids.filtered(
            lambda c: c.phase_id and c.state == "scheduled"
        ).sorted("effective_date")[:1]

    def _amount_after(self, change):
        """The price per period from ``change`` on (its lines' amounts)."""
        day = change.effective_date
        ended, created, __ = change._line_effect(day)
        quantum = repr(self.currency_id.rounding or 0.01)
        kept = self._lines_on(day) - ended
        return sum(
            (
                core_changes.line_amount(
                    repr(vals.get("quantity", 1.0)),
                    repr(vals.get("price_unit", 0.0)),
                    repr(vals.get("discount", 0.0)),
                    quantum,
                )
                for vals in created
            ),
            Decimal(repr(sum(kept.mapped("price_subtotal")))),
        )

    def _portal_phase(self):
        """What the portal says of the running phase, in the customer's
        words: "Introductory until Mar 31, 2026, then $ 20.00 per month";
        empty outside a phase."""
        self.ensure_one()
        if not self.phase_end_date:
            return ""
        return self.env._(
            "%(phase)s until %(date)s, then %(amount)s %(period)s",
            phase=self.phase_id.name,
            date=format_day(self.env, self.phase_end_date),
            amount=formatLang(
                self.env, self.phase_next_amount, currency_obj=self.currency_id
            ),
            period=self.plan_id._get_period_phrase(),
        )

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------

    def action_start(self):
        """Subscriptions of a plan with phases start at the first phase's
        prices, and schedule the end of the phase."""
        for sub in self.filtered(lambda s: s.state == "draft"):
            sub._price_first_phase()
        result = super().action_start()
        self._schedule_phase_changes()
        return result

    def _price_first_phase(self):
        self.ensure_one()
        phase = self.plan_id.phase_ids.sorted(lambda p: (p.sequence, p.id))[:1]
        if not phase:
            return
        for line in self.line_ids.filtered(
            lambda line: line.line_type == "fixed" and not line.standard_price_unit
        ):
            # A line sold on a quotation has its phase price already (the
            # quotation showed it) and its standard price.
            line._as_engine().write(
                {
                    "standard_price_unit": line.price_unit,
                    "price_unit": float(
                        phase._price_of(
                            line.price_unit,
                            self.currency_id,
                            product=line.product_id,
                            date=self.date_start,
                        )
                    ),
                }
            )

    def _schedule_phase_changes(self):
        """Schedule the change that ends the running phase (once per phase),
        on the first day after its billing periods; none past the end date."""
        Change = self.env["subscription.change"]
        for sub in self:
            if sub.state not in BILLABLE_STATES or not sub.plan_id.phase_ids:
                continue
            if not sub.line_ids.filtered("standard_price_unit"):
                continue  # started before the plan had phases
            changes = sub.change_ids.filtered(
                lambda c: c.phase_id and c.state != "cancelled"
            )
            if changes.filtered(lambda c: c.state == "scheduled"):
                continue
            bounds = sub.plan_id._phase_boundaries(sub._get_schedule(open_ended=True))
            done = changes.phase_id
            index = 1 + max(
                (i for i, (phase, __) in enumerate(bounds) if phase in done),
                default=-1,
            )
            if index >= len(bounds):
                continue
            phase, day = bounds[index]
            if sub.date_end and day > sub.date_end:
                continue
            Change._request(
                sub,
                {
                    "operation": "change_price",
                    "phase_id": phase.id,
                    "policy": "immediate",
                    "date": day,
                },
            )

    def _schedule_cancellation(self, change):
        """A cancellation also cancels the phase changes after the last day."""
        result = super()._schedule_cancellation(change)
        later = self.change_ids.filtered(
            lambda c: (
                c.state == "scheduled"
                and c.phase_id
                and self.date_end
                and c.effective_date > self.date_end
            )
        )
        later._as_engine().state = "cancelled"
        return result

    def _undo_cancellation(self, change):
        result = super()._undo_cancellation(change)
        self._schedule_phase_changes()
        return result
