# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A billing day of the subscription's own, instead of its plan's alignment."""

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core import periods


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    billing_day = fields.Integer(
        help="Day of the month (1-31, the last day of shorter months) this "
        "customer is billed on, instead of the plan's alignment: the first "
        "period runs to the day before, prorated. Monthly and yearly plans "
        "only; set while the subscription is a draft. Empty: the plan's.",
    )

    @api.constrains("billing_day", "plan_id", "state")
    def _check_billing_day(self):
        for sub in self.filtered("billing_day"):
            if not 1 <= sub.billing_day <= 31:
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s: the billing day must be 1 to 31 "
                        "(got %(day)s), or empty to follow the plan.",
                        sub=sub.display_name,
                        day=sub.billing_day,
                    )
                )
            # Once started, a change to a plan of days or weeks ignores it.
            if sub.state == "draft" and sub.plan_id.billing_unit not in (
                periods.MONTH,
                periods.YEAR,
            ):
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s: a billing day is a day of the "
                        "month; the plan %(plan)s bills by days or weeks. Clear "
                        "the billing day or choose a monthly or yearly plan.",
                        sub=sub.display_name,
                        plan=sub.plan_id.display_name,
                    )
                )

    def write(self, vals):
        if "billing_day" in vals and not self._is_engine():
            started = self.filtered(
                lambda s: s.state != "draft" and s.billing_day != vals["billing_day"]
            )
            if started:
                raise UserError(
                    self.env._(
                        "The billing day of %(subs)s cannot change once started: "
                        "the periods already invoiced follow it.",
                        subs=", ".join(started.mapped("display_name")),
                    )
                )
        return super().write(vals)

    def _get_schedule(self, end=None, open_ended=False, plan=None):
        """The plan's schedule, calendar-aligned on the subscription's billing
        day when it has one (``periods.billing_day_alignment``)."""
        schedule = super()._get_schedule(end=end, open_ended=open_ended, plan=plan)
        if not schedule or not self.billing_day:
            return schedule
        plan = plan or self.plan_id
        alignment, day, month = periods.billing_day_alignment(
            schedule.recurrence,
            schedule.start,
            self.billing_day,
            plan.alignment,
            plan.alignment_month,
        )
        return periods.Schedule.build(
            schedule.recurrence,
            schedule.start,
            schedule.end,
            alignment=alignment,
            day=day or plan.alignment_day,
            month=month,
        )
