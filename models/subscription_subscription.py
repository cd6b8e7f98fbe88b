# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..const import BILLABLE_STATES, CHANGE_DATE_MAX, CHANGE_DATE_MIN
from ..core import changes as core_changes
from ..core import periods
from ..core.periods import ARREARS, ONE_DAY
from ..core.rating.base import to_decimal
from ..tools import format_day

# Written only by the engine (see ``const.CHANGE_ENGINE``).
ENGINE_FIELDS = {
    "state",
    "state_before_suspension",
    "next_invoice_date",
    "invoiced_until",
    "usage_invoiced_until",
}


class SubscriptionSubscription(models.Model):
    _name = "subscription.subscription"
    _description = "Subscription"
    _inherit = [
        "portal.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "subscription.engine.mixin",
    ]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference",
        required=True,
        copy=False,
        readonly=True,
        index="trigram",
        default=lambda self: self.env._("New"),
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    partner_invoice_id = fields.Many2one(
        "res.partner",
        string="Invoice Address",
        required=True,
        compute="_compute_partner_invoice_id",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        tracking=True,
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True
    )
    plan_id = fields.Many2one(
        "subscription.plan",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    line_ids = fields.One2many(
        "subscription.line",
        "subscription_id",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
        precompute=True,
        copy=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        check_company=True,
        compute="_compute_pricelist_id",
        store=True,
        readonly=False,
        precompute=True,
        help="The customer's pricelist: it prices the plan's lines (its rules "
        "for the plan first) and the subscription is billed in its currency. "
        "In a currency other than the plan's, without a rule for the plan, "
        "the plan's prices are converted at the day's rate.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        default=lambda self: self.env.user,
        tracking=True,
        domain="[('share', '=', False)]",
    )
    payment_term_id = fields.Many2one(
        "account.payment.term",
        check_company=True,
        compute="_compute_payment_term_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        check_company=True,
        compute="_compute_fiscal_position_id",
        store=True,
        readonly=False,
        precompute=True,
        help="Maps the products' taxes and accounts on the invoices; "
        "computed from the invoice address.",
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("trial", "Trial"),
            ("active", "Active"),
            ("paused", "Paused"),
            ("suspended", "Suspended"),
            ("closed", "Closed"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
        # Every state is a column of the kanban, in the order of the life.
        group_expand=True,
    )
    close_reason_id = fields.Many2one(
        "subscription.close.reason", tracking=True, copy=False
    )
    date_start = fields.Date(
        string="Start Date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
    )
    trial_end_date = fields.Date(
        string="Trial End",
        compute="_compute_trial_end_date",
        store=True,
        readonly=False,
        precompute=True,
        help="Last day of the free trial; billing starts the next day.",
    )
    date_end = fields.Date(
        string="End Date",
        compute="_compute_date_end",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
        copy=False,
        help="Last day of service. Empty: until cancelled.",
    )
    next_invoice_date = fields.Date(
        readonly=True,
        copy=False,
        index=True,
        help="Date of the next invoice; empty when nothing is left to bill.",
    )
    invoiced_until = fields.Date(
        readonly=True, copy=False, help="Last day covered by an invoice."
    )
    usage_invoiced_until = fields.Date(
        readonly=True, copy=False, help="Last day whose usage is invoiced."
    )
    has_usage = fields.Boolean(
        compute="_compute_has_usage", help="Some lines bill usage."
    )
    usage_ids = fields.One2many("subscription.usage", "subscription_id", readonly=True)
    usage_count = fields.Integer(compute="_compute_usage_count")
    usage_charge_ids = fields.One2many(
        "subscription.usage.charge", "subscription_id", readonly=True
    )
    is_invoice_due = fields.Boolean(
        compute="_compute_is_invoice_due",
        help="A period is due today or earlier and not yet invoiced.",
    )
    commitment_end_date = fields.Date(
        compute="_compute_commitment_end_date",
        help="The subscription cannot end before this day.",
    )
    description = fields.Text(string="Terms and Notes")
    period_ids = fields.One2many(
        "subscription.period", "subscription_id", readonly=True
    )
    invoice_ids = fields.Many2many(
        "account.move", compute="_compute_invoice_ids", string="Invoices"
    )
    invoice_count = fields.Integer(compute="_compute_invoice_ids")
    recurring_amount = fields.Monetary(
        string="Price per Period", compute="_compute_recurring_amount"
    )
    billing_period_label = fields.Char(related="plan_id.billing_period_label")
    billing_timing = fields.Selection(related="plan_id.billing_timing")
    billing_error = fields.Text(
        readonly=True,
        copy=False,
        help="Why the last billing run could not invoice this subscription.",
    )

    change_ids = fields.One2many(
        "subscription.change", "subscription_id", readonly=True
    )
    scheduled_change_count = fields.Integer(compute="_compute_scheduled_change_count")
    history_ids = fields.One2many(
        "subscription.history", "subscription_id", readonly=True
    )
    mrr = fields.Monetary(
        string="MRR",
        compute="_compute_mrr",
        help="Recurring amount of today's lines normalised per month (usage "
        "excluded); zero during a trial.",
    )
    trial_converted = fields.Boolean(
        readonly=True,
        copy=False,
        help="The customer confirmed the trial: billing starts at its end.",
    )
    trial_reminder_sent = fields.Boolean(readonly=True, copy=False)
    renewal_reminder_sent_for = fields.Date(
        readonly=True,
        copy=False,
        help="End of the term whose upcoming renewal the customer was told of.",
    )
    state_before_suspension = fields.Selection(
        [("trial", "Trial"), ("active", "Active"), ("paused", "Paused")],
        readonly=True,
        copy=False,
    )
    dunning_ids = fields.Many2many(
        "subscription.dunning",
        "subscription_dunning_subscription_rel",
        "subscription_id",
        "dunning_id",
        string="Payment Follow-ups",
        readonly=True,
        copy=False,
    )
    dunning_count = fields.Integer(compute="_compute_dunning_count")
    amount_overdue = fields.Monetary(
        compute="_compute_dunning_count",
        help="Due on the invoices followed up for non-payment.",
    )

    _name_company_unique = models.Constraint(
        "UNIQUE(company_id, name)", "A subscription reference must be unique."
    )
    _next_invoice_index = models.Index(
        "(next_invoice_date, id) WHERE state IN ('trial', 'active', 'paused')"
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("partner_id")
    def _compute_partner_invoice_id(self):
        for sub in self:
            sub.partner_invoice_id = (
                sub.partner_id.address_get(["invoice"])["invoice"]
                if sub.partner_id
                else False
            )

    @api.depends("plan_id")
    def _compute_line_ids(self):
        for sub in self:
            if sub.state in (False, "draft") and sub.plan_id:
                # Priced by the subscription's pricelist, in its currency.
                sub.line_ids = [Command.clear()] + [
                    Command.create(line._prepare_subscription_line_vals(sub))
                    for line in sub.plan_id.line_ids
                    if not line.is_optional
                ]

    @api.depends("plan_id")
    def _compute_company_id(self):
        for sub in self:
            sub.company_id = (
                sub.plan_id.company_id or sub.company_id or self.env.company
            )

    @api.depends("plan_id", "pricelist_id")
    def _compute_currency_id(self):
        for sub in self:
            # Billed in the pricelist's currency: it prices the plan.
            sub.currency_id = (
                sub.pricelist_id.currency_id
                or sub.plan_id.currency_id
                or sub.company_id.currency_id
            )

    @api.depends("partner_id", "company_id")
    def _compute_pricelist_id(self):
        for sub in self:
            if (
                sub.pricelist_id
                and sub._origin.partner_id == sub.partner_id
                and sub.pricelist_id.company_id
                in (sub.company_id, self.env["res.company"])
            ):
                continue  # a recomputed company (plan change) keeps the choice
            partner = sub.partner_id.with_company(sub.company_id)
            sub.pricelist_id = partner.property_product_pricelist if partner else False

    @api.depends("partner_id", "company_id")
    def _compute_payment_term_id(self):
        for sub in self:
            partner = sub.partner_id.with_company(sub.company_id)
            sub.payment_term_id = partner.property_payment_term_id

    @api.depends("partner_invoice_id", "company_id")
    def _compute_fiscal_position_id(self):
        for sub in self:
            sub.fiscal_position_id = (
                self.env["account.fiscal.position"]
                .with_company(sub.company_id)
                ._get_fiscal_position(sub.partner_invoice_id or sub.partner_id)
                if sub.partner_id
                else False
            )

    @api.depends("plan_id", "date_start")
    def _compute_trial_end_date(self):
        for sub in self:
            plan = sub.plan_id
            if sub.state not in (False, "draft") or not plan or not sub.date_start:
                continue
            sub.trial_end_date = (
                periods.add_interval(
                    sub.date_start, plan.trial_interval, plan.trial_unit
                )
                - timedelta(days=1)
                if plan.trial_interval
                else False
            )

    @api.depends("plan_id", "date_start", "trial_end_date")
    def _compute_date_end(self):
        for sub in self:
            plan = sub.plan_id
            if sub.state not in (False, "draft") or not plan or not sub.date_start:
                continue
            sub.date_end = (
                periods.add_interval(
                    sub._billing_start(), plan.term_interval, plan.term_unit
                )
                - timedelta(days=1)
                if plan.term_type == "fixed"
                else False
            )

    @api.depends("plan_id", "date_start")
    def _compute_commitment_end_date(self):
        for sub in self:
            plan = sub.plan_id
            sub.commitment_end_date = (
                periods.add_interval(
                    sub.date_start, plan.commitment_interval, plan.commitment_unit
                )
                - timedelta(days=1)
                if plan.commitment_interval and sub.date_start
                else False
            )

    @api.depends("state", "next_invoice_date")
    @api.depends_context("tz")
    def _compute_is_invoice_due(self):
        today = fields.Date.context_today(self)
        for sub in self:
            sub.is_invoice_due = bool(
                sub.state in BILLABLE_STATES
                and sub.next_invoice_date
                and sub.next_invoice_date <= today
            )

    @api.depends("line_ids.line_type")
    def _compute_has_usage(self):
        for sub in self:
            sub.has_usage = any(line.line_type == "usage" for line in sub.line_ids)

    def _compute_usage_count(self):
        counts = dict(
            self.env["subscription.usage"]._read_group(
                [("subscription_id", "in", self.ids)], ["subscription_id"], ["__count"]
            )
        )
        for sub in self:
            sub.usage_count = counts.get(sub, 0)

    @api.depends("period_ids.invoice_id", "change_ids.move_id")
    def _compute_invoice_ids(self):
        """Every document the subscription produced: the invoices of its
        periods, and those of its changes (proration charged now, credit
        notes); each of their lines names the subscription."""
        moves_of = dict(
            self.env["account.move.line"]._read_group(
                [("subscription_id", "in", self.ids)],
                ["subscription_id"],
                ["move_id:recordset"],
            )
        )
        for sub in self:
            sub.invoice_ids = (
                sub.period_ids.invoice_id
                | sub.change_ids.move_id
                | moves_of.get(sub, self.env["account.move"])
            )
            sub.invoice_count = len(sub.invoice_ids)

    @api.depends("line_ids.price_subtotal", "line_ids.date_start", "line_ids.date_end")
    @api.depends_context("tz")
    def _compute_recurring_amount(self):
        for sub in self:
            sub.recurring_amount = sum(
                sub._lines_on(sub._today_or_start()).mapped("price_subtotal")
            )

    @api.depends("line_ids.price_subtotal", "line_ids.date_end", "state")
    @api.depends_context("tz")
    def _compute_mrr(self):
        for sub in self:
            if sub.state in ("draft", "trial", "closed"):
                sub.mrr = 0.0
                continue
            sub.mrr = float(sub._mrr_on(sub._today_or_start()))

    def _compute_dunning_count(self):
        for sub in self:
            sub.dunning_count = len(sub.dunning_ids)
            sub.amount_overdue = sum(sub.dunning_ids.mapped("amount_at_risk"))

    def _compute_scheduled_change_count(self):
        counts = dict(
            self.env["subscription.change"]._read_group(
                [("subscription_id", "in", self.ids), ("state", "=", "scheduled")],
                ["subscription_id"],
                ["__count"],
            )
        )
        for sub in self:
            sub.scheduled_change_count = counts.get(sub, 0)

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------

    @api.constrains("currency_id", "pricelist_id", "plan_id")
    def _check_currency(self):
        for sub in self:
            if sub.pricelist_id and sub.pricelist_id.currency_id != sub.currency_id:
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s is billed in %(currency)s but the "
                        "pricelist %(pricelist)s is in %(pricelist_currency)s: "
                        "choose a pricelist in %(currency)s, or bill the "
                        "subscription in %(pricelist_currency)s.",
                        sub=sub.display_name,
                        currency=sub.currency_id.name,
                        pricelist=sub.pricelist_id.display_name,
                        pricelist_currency=sub.pricelist_id.currency_id.name,
                    )
                )
            error = sub.plan_id._currency_error(sub.currency_id, sub.pricelist_id, sub)
            if error:
                raise ValidationError(error)

    @api.constrains("date_start", "date_end", "trial_end_date")
    def _check_dates(self):
        for sub in self:
            for day in (sub.date_start, sub.date_end, sub.trial_end_date):
                if day and not CHANGE_DATE_MIN <= day <= CHANGE_DATE_MAX:
                    raise ValidationError(
                        self.env._(
                            "Subscription %(sub)s: %(date)s is outside the dates "
                            "billing handles (%(min)s to %(max)s).",
                            sub=sub.display_name,
                            date=day,
                            min=CHANGE_DATE_MIN,
                            max=CHANGE_DATE_MAX,
                        )
                    )
            if sub.date_end and sub.date_end < sub.date_start:
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s ends on %(end)s, before it starts on "
                        "%(start)s: set an end date on or after the start date.",
                        sub=sub.display_name,
                        end=sub.date_end,
                        start=sub.date_start,
                    )
                )
            if sub.trial_end_date and sub.trial_end_date < sub.date_start:
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s: the trial cannot end before the "
                        "start date %(start)s.",
                        sub=sub.display_name,
                        start=sub.date_start,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        default_name = self.env._("New")
        for vals in vals_list:
            if not self._is_engine():
                self._check_engine_fields(
                    {k for k, v in vals.items() if v and (k, v) != ("state", "draft")}
                )
            if vals.get("name", default_name) == default_name:
                company = self.env["res.company"].browse(vals.get("company_id"))
                vals["name"] = (
                    self.env["ir.sequence"]
                    .with_company(company or self.env.company)
                    .next_by_code("subscription.subscription")
                    or default_name
                )
        return super().create(vals_list)

    def write(self, vals):
        if self._is_engine():
            return super().write(vals)
        self._check_engine_fields(set(vals))
        frozen = {
            "plan_id",
            "date_start",
            "trial_end_date",
            "date_end",
            # A close reason stops a renewal: only a cancellation sets it.
            "close_reason_id",
        } & set(vals)
        if frozen:
            started = self.filtered(lambda s: s.state != "draft")
            if started:
                raise UserError(
                    self.env._(
                        "The plan, dates and trial of %(subs)s cannot change once "
                        "started: use Change Plan or Cancel, so the change is "
                        "prorated and kept in the history.",
                        subs=", ".join(started.mapped("display_name")),
                    )
                )
        return super().write(vals)

    def _check_engine_fields(self, names):
        engine_only = ENGINE_FIELDS & names
        if engine_only:
            raise UserError(
                self.env._(
                    "The state and billing dates of a subscription follow its "
                    "life (Start, Change, Invoice, Cancel); they cannot be written "
                    "directly (%(fields)s).",
                    fields=self._engine_fields_label(engine_only),
                )
            )

    def _ensure_one_subscription(self):
        """``ensure_one`` for the public API: a ``UserError`` (422 over
        JSON-2), not a ``ValueError`` (500)."""
        if len(self) != 1:
            raise UserError(
                self.env._(
                    "Call this on one subscription (got %(count)s).", count=len(self)
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if self.period_ids:
            raise UserError(
                self.env._(
                    "Subscriptions with invoices cannot be deleted (%(subs)s): "
                    "close them instead.",
                    subs=", ".join(self.filtered("period_ids").mapped("display_name")),
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_start(self):
        """Confirm draft subscriptions: they enter their trial or become active."""
        for sub in self:
            if sub.state != "draft":
                raise UserError(
                    self.env._(
                        "Subscription %(sub)s is already started.", sub=sub.display_name
                    )
                )
            sub._check_billable()
        today = fields.Date.context_today(self)
        for sub in self:
            in_trial = sub.trial_end_date and sub.trial_end_date >= today
            sub._as_engine().state = "trial" if in_trial else "active"
            if not in_trial:
                sub._write_history("new", sub._billing_start(), sub._mrr_on())
        self._update_next_invoice_date()
        self._schedule_indexation()
        self._send_template("subscription_billing.mail_template_welcome")
        return True

    def _send_template(self, xmlid):
        """Post a customer mail template on these subscriptions (sent by
        email to the customer, kept in the chatter)."""
        template = self.env.ref(xmlid, raise_if_not_found=False)
        if template and self:
            self.message_post_with_source(template, subtype_xmlid="mail.mt_comment")

    def action_convert_trial(self):
        """Confirm trials: billing starts at the end of the trial."""
        for sub in self:
            if sub.state != "trial":
                raise UserError(
                    self.env._(
                        "Subscription %(sub)s is not in trial.", sub=sub.display_name
                    )
                )
        self.trial_converted = True
        for sub in self:
            sub.message_post(
                body=self.env._(
                    "Trial confirmed: billing starts on %(date)s.",
                    date=format_day(self.env, sub._billing_start()),
                )
            )
        return True

    def action_view_invoices(self):
        self.ensure_one()
        return self._action_view_moves(self.invoice_ids)

    def _action_view_moves(self, moves):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", moves.ids)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(moves) == 1:
            action["views"] = [(self.env.ref("account.view_move_form").id, "form")]
            action["res_id"] = moves.id
        return action

    def action_view_dunning(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_dunning_action"
        )
        action["domain"] = [("id", "in", self.dunning_ids.ids)]
        return action

    def action_view_usage(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.action_subscription_usage"
        )
        action["domain"] = [("subscription_id", "=", self.id)]
        action["context"] = {"default_subscription_id": self.id}
        return action

    # ------------------------------------------------------------------
    # Business methods: schedule
    # ------------------------------------------------------------------

    def _billing_start(self):
        """First billed day: the day after the trial, or the start date."""
        self.ensure_one()
        if self.trial_end_date:
            return self.trial_end_date + timedelta(days=1)
        return self.date_start

    def _renews(self):
        """Whether the fixed term renews by itself at its end."""
        self.ensure_one()
        plan = self.plan_id
        return (
            plan.term_type == "fixed" and plan.auto_renew and not self.close_reason_id
        )

    def _get_schedule(self, end=None, open_ended=False, plan=None):
        """The billing schedule.

        ``end`` overrides the end date (renewals); ``open_ended`` ignores it;
        ``plan`` gives another plan's schedule (a change of plan).
        """
        self.ensure_one()
        plan = plan or self.plan_id
        start = self._billing_start()
        end = None if open_ended else end or self.date_end
        if end and end < start:
            # Ended during its trial: nothing to bill.
            return None
        return periods.Schedule.build(
            plan._get_recurrence(),
            start,
            end or None,
            alignment=plan.alignment,
            day=plan.alignment_day,
            month=plan.alignment_month,
        )

    def _next_unbilled_day(self):
        self.ensure_one()
        if self.invoiced_until:
            return self.invoiced_until + timedelta(days=1)
        return self._billing_start()

    def _next_usage_day(self):
        self.ensure_one()
        if self.usage_invoiced_until:
            return self.usage_invoiced_until + timedelta(days=1)
        return self._billing_start()

    def _update_next_invoice_date(self):
        """Recompute the next invoice date from the billed days and the schedule."""
        for sub in self:
            schedule = sub.state in BILLABLE_STATES and sub._get_schedule(
                open_ended=sub._renews()
            )
            if not schedule:
                sub._as_engine().next_invoice_date = False
                continue
            dates = [
                schedule.next_due_date(
                    sub.plan_id.billing_timing, sub._next_unbilled_day(), clip=True
                ),
                sub.has_usage
                and schedule.next_due_date(ARREARS, sub._next_usage_day(), clip=True),
            ]
            sub._as_engine().next_invoice_date = min(
                (d for d in dates if d), default=False
            )

    # ------------------------------------------------------------------
    # Business methods: state transitions
    # ------------------------------------------------------------------

    def _activate_after_trial(self):
        """The trial is over: billing starts, the history counts a new MRR."""
        for sub in self:
            sub._as_engine().state = "active"
            start = sub._billing_start()
            sub._write_history("new", start, sub._mrr_on(start))

    def _expire_trial(self):
        """Unconfirmed trials close at their end, with nothing billed."""
        reason = self.env.ref("subscription_billing.close_reason_trial_not_converted")
        for sub in self:
            sub._as_engine().write(
                {
                    "date_end": sub.trial_end_date,
                    "close_reason_id": reason.id,
                    "state": "closed",
                    "next_invoice_date": False,
                }
            )
            sub.line_ids._end_after(sub.trial_end_date)
            sub.message_post(
                body=self.env._(
                    "The trial ended on %(date)s without confirmation: the "
                    "subscription is closed.",
                    date=format_day(self.env, sub.trial_end_date),
                )
            )

    def _resume_after_payment(self):
        """Back to the state before the suspension; billing catches up."""
        for sub in self:
            sub._as_engine().state = sub.state_before_suspension or "active"
            sub._as_engine().state_before_suspension = False
            sub.message_post(body=self.env._("Resumed: the overdue invoices are paid."))
        self._update_next_invoice_date()

    def _end_lines(self):
        """End the lines still running after the last day (term ended), with
        the churn in the history when the MRR had not gone to zero yet."""
        for sub in self:
            sub.line_ids._end_after(sub.date_end)
            if sub.state != "trial":
                before = sub._last_mrr()
                if before:
                    sub._write_history(
                        "churn", sub.date_end + ONE_DAY, Decimal(0), before=before
                    )

    def _close_if_ended(self):
        """Close now what ended before today and has nothing left to bill."""
        today = fields.Date.context_today(self)
        for sub in self:
            if (
                sub.state != "closed"
                and sub.date_end
                and sub.date_end < today
                and not sub.next_invoice_date
            ):
                sub._as_engine().state = "closed"

    # ------------------------------------------------------------------
    # Business methods: MRR and history
    # ------------------------------------------------------------------

    def _today_or_start(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        return max(today, self.date_start) if self.date_start else today

    def _lines_on(self, day):
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line._is_active_on(day))

    def _mrr_of_lines(self, specs, plan):
        """MRR of ``(quantity, unit price, discount)`` lines on ``plan``: each
        line's amount rounded as on the invoice, the sum normalised per month."""
        quantum = repr(self.currency_id.rounding or 0.01)
        total = sum(
            (
                core_changes.line_amount(
                    repr(quantity), repr(price), repr(discount), quantum
                )
                for quantity, price, discount in specs
            ),
            Decimal(0),
        )
        if not plan:
            return total
        return core_changes.monthly_amount(
            total, plan.billing_interval, plan.billing_unit, quantum
        )

    def _mrr_on(self, day=None):
        """MRR of the lines billed on ``day`` (default: the billing start)."""
        self.ensure_one()
        day = day or self._billing_start()
        return self._mrr_of_lines(self._lines_on(day)._mrr_specs(), self.plan_id)

    def _last_mrr(self):
        self.ensure_one()
        last = self.env["subscription.history"].search(
            [("subscription_id", "=", self.id)], order="date desc, id desc", limit=1
        )
        return to_decimal(last.mrr_after) if last else Decimal(0)

    def _write_history(self, kind, day, mrr_after, change=None, before=None):
        """Record a change in the history; its MRR before is the last MRR after
        (``before``, when the caller has just read it)."""
        self.ensure_one()
        if before is None:
            before = self._last_mrr()
        # History is written by the engine only.
        return (
            self.env["subscription.history"]
            .sudo()
            .create(
                {
                    "subscription_id": self.id,
                    "partner_id": self.partner_id.commercial_partner_id.id,
                    "plan_id": self.plan_id.id,
                    "date": day,
                    "kind": kind,
                    "mrr_before": float(before),
                    "mrr_after": float(mrr_after),
                    "change_id": change.id if change else False,
                    "description": change.name if change else False,
                }
            )
        )
