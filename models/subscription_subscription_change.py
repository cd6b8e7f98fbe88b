# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The change API of a subscription (``change_plan`` ... ``reactivate``, over
the external API, the wizard and the portal), what an applied change does to
the subscription, the scheduling of a cancellation and of the renewal
indexation, and the other events of its life that the billing run processes
first: trial ends (reminder, conversion, expiry) and renewal reminders. The
change itself (proration, documents) is ``subscription.change``'s."""

import math
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import formatLang

from ..const import (
    BILLABLE_STATES,
    CHANGE_DATE_MAX,
    CHANGE_DATE_MIN,
    CHANGE_POLICIES,
    OPERATIONS,
)
from ..core import periods
from ..core.periods import ONE_DAY
from ..tools import MAX_LINE_VALUE


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    # ------------------------------------------------------------------
    # Actions: the change wizard
    # ------------------------------------------------------------------

    def action_view_changes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_change_action"
        )
        action["domain"] = [("subscription_id", "=", self.id)]
        action["context"] = {"search_default_scheduled": 1}
        return action

    has_plan_options = fields.Boolean(
        compute="_compute_has_options",
        help="The plan offers options (optional lines) to add.",
    )
    has_option_lines = fields.Boolean(
        compute="_compute_has_options",
        help="The subscription has running options to remove.",
    )

    @api.depends(
        "plan_id.line_ids.is_optional",
        "line_ids.plan_line_id.is_optional",
        "line_ids.date_end",
    )
    def _compute_has_options(self):
        for sub in self:
            sub.has_plan_options = bool(sub.plan_id.line_ids.filtered("is_optional"))
            sub.has_option_lines = bool(sub._running_option_lines())

    def _running_option_lines(self):
        """The option lines the Remove an Option wizard offers."""
        self.ensure_one()
        return self.line_ids.filtered(
            lambda line: (
                line.plan_line_id.is_optional
                and line.line_type == "fixed"
                and not line.date_end
            )
        )

    def _change_wizard_titles(self):
        """The title of the change wizard of each operation (what it does)."""
        return {
            "change_plan": self.env._("Change the Plan"),
            "change_quantity": self.env._("Change a Quantity"),
            "add_option": self.env._("Add an Option"),
            "remove_option": self.env._("Remove an Option"),
            "change_price": self.env._("Change a Price"),
            "pause": self.env._("Pause the Subscription"),
            "resume": self.env._("Resume the Subscription"),
            "cancel": self.env._("Cancel the Subscription"),
            "reactivate": self.env._("Reactivate the Subscription"),
        }

    def _action_change_wizard(self, operation):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self._change_wizard_titles()[operation],
            "res_model": "subscription.change.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_subscription_id": self.id,
                "default_operation": operation,
            },
        }

    def action_change_plan(self):
        return self._action_change_wizard("change_plan")

    def action_change_quantity(self):
        return self._action_change_wizard("change_quantity")

    def action_add_option(self):
        self.ensure_one()
        if not self.has_plan_options:
            raise UserError(
                self.env._(
                    "The plan %(plan)s offers no options: mark lines of the plan "
                    "as Optional to offer them as options.",
                    plan=self.plan_id.display_name,
                )
            )
        return self._action_change_wizard("add_option")

    def action_remove_option(self):
        self.ensure_one()
        if not self.has_option_lines:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s has no option to remove.",
                    sub=self.display_name,
                )
            )
        return self._action_change_wizard("remove_option")

    def action_change_price(self):
        return self._action_change_wizard("change_price")

    def action_pause(self):
        return self._action_change_wizard("pause")

    def action_resume(self):
        return self._action_change_wizard("resume")

    def action_cancel_subscription(self):
        return self._action_change_wizard("cancel")

    def action_reactivate(self):
        return self._action_change_wizard("reactivate")

    # ------------------------------------------------------------------
    # Changes (public API: each method can be called over the external API)
    # ------------------------------------------------------------------

    def _change(self, operation, values, simulate=False):
        """Request a change; return a summary (JSON-friendly)."""
        self._ensure_one_subscription()
        self.check_access("write")
        if not isinstance(simulate, bool):
            raise UserError(self.env._("simulate must be true or false."))
        values = self._clean_change_values(operation, values)
        if not simulate:
            self._lock_for_billing()
        change, effect = self.env["subscription.change"]._request(
            self, {"operation": operation, **values}, simulate=simulate
        )
        return self._change_summary(change, effect)

    def _clean_change_values(self, operation, values):
        """The values of a change request (from the API, the wizard or the
        portal) checked for their type and range: a ``UserError`` that names
        the value otherwise, never a raw ``ValueError`` or ``OverflowError``."""
        if operation not in dict(OPERATIONS):
            raise UserError(
                self.env._(
                    "Unknown change %(operation)r: use one of %(operations)s.",
                    operation=operation,
                    operations=", ".join(dict(OPERATIONS)),
                )
            )
        cleaned = dict(values)
        for name, value in values.items():
            if value is None or value is False:
                continue
            if name in ("date", "resume_date"):
                cleaned[name] = self._clean_change_date(name, value)
            elif name in ("quantity", "price_unit"):
                cleaned[name] = self._clean_change_number(name, value)
            elif name in ("line_id", "plan_line_id", "new_plan_id", "close_reason_id"):
                if isinstance(value, models.BaseModel) and len(value) == 1:
                    cleaned[name] = value.id
                elif not isinstance(value, int) or isinstance(value, bool):
                    raise UserError(
                        self.env._(
                            "%(name)s must be the id of a record (a whole number), "
                            "not %(value)r.",
                            name=name,
                            value=value,
                        )
                    )
            elif name == "policy" and (
                not isinstance(value, str) or value not in dict(CHANGE_POLICIES)
            ):
                raise UserError(
                    self.env._(
                        "Unknown policy %(policy)r: use %(policies)s.",
                        policy=value,
                        policies=" or ".join(dict(CHANGE_POLICIES)),
                    )
                )
            elif name == "bill_during_pause" and not isinstance(value, bool):
                raise UserError(self.env._("bill_during_pause must be true or false."))
        return cleaned

    def _clean_change_date(self, name, value):
        try:
            day = fields.Date.to_date(value)
        except (TypeError, ValueError):
            day = None
        if isinstance(value, datetime) or not day:
            raise UserError(
                self.env._(
                    "%(name)s: %(value)r is not a date (write it as YYYY-MM-DD, "
                    "for instance 2026-02-28).",
                    name=name,
                    value=value,
                )
            )
        if not CHANGE_DATE_MIN <= day <= CHANGE_DATE_MAX:
            raise UserError(
                self.env._(
                    "%(name)s: %(date)s is outside the dates billing handles "
                    "(%(min)s to %(max)s).",
                    name=name,
                    date=day,
                    min=CHANGE_DATE_MIN,
                    max=CHANGE_DATE_MAX,
                )
            )
        return day

    def _clean_change_number(self, name, value):
        number = None
        if not isinstance(value, bool) and isinstance(value, int | float | str):
            try:
                number = float(value)
            except (ValueError, OverflowError):
                number = None
        if number is None or not math.isfinite(number):
            raise UserError(
                self.env._(
                    "%(name)s: %(value)r is not a number.", name=name, value=value
                )
            )
        if not 0 <= number <= MAX_LINE_VALUE:
            raise UserError(
                self.env._(
                    "%(name)s must be between 0 and %(max)s (got %(value)s).",
                    name=name,
                    max=formatLang(self.env, MAX_LINE_VALUE, digits=0),
                    value=value,
                )
            )
        return number

    def _change_summary(self, change, effect):
        return {
            "change_id": change.id if isinstance(change.id, int) else False,
            "name": change.name,
            "state": change.state,
            "policy": change.policy,
            "effective_date": fields.Date.to_string(change.effective_date),
            "mrr_before": float(effect["mrr_before"]),
            "mrr_after": float(effect["mrr_after"]),
            "credit": float(effect["credit"]),
            "charge": float(effect["charge"]),
            "fee": float(effect["fee"]),
            "net": float(effect["net"]),
            "lines": [
                {
                    "description": line["name"],
                    "quantity": line["quantity"],
                    "price_unit": line["price_unit"],
                }
                for line in effect["lines"]
            ],
            "document_id": change.move_id.id or False,
            "document_type": change.move_id.move_type or False,
            "proration_state": change.proration_state or False,
        }

    def change_plan(self, plan_id, date=None, policy=None, simulate=False):
        """Move to another plan (upgrade, downgrade, another period)."""
        return self._change(
            "change_plan",
            {"new_plan_id": plan_id, "date": date, "policy": policy},
            simulate,
        )

    def change_quantity(
        self, line_id, quantity, date=None, policy=None, simulate=False
    ):
        """Change the quantity (seats) of a recurring line."""
        return self._change(
            "change_quantity",
            {"line_id": line_id, "quantity": quantity, "date": date, "policy": policy},
            simulate,
        )

    def change_price(self, line_id, price_unit, date=None, policy=None, simulate=False):
        """Change the unit price of a recurring line."""
        return self._change(
            "change_price",
            {
                "line_id": line_id,
                "price_unit": price_unit,
                "date": date,
                "policy": policy,
            },
            simulate,
        )

    def add_option(
        self, plan_line_id, quantity=1.0, date=None, policy=None, simulate=False
    ):
        """Add a paid option of the plan (or more of it)."""
        return self._change(
            "add_option",
            {
                "plan_line_id": plan_line_id,
                "quantity": quantity,
                "date": date,
                "policy": policy,
            },
            simulate,
        )

    def remove_option(self, line_id, date=None, policy=None, simulate=False):
        """Remove an option line."""
        return self._change(
            "remove_option",
            {"line_id": line_id, "date": date, "policy": policy},
            simulate,
        )

    def pause(
        self, date=None, resume_date=None, bill_during_pause=None, simulate=False
    ):
        """Pause; ``bill_during_pause`` defaults to the plan's setting."""
        if bill_during_pause is None:
            bill_during_pause = self.plan_id.pause_billing
        return self._change(
            "pause",
            {
                "date": date,
                "resume_date": resume_date,
                "bill_during_pause": bill_during_pause,
            },
            simulate,
        )

    def resume(self, date=None, simulate=False):
        """Resume a paused subscription."""
        return self._change("resume", {"date": date}, simulate)

    def cancel(self, date=None, policy=None, reason_id=None, simulate=False):
        """Cancel at the end of the period or immediately (plan's policy)."""
        return self._change(
            "cancel",
            {"date": date, "policy": policy, "close_reason_id": reason_id},
            simulate,
        )

    def reactivate(self, date=None, simulate=False):
        """Undo a cancellation before its end, or reopen a closed subscription."""
        return self._change("reactivate", {"date": date}, simulate)

    # ------------------------------------------------------------------
    # Changes: what the engine does to the subscription
    # ------------------------------------------------------------------

    def _apply_state_change(self, change):
        """The subscription's side of an applied change."""
        self.ensure_one()
        op = change.operation
        if op == "pause":
            self._as_engine().state = "paused"
            if change.resume_date:
                self.env["subscription.change"]._request(
                    self, {"operation": "resume", "date": change.resume_date}
                )
        elif op == "resume":
            self._as_engine().state = "active"
        elif op == "reactivate":
            pending = self._pending_cancellation()
            if pending:
                pending.state = "cancelled"
                self._undo_cancellation(pending)
            else:
                cancellation = self.env["subscription.change"].search(
                    [
                        ("subscription_id", "=", self.id),
                        ("operation", "=", "cancel"),
                        ("state", "=", "applied"),
                    ],
                    order="effective_date desc, id desc",
                    limit=1,
                )
                self._undo_cancellation(cancellation)
            self._as_engine().state = "active"

    def _schedule_cancellation(self, change):
        """Set the last day of service as soon as a cancellation is asked."""
        self.ensure_one()
        last_day = change.effective_date - ONE_DAY
        self._as_engine().write(
            {"date_end": last_day, "close_reason_id": change.close_reason_id.id}
        )
        later = self.change_ids.filtered(
            lambda c: c.state == "scheduled" and c.is_indexation
        )
        later.state = "cancelled"
        self._update_next_invoice_date()

    def _undo_cancellation(self, change):
        self.ensure_one()
        self._as_engine().write(
            {"date_end": change.previous_date_end, "close_reason_id": False}
        )
        self._update_next_invoice_date()
        self._schedule_indexation()

    def _pending_cancellation(self):
        self.ensure_one()
        return self.change_ids.filtered(
            lambda c: c.operation == "cancel" and c.state == "scheduled"
        )[:1]

    def _last_invoiced_period(self):
        """The last invoiced service period (a change cannot go before it)."""
        self.ensure_one()
        return self.env["subscription.period"].search(
            [("subscription_id", "=", self.id), ("kind", "=", "service")],
            order="period_start desc",
            limit=1,
        )

    def _invoice_covering(self, day):
        """The posted invoice of the service period containing ``day``."""
        self.ensure_one()
        period = self.env["subscription.period"].search(
            [
                ("subscription_id", "=", self.id),
                ("kind", "=", "service"),
                ("period_start", "<=", day),
                ("period_end", ">=", day),
                ("invoice_id", "!=", False),
            ],
            limit=1,
        )
        move = period.invoice_id
        return move if move.state == "posted" else self.env["account.move"]

    def _term_end_on_or_after(self, day):
        """Last day of the term running on ``day``: the end date, or for a
        fixed term that renews, the end of the renewal covering ``day``;
        ``day`` itself when the subscription has no end date or ``day`` falls
        within the current term."""
        self.ensure_one()
        end = self.date_end
        if not end or day <= end:
            return day
        plan = self.plan_id
        if not self._renews():
            return end
        while end < day:
            end = (
                periods.add_interval(end + ONE_DAY, plan.term_interval, plan.term_unit)
                - ONE_DAY
            )
        return end

    def _schedule_indexation(self, after=None):
        """Plan the renewal price indexation of fixed terms (visible, cancellable)."""
        Change = self.env["subscription.change"]
        for sub in self:
            plan = sub.plan_id
            if (
                not plan.renewal_increase_percent
                or not sub._renews()
                or not sub.date_end
                or sub.state not in BILLABLE_STATES
                or sub.change_ids.filtered(
                    lambda c: c.is_indexation and c.state == "scheduled"
                )
            ):
                continue
            day = after or sub.date_end + ONE_DAY
            Change._request(
                sub,
                {
                    "operation": "change_price",
                    "is_indexation": True,
                    "policy": "immediate",
                    "date": day,
                },
            )

    # ------------------------------------------------------------------
    # Lifecycle: trial ends and renewal reminders (first step of a billing
    # run, see ``_run_billing``)
    # ------------------------------------------------------------------

    def _process_trials(self, today):
        """Trial reminders, conversions and expiries due by ``today``."""
        [(horizon,)] = (
            self.env["subscription.plan"]
            .with_context(active_test=False)
            ._read_group([], aggregates=["trial_reminder_days:max"])
        )
        horizon = horizon or 0
        trials = self.search(
            [
                ("state", "=", "trial"),
                ("trial_end_date", "<=", today + timedelta(days=horizon)),
            ]
        )
        template = self.env.ref(
            "subscription_billing.mail_template_trial_ending", raise_if_not_found=False
        )
        for sub in trials:
            days = sub.plan_id.trial_reminder_days
            if (
                template
                and days
                and not sub.trial_reminder_sent
                and today <= sub.trial_end_date <= today + timedelta(days=days)
            ):
                sub.message_post_with_source(template, subtype_xmlid="mail.mt_comment")
                sub.trial_reminder_sent = True
        ended = trials.filtered(lambda s: s.trial_end_date < today)
        unconfirmed = ended.filtered(
            lambda s: s.plan_id.trial_conversion == "manual" and not s.trial_converted
        )
        unconfirmed._expire_trial()
        (ended - unconfirmed)._activate_after_trial()

    @api.model
    def _process_renewal_reminders(self, today):
        """Tell customers of fixed terms that renew soon (plan's reminder
        days before the end), once per term."""
        [(horizon,)] = (
            self.env["subscription.plan"]
            .with_context(active_test=False)
            ._read_group([], aggregates=["renewal_reminder_days:max"])
        )
        if not horizon:
            return
        subs = self.search(
            [
                ("state", "in", ("active", "paused")),
                ("date_end", ">=", today),
                ("date_end", "<=", today + timedelta(days=horizon)),
                ("close_reason_id", "=", False),
            ]
        ).filtered(
            lambda s: (
                s._renews()
                and s.plan_id.renewal_reminder_days
                and s.renewal_reminder_sent_for != s.date_end
                and s.date_end
                <= today + timedelta(days=s.plan_id.renewal_reminder_days)
            )
        )
        for sub in subs:
            sub._send_template("subscription_billing.mail_template_renewal_upcoming")
            sub.renewal_reminder_sent_for = sub.date_end

    @api.model
    def _next_renewal_date(self):
        self.ensure_one()
        return self.date_end and self.date_end + ONE_DAY
