# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import dunning as core


class SubscriptionDunningPolicy(models.Model):
    _name = "subscription.dunning.policy"
    _description = "Dunning Policy"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", help="Empty: the policy can be used by every company."
    )
    step_ids = fields.One2many(
        "subscription.dunning.step", "policy_id", string="Steps", copy=True
    )
    calendar_id = fields.Many2one(
        "resource.calendar",
        string="Retry on Working Days of",
        company_dependent=True,
        check_company=True,
        help="Payment retries falling on a day off of this calendar (weekend "
        "or public holiday) move to its next working day. Empty: retries run "
        "on their day, whatever it is. Set per company: a policy shared by "
        "all companies has each company's own calendar.",
    )
    note = fields.Html(translate=True)
    step_count = fields.Integer(compute="_compute_step_count")

    @api.depends("step_ids")
    def _compute_step_count(self):
        for policy in self:
            policy.step_count = len(policy.step_ids)

    def write(self, vals):
        return super(
            SubscriptionDunningPolicy, self.with_context(dunning_policy_write=True)
        ).write(vals)

    @api.constrains("step_ids")
    def _check_steps(self):
        for policy in self:
            try:
                core.check_steps(policy._core_steps())
            except core.DunningError as error:
                raise ValidationError(policy._explain(error)) from error

    def _explain(self, error):
        self.ensure_one()
        step = error.step and self.step_ids.browse(error.step.key)
        reasons = {
            core.NO_STEPS: self.env._("add at least one step"),
            core.NEGATIVE_DAY: self.env._(
                "the step “%(step)s” has a negative day",
                step=step and step.display_name,
            ),
            core.OUT_OF_ORDER: self.env._(
                "the step “%(step)s” (day %(day)s) comes after a later day: "
                "order the steps by their day",
                step=step and step.display_name,
                day=step and step.day,
            ),
            core.NO_FINAL: self.env._(
                "the last step must be a final outcome: close the subscription, "
                "or create an activity to hand the invoice over to a person"
            ),
            core.AFTER_FINAL: self.env._(
                "the step “%(step)s” comes after the closing step: closing must "
                "be the last step",
                step=step and step.display_name,
            ),
        }
        return self.env._(
            "Dunning policy %(policy)s cannot run: %(reason)s.",
            policy=self.display_name,
            reason=reasons[error.reason],
        )

    def _core_steps(self):
        """The steps in their order, for :mod:`core.dunning`."""
        self.ensure_one()
        return [
            core.Step(step.id, step.day, step.action)
            for step in self.step_ids.sorted(lambda s: (s.sequence, s.id))
        ]

    def _working_day_function(self, start, company, days=120):
        """``is_working_day(date)`` of ``company``'s calendar over ``days``
        from ``start`` (weekdays it works and its public holidays), or
        ``None``."""
        self.ensure_one()
        calendar = self.with_company(company).calendar_id
        if not calendar:
            return None
        weekdays = {int(day) for day in calendar.attendance_ids.mapped("dayofweek")}
        end = start + timedelta(days=days)
        leaves = self.env["resource.calendar.leaves"].search(
            [
                ("resource_id", "=", False),
                ("calendar_id", "in", [calendar.id, False]),
                ("company_id", "in", [calendar.company_id.id, False]),
                ("date_from", "<=", fields.Datetime.to_datetime(end)),
                ("date_to", ">=", fields.Datetime.to_datetime(start)),
            ]
        )
        holidays = set()
        for leave in leaves:
            day = leave.date_from.date()
            while day <= leave.date_to.date():
                holidays.add(day)
                day += timedelta(days=1)

        def is_working_day(day):
            return day.weekday() in weekdays and day not in holidays

        return is_working_day

    @api.model
    def _get_default(self, company=None):
        """The company's default policy (Settings), else the shipped default,
        else the first one of the company."""
        configured = (company or self.env.company).subscription_dunning_policy_id
        if configured.active:
            return configured
        default = self.env.ref(
            "subscription_billing.dunning_policy_default", raise_if_not_found=False
        )
        if default and default.active:
            return default
        company = company or self.env.company
        return self.search(
            [("company_id", "in", [company.id, False])], order="sequence, id", limit=1
        )
