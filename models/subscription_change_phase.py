# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A phase change: the end of a price phase of the plan (``phase_id``), a
change of the prices scheduled by the subscription on the phase's last
billing period's end. It prices the lines that started in a phase at the
next phase's price (a percentage of their standard price, or its fixed
price), or at the standard price
after the last phase; it is in the history like any change of price, once
per subscription and phase."""

from odoo import fields, models
from odoo.exceptions import UserError

from ..core.rating.base import fmt_money
from ..tools import exact_decimal
from .subscription_change import PHASE, WHOLE


class SubscriptionChange(models.Model):
    _inherit = "subscription.change"

    phase_id = fields.Many2one(
        "subscription.plan.phase",
        string="Phase Ended",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The price phase of the plan this change ends.",
    )

    _one_change_per_phase = models.UniqueIndex(
        "(subscription_id, phase_id) WHERE phase_id IS NOT NULL "
        "AND state != 'cancelled'",
        "This subscription already has the change that ends this phase.",
    )

    def _next_phase(self):
        """The phase after ``phase_id`` (empty after the last one)."""
        self.ensure_one()
        phases = self.phase_id.plan_id.phase_ids.sorted(lambda p: (p.sequence, p.id))
        following = phases.filtered(
            lambda p: (p.sequence, p.id) > (self.phase_id.sequence, self.phase_id.id)
        )
        return following[:1]

    def _phase_price(self, line):
        """The unit price of ``line`` after this phase change (a float)."""
        following = self._next_phase()
        if not following:
            return line.standard_price_unit
        return float(
            following._price_of(
                line.standard_price_unit,
                line.currency_id,
                product=line.product_id,
                date=self.effective_date,
            )
        )

    def _phase_lines(self, day):
        """The lines a phase change prices: recurring, started in a phase."""
        sub = self.subscription_id
        if self.phase_id.plan_id != sub.plan_id:
            return self.env["subscription.line"]
        return sub.line_ids.filtered(
            lambda line: (
                line._is_active_on(day)
                and line.line_type == "fixed"
                and line.standard_price_unit
            )
        )

    # ------------------------------------------------------------------
    # The change engine's steps, for a phase change
    # ------------------------------------------------------------------

    def _check_values(self):
        if not self.phase_id:
            return super()._check_values()
        if self.operation != "change_price" or (
            self.phase_id.plan_id != self.subscription_id.plan_id
        ):
            raise UserError(
                self.env._(
                    "The phase %(phase)s is not a phase of the plan of subscription "
                    "%(sub)s.",
                    phase=self.phase_id.name,
                    sub=self.subscription_id.display_name,
                )
            )
        return None

    def _default_policy(self):
        if self.phase_id:
            return "immediate"
        return super()._default_policy()

    def _target(self):
        if self.phase_id:
            return PHASE
        return super()._target()

    def _describe(self):
        if not self.phase_id:
            return super()._describe()
        following = self._next_phase()
        lines = self._phase_lines(self.effective_date)
        new = following.name if following else self.env._("standard price")
        if len(lines) == 1:
            new = self.env._(
                "%(name)s, %(price)s",
                name=new,
                price=fmt_money(exact_decimal(self._phase_price(lines))),
            )
        return self.env._(
            "End of the phase %(phase)s → %(next)s", phase=self.phase_id.name, next=new
        )

    def _line_effect(self, day):
        if not self.phase_id:
            return super()._line_effect(day)
        lines = self._phase_lines(day)
        return (
            lines,
            [
                line._prepare_copy_vals(price_unit=self._phase_price(line))
                for line in lines
            ],
            self.subscription_id.plan_id,
        )

    def _check_conflicts(self):
        """A phase change, scheduled by the subscription, steps aside for the
        changes asked meanwhile; only a change of the whole subscription on
        its very day conflicts."""
        if not self.phase_id:
            return super()._check_conflicts()
        other = self.search(
            [
                ("subscription_id", "=", self.subscription_id.id),
                ("state", "!=", "cancelled"),
                ("effective_date", "=", self.effective_date),
                ("target", "in", (WHOLE, PHASE)),
            ],
            limit=1,
        )
        if other:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s already has a change on %(date)s, the end "
                    "of the phase %(phase)s: %(change)s. Cancel it first, or "
                    "choose another day for it.",
                    sub=self.subscription_id.display_name,
                    date=self.effective_date,
                    phase=self.phase_id.name,
                    change=other.name,
                )
            )
        return None

    def _apply_one(self, effect=None):
        sub = self.subscription_id
        if (
            self.phase_id
            and self.state == "scheduled"
            and self.phase_id.plan_id != sub.plan_id
        ):
            # The plan changed meanwhile: its phases are not this one's.
            self._as_engine().state = "cancelled"
            sub.message_post(
                body=self.env._(
                    "Scheduled change cancelled: %(change)s (the plan changed).",
                    change=self.name,
                )
            )
            return None
        result = super()._apply_one(effect)
        if self.phase_id and self.state == "applied":
            self.subscription_id._schedule_phase_changes()
        return result
