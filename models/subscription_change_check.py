# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError

from ..const import OPERATIONS
from ..core import changes as core
from ..core.periods import ONE_DAY
from ..core.rating.base import fmt_units
from ..tools import (
    exact_decimal,
)
from .subscription_change import INDEXATION, PHASE, WHOLE


class SubscriptionChange(models.Model):
    """The checks of a change request: the transition table, the values of
    each operation, the date, a cancellation's notice and commitment, the
    quantity bounds and seats in use, and the conflicts with scheduled
    changes (each raises a ``UserError`` that says what to do)."""

    _inherit = "subscription.change"

    def _check_transition(self, state):
        """Refuse an operation the transition table forbids in ``state``."""
        try:
            core.check_transition(state, self.operation)
        except core.ChangeError as error:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s: %(error)s",
                    sub=self.subscription_id.display_name,
                    error=self._translate_transition(error),
                )
            ) from None

    def _state_for_check(self):
        """The state the transition table sees: a subscription whose
        cancellation is pending counts as closed for a reactivation."""
        sub = self.subscription_id
        if (
            self.operation == "reactivate"
            and sub.state != "closed"
            and sub._pending_cancellation()
        ):
            return "closed"
        return sub.state

    def _translate_transition(self, error):
        """The transition table's reason, in the user's language."""
        reasons = {
            core.NOT_STARTED: self.env._(
                "the subscription is not started: edit it directly"
            ),
            core.IS_CLOSED: self.env._(
                "the subscription is closed: reactivate it first, before its end"
            ),
            core.IS_PAUSED: self.env._("the subscription is paused: resume it first"),
            core.NOT_CLOSED: self.env._("the subscription is not closed"),
            core.NOT_PAUSED: self.env._("the subscription is not paused"),
            core.ALREADY_PAUSED: self.env._("the subscription is already paused"),
            core.IS_SUSPENDED: self.env._(
                "the subscription is suspended for non-payment: it resumes when "
                "its overdue invoices are paid"
            ),
        }
        if error.reason not in reasons:
            return str(error)
        return self.env._(
            "%(operation)s is not possible: %(reason)s.",
            operation=dict(OPERATIONS)[self.operation],
            reason=reasons[error.reason],
        )

    def _check_values(self):  # noqa: C901 - one branch per operation
        sub = self.subscription_id
        op = self.operation
        if op == "change_plan":
            plan = self.new_plan_id
            if not plan:
                raise UserError(self.env._("Choose the new plan."))
            if not plan.active:
                raise UserError(
                    self.env._(
                        "The plan %(plan)s is archived (withdrawn from sale): "
                        "choose a plan in use.",
                        plan=plan.display_name,
                    )
                )
            if plan == sub.plan_id:
                raise UserError(
                    self.env._(
                        "Subscription %(sub)s is already on the plan %(plan)s.",
                        sub=sub.display_name,
                        plan=plan.display_name,
                    )
                )
            if plan.company_id and plan.company_id != sub.company_id:
                raise UserError(
                    self.env._(
                        "The plan %(plan)s belongs to %(company)s, subscription "
                        "%(sub)s to %(sub_company)s: choose a plan of the same "
                        "company.",
                        plan=plan.display_name,
                        company=plan.company_id.display_name,
                        sub=sub.display_name,
                        sub_company=sub.company_id.display_name,
                    )
                )
            # Another currency: the subscription's pricelist prices the plan.
            if plan.currency_id != sub.currency_id and not sub.pricelist_id:
                raise UserError(
                    self.env._(
                        "The plan %(plan)s is priced in %(currency)s, subscription "
                        "%(sub)s is billed in %(sub_currency)s: choose a plan in "
                        "%(sub_currency)s.",
                        plan=plan.display_name,
                        currency=plan.currency_id.name,
                        sub=sub.display_name,
                        sub_currency=sub.currency_id.name,
                    )
                )
            error = plan._currency_error(sub.currency_id, sub.pricelist_id, sub)
            if error:
                raise UserError(error)
            if not plan.line_ids.filtered(lambda line: not line.is_optional):
                raise UserError(
                    self.env._(
                        "The plan %(plan)s has no lines: add its lines first.",
                        plan=plan.display_name,
                    )
                )
        elif self.is_indexation:
            return
        elif op in ("change_quantity", "change_price", "remove_option"):
            line = self.line_id
            if not line or line.subscription_id != sub:
                raise UserError(
                    self.env._(
                        "Choose a line of subscription %(sub)s.", sub=sub.display_name
                    )
                )
            if line.line_type != "fixed":
                raise UserError(
                    self.env._(
                        "The line %(line)s bills usage: its quantity and price come "
                        "from the usage; change its pricing on the plan instead.",
                        line=line.name,
                    )
                )
            if op == "change_quantity" and self.quantity <= 0:
                raise UserError(
                    self.env._(
                        "The new quantity of %(line)s must be positive; to stop an "
                        "option, remove it.",
                        line=line.name,
                    )
                )
            if op == "change_price" and self.price_unit < 0:
                raise UserError(self.env._("A unit price cannot be negative."))
            if op == "remove_option" and (
                line.plan_line_id and not line.plan_line_id.is_optional
            ):
                raise UserError(
                    self.env._(
                        "%(line)s is part of the plan %(plan)s, not an option: "
                        "change the plan or the quantity instead.",
                        line=line.name,
                        plan=sub.plan_id.display_name,
                    )
                )
        elif op == "add_option":
            option = self.plan_line_id
            if not sub.plan_id.line_ids.filtered("is_optional"):
                raise UserError(
                    self.env._(
                        "The plan %(plan)s offers no options: mark lines of the "
                        "plan as Optional to offer them as options.",
                        plan=sub.plan_id.display_name,
                    )
                )
            if not option:
                raise UserError(
                    self.env._(
                        "Choose one of the options of the plan %(plan)s.",
                        plan=sub.plan_id.display_name,
                    )
                )
            if option.plan_id != sub.plan_id or not option.is_optional:
                raise UserError(
                    self.env._(
                        "%(option)s is not an option of the plan %(plan)s.",
                        option=option.display_name,
                        plan=sub.plan_id.display_name,
                    )
                )
            if self.quantity <= 0:
                raise UserError(
                    self.env._("The quantity of an option must be positive.")
                )

    def _check_date(self):
        sub = self.subscription_id
        day = self.effective_date
        if day < sub.date_start:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s starts on %(start)s: a change cannot take "
                    "effect on %(date)s, before it.",
                    sub=sub.display_name,
                    start=sub.date_start,
                    date=day,
                )
            )
        last = sub._last_invoiced_period()
        if last and day < last.period_start:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is invoiced for %(start)s → %(end)s: a "
                    "change cannot take effect on %(date)s, before that period. "
                    "Choose %(start)s or a later day.",
                    sub=sub.display_name,
                    start=last.period_start,
                    end=last.period_end,
                    date=day,
                )
            )
        latest = self.search(
            [
                ("subscription_id", "=", sub.id),
                ("state", "=", "applied"),
                ("effective_date", ">", day),
            ],
            order="effective_date desc",
            limit=1,
        )
        if latest:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s changed on %(last)s (%(change)s): a change "
                    "cannot take effect before it, on %(date)s.",
                    sub=sub.display_name,
                    last=latest.effective_date,
                    change=latest.name,
                    date=day,
                )
            )
        if (
            self.operation != "reactivate"
            and not (self.is_indexation and sub._renews())
            and sub.date_end
            and day > sub.date_end
            # A cancellation takes effect the day after the last day of
            # service: at the end of the term, or of a term it renews for.
            and not (
                self.operation == "cancel"
                and (day == sub.date_end + ONE_DAY or sub._renews())
            )
        ):
            raise UserError(
                self.env._(
                    "Subscription %(sub)s ends on %(end)s: a change cannot take "
                    "effect after, on %(date)s.",
                    sub=sub.display_name,
                    end=sub.date_end,
                    date=day,
                )
            )
        if self.operation == "pause" and self.resume_date and self.resume_date <= day:
            raise UserError(
                self.env._(
                    "The pause starts on %(date)s: it must end after, not on "
                    "%(resume)s.",
                    date=day,
                    resume=self.resume_date,
                )
            )
        if self.operation == "cancel":
            self._check_cancellation()
        if self.operation == "change_quantity":
            self._check_quantity_bounds()
            self._check_seats_in_use()

    def _closes_for_non_payment(self):
        """A cancellation for unpaid invoices (dunning): immediate, without
        notice, commitment, credit, fee or confirmation email."""
        self.ensure_one()
        return self.operation == "cancel" and self.close_reason_id == self.env.ref(
            "subscription_billing.close_reason_unpaid", raise_if_not_found=False
        )

    def _check_cancellation(self):
        if self._closes_for_non_payment():
            return
        sub = self.subscription_id
        last_day = self.effective_date - ONE_DAY
        today = fields.Date.context_today(self)
        notice = sub.plan_id.notice_days
        if notice and last_day < today + timedelta(days=notice):
            raise UserError(
                self.env._(
                    "Subscription %(sub)s needs %(days)s days of notice: its "
                    "earliest last day is %(date)s.",
                    sub=sub.display_name,
                    days=notice,
                    date=today + timedelta(days=notice),
                )
            )
        if (
            sub.commitment_end_date
            and last_day < sub.commitment_end_date
            and sub.plan_id.early_termination == "refuse"
        ):
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is committed until %(until)s: it cannot "
                    "end before.",
                    sub=sub.display_name,
                    until=sub.commitment_end_date,
                )
            )

    def _check_quantity_bounds(self):
        plan_line = self.line_id.plan_line_id
        low, high = plan_line.min_quantity, plan_line.max_quantity
        if self.quantity < low or (high and self.quantity > high):
            raise UserError(
                self.env._(
                    "%(line)s: the quantity must be between %(low)s and %(high)s.",
                    line=self.line_id.name,
                    low=low,
                    high=high,
                )
                if high
                else self.env._(
                    "%(line)s: the quantity must be at least %(low)s.",
                    line=self.line_id.name,
                    low=low,
                )
            )

    def _check_seats_in_use(self):
        line = self.line_id
        if not line.seats_metric_id or self.quantity >= line.quantity:
            return
        in_use = line._seats_in_use(self.effective_date)
        if in_use is not None and exact_decimal(self.quantity) < in_use:
            raise UserError(
                self.env._(
                    "%(line)s: %(used)s seats are in use (%(metric)s); the quantity "
                    "cannot go down to %(quantity)s. Free seats first.",
                    line=line.name,
                    used=fmt_units(in_use),
                    metric=line.seats_metric_id.code,
                    quantity=fmt_units(exact_decimal(self.quantity)),
                )
            )

    def _check_conflicts(self):
        sub = self.subscription_id
        others = self.search(
            [
                ("subscription_id", "=", sub.id),
                ("state", "!=", "cancelled"),
                "|",
                ("effective_date", "=", self.effective_date),
                ("state", "=", "scheduled"),
            ]
        )
        for other in others:
            if other.target in (INDEXATION, PHASE) and self.target != other.target:
                continue
            if self.operation == "reactivate" and other.operation == "cancel":
                continue  # reactivating undoes the pending cancellation
            same_day = other.effective_date == self.effective_date
            if other.target == self.target or (
                same_day and WHOLE in (other.target, self.target)
            ):
                raise UserError(
                    self.env._(
                        "Subscription %(sub)s already has a change %(state)s on "
                        "%(date)s that conflicts with this one: %(change)s. Cancel "
                        "it first, or choose another day.",
                        sub=sub.display_name,
                        state=dict(self._fields["state"].selection)[other.state],
                        date=other.effective_date,
                        change=other.name,
                    )
                )
            if other.state == "scheduled" and WHOLE in (other.target, self.target):
                raise UserError(
                    self.env._(
                        "Subscription %(sub)s has a change scheduled on %(date)s: "
                        "%(change)s. Cancel it before asking for this one.",
                        sub=sub.display_name,
                        date=other.effective_date,
                        change=other.name,
                    )
                )
