# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..const import CHANGE_POLICIES, INVOICE_CREATE_CONTEXT, OPERATIONS
from ..core import changes as core
from ..core import periods
from ..core.periods import ONE_DAY
from ..core.rating.base import fmt_money, fmt_units
from ..tools import (
    claim_ids,
    claimed_batches,
    exact_decimal,
    for_each_isolated,
    format_day,
)

# Changes on one line may share a day with changes on other lines; the
# others concern the whole subscription and stand alone on their day.
LINE_OPERATIONS = ("change_quantity", "add_option", "remove_option", "change_price")
WHOLE = "subscription"
INDEXATION = "indexation"
# What a request may set (the rest is computed).
REQUEST_FIELDS = (
    "operation",
    "request_date",
    "policy",
    "new_plan_id",
    "line_id",
    "plan_line_id",
    "quantity",
    "price_unit",
    "bill_during_pause",
    "resume_date",
    "close_reason_id",
    "is_indexation",
)
# Written only by the engine (see ``const.CHANGE_ENGINE``): what was asked and
# checked, and the change's life; a scheduled change applies as written.
ENGINE_FIELDS = {
    *REQUEST_FIELDS,
    "subscription_id",
    "state",
    "effective_date",
    "target",
    "previous_date_end",
    "ended_line_ids",
    "new_line_ids",
    "amount_credit",
    "amount_charge",
    "amount_fee",
    "amount_net",
    "proration_lines",
}


class SubscriptionChange(models.Model):
    """A change of a subscription: requested, scheduled or applied.

    Applying a change ends the lines it replaces the day before it takes
    effect and creates the new ones from that day, so each period bills each
    line for its own days (in arrears, the split is the billing itself; usage
    is rated under the old and the new line for their parts). Days already
    invoiced in advance are prorated: the old lines credited, the new ones
    charged, on an invoice now, on the next invoice, or on a credit note.
    """

    _name = "subscription.change"
    _inherit = ["subscription.engine.mixin"]
    _description = "Subscription Change"
    _order = "effective_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Change", readonly=True)
    subscription_id = fields.Many2one(
        "subscription.subscription",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
        check_company=True,
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    partner_id = fields.Many2one(related="subscription_id.partner_id")
    operation = fields.Selection(OPERATIONS, required=True, readonly=True)
    state = fields.Selection(
        [
            ("scheduled", "Scheduled"),
            ("applied", "Applied"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="scheduled",
        index=True,
        readonly=True,
    )
    policy = fields.Selection(CHANGE_POLICIES, required=True, readonly=True)
    request_date = fields.Date(
        required=True, default=fields.Date.context_today, readonly=True
    )
    effective_date = fields.Date(
        required=True,
        index=True,
        readonly=True,
        help="First day under the new terms.",
    )
    new_plan_id = fields.Many2one(
        "subscription.plan", readonly=True, check_company=True
    )
    line_id = fields.Many2one("subscription.line", readonly=True, ondelete="set null")
    plan_line_id = fields.Many2one(
        "subscription.plan.line", string="Option", readonly=True, ondelete="set null"
    )
    quantity = fields.Float(digits="Product Unit", readonly=True)
    price_unit = fields.Monetary(string="New Unit Price", readonly=True)
    bill_during_pause = fields.Boolean(readonly=True)
    resume_date = fields.Date(readonly=True, help="Planned end of the pause.")
    close_reason_id = fields.Many2one("subscription.close.reason", readonly=True)
    is_indexation = fields.Boolean(
        string="Renewal Indexation", readonly=True, help="Planned price indexation."
    )
    previous_date_end = fields.Date(
        readonly=True, help="The subscription's end before a cancellation."
    )
    target = fields.Char(
        required=True, readonly=True, help="What the change modifies (conflicts)."
    )
    ended_line_ids = fields.Many2many(
        "subscription.line",
        "subscription_change_ended_line_rel",
        "change_id",
        "line_id",
        string="Lines Ended",
        readonly=True,
    )
    new_line_ids = fields.Many2many(
        "subscription.line",
        "subscription_change_new_line_rel",
        "change_id",
        "line_id",
        string="Lines Added",
        readonly=True,
    )
    mrr_before = fields.Monetary(string="MRR Before", readonly=True)
    mrr_after = fields.Monetary(string="MRR After", readonly=True)
    amount_credit = fields.Monetary(
        string="Credit", readonly=True, help="Unused days already invoiced."
    )
    amount_charge = fields.Monetary(
        string="Charge", readonly=True, help="New terms for the days already invoiced."
    )
    amount_fee = fields.Monetary(string="Termination Fee", readonly=True)
    amount_net = fields.Monetary(string="Net", readonly=True)
    proration_lines = fields.Json(
        readonly=True, help="Invoice lines of the prorated amounts (exact values)."
    )
    move_id = fields.Many2one(
        "account.move",
        string="Document",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="Invoice or credit note carrying the prorated amounts.",
    )
    proration_state = fields.Selection(
        [
            ("none", "Nothing to invoice"),
            ("pending", "On the next invoice"),
            ("invoiced", "Invoiced"),
        ],
        compute="_compute_proration_state",
        store=True,
        index=True,
    )
    history_ids = fields.One2many("subscription.history", "change_id", readonly=True)

    _one_change_per_target = models.UniqueIndex(
        "(subscription_id, effective_date, target) WHERE state != 'cancelled'",
        "This subscription already has a change of the same thing on that day.",
    )

    @api.depends("state", "move_id", "proration_lines")
    def _compute_proration_state(self):
        for change in self:
            if change.move_id:
                change.proration_state = "invoiced"
            elif change.state == "applied" and change.proration_lines:
                change.proration_state = "pending"
            else:
                change.proration_state = "none"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self._is_engine():
            raise UserError(
                self.env._(
                    "Changes are requested with the Change buttons or the change "
                    "API (change_plan, change_quantity, cancel...), which check "
                    "them: they cannot be created directly."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        engine_only = ENGINE_FIELDS & set(vals)
        if engine_only and not self._is_engine():
            raise UserError(
                self.env._(
                    "A change applies as it was requested and checked: cancel it "
                    "and request a new one instead of writing %(fields)s.",
                    fields=self._engine_fields_label(engine_only),
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_cancel(self):
        """Cancel scheduled changes before they apply."""
        for change in self:
            if change.state != "scheduled":
                raise UserError(
                    self.env._(
                        "The change %(change)s is %(state)s: only scheduled changes "
                        "can be cancelled.",
                        change=change.name,
                        state=dict(self._fields["state"].selection)[change.state],
                    )
                )
        for change in self:
            change._as_engine().state = "cancelled"
            sub = change.subscription_id
            if change.operation == "cancel":
                sub._undo_cancellation(change)
            sub.message_post(
                body=self.env._(
                    "Scheduled change cancelled: %(change)s.", change=change.name
                )
            )
        return True

    def action_view_move(self):
        self.ensure_one()
        return self.subscription_id._action_view_moves(self.move_id)

    # ------------------------------------------------------------------
    # Request: check, then simulate or record
    # ------------------------------------------------------------------

    @api.model
    def _request(self, sub, values, simulate=False):
        """Check a change of ``sub`` and apply it, schedule it or simulate it.

        ``values``: :data:`REQUEST_FIELDS`, plus ``date`` (the day asked).
        Returns the change (simulation: a new record, nothing written) and
        its effect.
        """
        sub.ensure_one()
        values = dict(values)
        day = fields.Date.to_date(values.pop("date", None))
        today = fields.Date.context_today(self)
        change = self.new(
            {
                "subscription_id": sub.id,
                "request_date": today,
                **{k: v for k, v in values.items() if k in REQUEST_FIELDS},
            }
        )
        change._prepare(day or today)
        effect = change._compute_effect()
        if simulate:
            return change, effect
        vals = {name: change[name] for name in (*REQUEST_FIELDS, "effective_date")}
        for name, value in vals.items():
            if isinstance(value, models.BaseModel):
                vals[name] = value.id
        vals.update(
            subscription_id=sub.id,
            target=change.target,
            name=change.name,
            mrr_before=float(effect["mrr_before"]),
            mrr_after=float(effect["mrr_after"]),
        )
        if change.operation == "cancel":
            vals["previous_date_end"] = sub.date_end
        record = self._as_engine().create(vals).with_env(self.env)
        if record.operation == "cancel":
            sub._as_engine()._schedule_cancellation(record)
            if not record._closes_for_non_payment():
                sub._send_template(
                    "subscription_billing.mail_template_cancellation_confirmed"
                )
        if record.effective_date <= today:
            record._apply_one(effect)
        else:
            sub.message_post(
                body=self.env._(
                    "Change scheduled on %(date)s: %(change)s.",
                    date=format_day(self.env, record.effective_date),
                    change=record.name,
                )
            )
        return record, effect

    def _prepare(self, day):
        """Check the request; set its policy, effective date, target and name."""
        self.ensure_one()
        self._check_transition(self._state_for_check())
        self._check_values()
        if self.operation == "cancel" and not self.close_reason_id:
            self.close_reason_id = self.env.ref(
                "subscription_billing.close_reason_other"
            )
        if not self.policy:
            self.policy = self._default_policy()
        self.effective_date = self._effective_date(day)
        self.target = self._target()
        self.name = self._describe()
        self._check_date()
        self._check_conflicts()

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
            if plan.currency_id != sub.currency_id:
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

    def _default_policy(self):
        plan = self.subscription_id.plan_id
        op = self.operation
        if op == "cancel":
            return plan.cancel_policy
        if op in ("pause", "resume", "reactivate"):
            return "immediate"
        if self.is_indexation:
            return "end_of_period"
        before, after = self._mrr_estimate()
        if core.is_downgrade(op, before, after):
            return plan.downgrade_policy
        return plan.upgrade_policy

    def _mrr_estimate(self):
        """MRR before and after, on today's lines (to choose the policy)."""
        sub = self.subscription_id
        today = fields.Date.context_today(self)
        day = max(today, sub.date_start)
        ended, created, plan = self._line_effect(day)
        return self._mrr_of_effect(day, ended, created, plan)

    def _effective_date(self, day):
        sub = self.subscription_id
        if self.policy == "immediate":
            return day
        billing_start = sub._billing_start()
        if day < billing_start:
            return billing_start
        notice = None
        if self.operation == "cancel" and sub.plan_id.notice_days:
            today = fields.Date.context_today(self)
            notice = today + timedelta(days=sub.plan_id.notice_days)
        schedule = sub._get_schedule(open_ended=True)
        effective = core.end_of_period_after(schedule, day, notice)
        if self.operation == "cancel" and sub.plan_id.term_type == "fixed":
            # Past the end of the current term (notice given late): at the
            # end of the term it renews for.
            effective = sub._term_end_on_or_after(effective - ONE_DAY) + ONE_DAY
        return effective

    def _target(self):
        if self.is_indexation:
            return INDEXATION
        if self.operation in ("change_quantity", "change_price", "remove_option"):
            return f"line:{self.line_id.id}"
        if self.operation == "add_option":
            return f"option:{self.plan_line_id.id}"
        return WHOLE

    def _describe(self):
        op = self.operation
        label = dict(OPERATIONS)[op]
        if op == "change_plan":
            return self.env._(
                "%(label)s: %(old)s → %(new)s",
                label=label,
                old=self.subscription_id.plan_id.name,
                new=self.new_plan_id.name,
            )
        if op == "change_quantity":
            return self.env._(
                "%(label)s: %(line)s %(old)s → %(new)s",
                label=label,
                line=self.line_id.name,
                old=fmt_units(exact_decimal(self.line_id.quantity)),
                new=fmt_units(exact_decimal(self.quantity)),
            )
        if op == "change_price" and self.is_indexation:
            return self.env._(
                "Renewal indexation: %(percent)s %%",
                percent=self.subscription_id.plan_id.renewal_increase_percent,
            )
        if op == "change_price":
            return self.env._(
                "%(label)s: %(line)s %(old)s → %(new)s",
                label=label,
                line=self.line_id.name,
                old=fmt_money(exact_decimal(self.line_id.price_unit)),
                new=fmt_money(exact_decimal(self.price_unit)),
            )
        if op == "add_option":
            return self.env._(
                "%(label)s: %(quantity)s × %(option)s",
                label=label,
                quantity=fmt_units(exact_decimal(self.quantity)),
                option=self.plan_line_id.name,
            )
        if op == "remove_option":
            return self.env._(
                "%(label)s: %(line)s", label=label, line=self.line_id.name
            )
        if op == "cancel":
            return self.env._(
                "%(label)s (%(reason)s)", label=label, reason=self.close_reason_id.name
            )
        if op == "pause" and self.bill_during_pause:
            return self.env._("%(label)s, billing goes on", label=label)
        return label

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
            if other.target == INDEXATION and self.target != INDEXATION:
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

    # ------------------------------------------------------------------
    # Apply
    # ------------------------------------------------------------------

    def _apply_one(self, effect=None):
        """Apply one scheduled change on its day: lines, state, documents,
        history. Raises, and the caller's transaction or savepoint rolls back:
        nothing is half-applied. ``effect``: its effect, when the caller has
        just computed it (an immediate change)."""
        self.ensure_one()
        if self.state != "scheduled":
            return
        sub = self.subscription_id._as_engine()
        self._check_transition(self._state_for_check())
        if (
            self.operation in ("change_quantity", "change_price", "remove_option")
            and not self.is_indexation
            and not self.line_id._is_active_on(self.effective_date)
        ):
            raise UserError(
                self.env._(
                    "The change %(change)s concerns the line %(line)s, which is no "
                    "longer billed on %(date)s: cancel the change.",
                    change=self.name,
                    line=self.line_id.name,
                    date=self.effective_date,
                )
            )
        day = self.effective_date
        effect = effect or self._compute_effect()
        proration_policy = sub.plan_id.proration_invoicing
        was_trial = sub.state == "trial"
        effect["ended"]._as_engine().write({"date_end": day - ONE_DAY})
        new_lines = (
            self.env["subscription.line"]
            ._as_engine()
            .create(
                [
                    {**vals, "subscription_id": sub.id, "date_start": day}
                    for vals in effect["created"]
                ]
            )
        )
        if self.operation == "change_plan":
            sub.plan_id = self.new_plan_id
        self._as_engine().write(
            {
                "state": "applied",
                "ended_line_ids": [Command.set(effect["ended"].ids)],
                "new_line_ids": [Command.set(new_lines.ids)],
                "mrr_before": float(effect["mrr_before"]),
                "mrr_after": float(effect["mrr_after"]),
                "amount_credit": float(effect["credit"]),
                "amount_charge": float(effect["charge"]),
                "amount_fee": float(effect["fee"]),
                "amount_net": float(effect["net"]),
                "proration_lines": effect["lines"] or False,
            }
        )
        sub._apply_state_change(self)
        if effect["lines"]:
            self._invoice_proration(proration_policy)
        if not was_trial and sub.state != "trial":
            kind = core.change_kind(
                self.operation, effect["mrr_before"], effect["mrr_after"]
            )
            sub._write_history(kind, day, effect["mrr_after"], change=self)
        if self.is_indexation:
            sub._schedule_indexation(
                after=periods.add_interval(
                    day, sub.plan_id.term_interval, sub.plan_id.term_unit
                )
            )
        sub._update_next_invoice_date()
        sub._close_if_ended()
        body = self.env._(
            "Change applied on %(date)s: %(change)s.",
            date=format_day(self.env, day),
            change=self.name,
        )
        if effect["lines"]:
            body = self.env._(
                "%(body)s Prorated: credit %(credit)s, charge %(charge)s, net %(net)s.",
                body=body,
                credit=fmt_money(effect["credit"]),
                charge=fmt_money(effect["charge"] + effect["fee"]),
                net=fmt_money(effect["net"]),
            )
        sub.message_post(body=body)

    def _invoice_proration(self, policy):
        """Invoice the prorated amounts now (credit note for a credit) or leave
        them for the next invoice, per the plan."""
        self.ensure_one()
        sub = self.subscription_id
        net = exact_decimal(self.amount_net)
        if net >= 0 and policy == "next":
            return
        journal = sub.plan_id._get_sale_journal()
        today = fields.Date.context_today(self)
        vals = sub._prepare_invoice_vals(today, journal)
        sign = 1
        if net < 0:
            sign = -1
            vals["move_type"] = "out_refund"
            original = sub._invoice_covering(self.effective_date)
            if original:
                vals["reversed_entry_id"] = original.id
            vals["ref"] = self.env._("Credit for %(change)s", change=self.name)
        vals["invoice_line_ids"] = [
            Command.create(self._move_line_vals(line, sign))
            for line in self.proration_lines
        ]
        move = (
            self.env["account.move"]
            .with_context(
                **dict(INVOICE_CREATE_CONTEXT, default_move_type=vals["move_type"])
            )
            .create(vals)
        )
        self.move_id = move
        sub._finalize_moves(move, [sub.plan_id.invoice_policy])

    def _move_line_vals(self, line, sign=1):
        vals = {
            "product_id": line["product_id"],
            "name": line["name"],
            "quantity": line["quantity"],
            "price_unit": float(exact_decimal(line["price_unit"]) * sign),
            "discount": line.get("discount", 0.0),
            "subscription_id": self.subscription_id.id,
        }
        for key in (
            "subscription_period_start",
            "subscription_period_end",
            "subscription_billed_days",
            "subscription_period_days",
        ):
            if line.get(key):
                vals[key] = line[key]
        return vals

    # ------------------------------------------------------------------
    # Scheduled changes
    # ------------------------------------------------------------------

    @api.model
    def _apply_due(
        self, up_to, batch_size=200, commit=False, subscriptions=None, company_ids=None
    ):
        """Apply the scheduled changes due by ``up_to``, in bounded batches
        (of ``subscriptions`` or ``company_ids`` only, when given).

        Safe on several workers: each batch locks its changes and their
        subscriptions with ``SKIP LOCKED``. A change that fails stays
        scheduled, with the error on its subscription; the others apply.
        """
        skipped = []

        def claim(retry):
            return self.browse(
                claim_ids(
                    self.env,
                    SQL(
                        """
                        SELECT c.id FROM subscription_change c
                          JOIN subscription_subscription s ON s.id = c.subscription_id
                         WHERE c.state = 'scheduled' AND c.effective_date <= %s
                           AND c.id != ALL(%s) AND (%s OR s.id = ANY(%s))
                           AND (%s OR s.company_id = ANY(%s))
                         ORDER BY c.effective_date, c.id
                        """,
                        up_to,
                        skipped or [0],
                        subscriptions is None,
                        subscriptions.ids if subscriptions is not None else [0],
                        company_ids is None,
                        list(company_ids or [0]),
                    ),
                    limit=batch_size,
                    of=("c", "s"),
                    commit=retry,
                )
            )

        def failed(change, error):
            skipped.append(change.id)
            change.subscription_id._record_billing_error(error)

        # The caller's work before this run is not committed yet (the
        # scheduled action's trials): the first claim does not retry.
        for changes in claimed_batches(self.env, claim, commit=commit, fresh=False):
            for_each_isolated(
                changes, lambda change: change._apply_one(), failed, UserError
            )
