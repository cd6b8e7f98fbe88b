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
PHASE = "phase"  # the end of a price phase (subscription_change_phase)
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
    "phase_id",
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
            and not (self.is_indexation or self.phase_id)
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
        if line.get("analytic_distribution"):
            vals["analytic_distribution"] = line["analytic_distribution"]
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
