# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, formatLang

from ..const import CHANGE_ENGINE, CHANGE_POLICIES, OPERATIONS
from ..core import allowance, periods, rating
from ..core import changes as core_changes
from ..core.periods import ARREARS, ONE_DAY
from ..core.rating.base import fmt_money
from ..tools import claim_rows, html_table
from .subscription_line_mixin import MAX_LINE_VALUE, clean_decimal, exact_decimal

_logger = logging.getLogger(__name__)

# Paused subscriptions go on through billing: without billing during the
# pause, their lines end at the pause, so their periods bill nothing.
BILLABLE_STATES = ("trial", "active", "paused")
# Invoices are created in bulk: no "created" log message per invoice (their
# origin and the Subscriptions smart button say where they come from) and no
# follower subscription of the user running the billing.
# The days a change may name (the calendar's edges stay out of reach of
# period arithmetic).
CHANGE_DATE_MIN = date(1900, 1, 1)
CHANGE_DATE_MAX = date(2999, 12, 31)
# Written only by the engine (see ``const.CHANGE_ENGINE``).
ENGINE_FIELDS = {
    "state",
    "state_before_suspension",
    "next_invoice_date",
    "invoiced_until",
    "usage_invoiced_until",
}
INVOICE_CREATE_CONTEXT = {
    "default_move_type": "out_invoice",
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
}


class SubscriptionSubscription(models.Model):
    _name = "subscription.subscription"
    _description = "Subscription"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
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
        help="The customer's pricelist: its currency must be the plan's.",
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
    payment_token_id = fields.Many2one(
        "payment.token",
        string="Payment Method",
        check_company=True,
        tracking=True,
        copy=False,
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
        help="Saved payment method charged automatically when an invoice is "
        "posted (for example saved by the customer while paying in the "
        "portal). Empty: the customer pays by transfer or in the portal.",
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

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for sub in self:
            sub.access_url = f"/my/subscriptions/{sub.id}"
        return result

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
                sub.line_ids = [Command.clear()] + [
                    Command.create(line._prepare_subscription_line_vals())
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
            sub.currency_id = (
                sub.plan_id.currency_id
                or sub.pricelist_id.currency_id
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
            if sub.plan_id and sub.currency_id != sub.plan_id.currency_id:
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s is in %(currency)s but its plan "
                        "%(plan)s is priced in %(plan_currency)s: choose a plan in "
                        "%(currency)s.",
                        sub=sub.display_name,
                        currency=sub.currency_id.name,
                        plan=sub.plan_id.display_name,
                        plan_currency=sub.plan_id.currency_id.name,
                    )
                )
            if sub.pricelist_id and sub.pricelist_id.currency_id != sub.currency_id:
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s is billed in %(currency)s but the "
                        "pricelist %(pricelist)s is in %(pricelist_currency)s: "
                        "choose a pricelist in %(currency)s, or a plan in "
                        "%(pricelist_currency)s.",
                        sub=sub.display_name,
                        currency=sub.currency_id.name,
                        pricelist=sub.pricelist_id.display_name,
                        pricelist_currency=sub.pricelist_id.currency_id.name,
                    )
                )

    @api.constrains("payment_token_id", "partner_id", "company_id")
    def _check_payment_token(self):
        for sub in self.filtered("payment_token_id"):
            token = sub.payment_token_id.sudo()
            if not sub._payment_token_is_usable(token):
                raise ValidationError(
                    self.env._(
                        "The payment method %(token)s cannot pay subscription "
                        "%(sub)s: it must be an active method saved by %(customer)s "
                        "(or one of its contacts) with a payment provider of "
                        "%(company)s.",
                        token=token.display_name,
                        sub=sub.display_name,
                        customer=sub.commercial_partner_id.display_name,
                        company=sub.company_id.display_name,
                    )
                )

    @api.constrains("date_start", "date_end", "trial_end_date")
    def _check_dates(self):
        for sub in self:
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
        frozen = {"plan_id", "date_start", "trial_end_date", "date_end"} & set(vals)
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
                    fields=", ".join(
                        self._fields[name]._description_string(self.env)
                        for name in sorted(engine_only)
                    ),
                )
            )

    def _as_engine(self):
        """These records, for a write of the change engine (state, billing
        dates, frozen fields): see ``const.CHANGE_ENGINE``."""
        return self.with_context(subscription_change=CHANGE_ENGINE)

    def _is_engine(self):
        return self.env.context.get("subscription_change") is CHANGE_ENGINE

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

    def _action_change_wizard(self, operation):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": dict(
                self.env["subscription.change"]
                ._fields["operation"]
                ._description_selection(self.env)
            )[operation],
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
        return self._action_change_wizard("add_option")

    def action_remove_option(self):
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
                    date=sub._billing_start(),
                )
            )
        return True

    def action_view_changes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_change_action"
        )
        action["domain"] = [("subscription_id", "=", self.id)]
        action["context"] = {"search_default_scheduled": 1}
        return action

    def action_invoice_now(self):
        """Invoice every period due today (catching up missed ones)."""
        self.check_access("write")
        self._lock_for_billing()
        today = fields.Date.context_today(self)
        self.env["subscription.change"]._apply_due(today, subscriptions=self)
        not_due = self.filtered(
            lambda s: (
                s.state not in BILLABLE_STATES
                or not s.next_invoice_date
                or s.next_invoice_date > today
            )
        )
        if not_due:
            raise UserError(
                self.env._(
                    "Nothing is due today on %(subs)s: the next invoice of a "
                    "subscription is on its next invoice date.",
                    subs=", ".join(not_due.mapped("display_name")),
                )
            )
        result = self._bill_due_periods(today, isolate=False)
        return self._action_view_moves(result.moves)

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

    def _next_usage_day(self):
        self.ensure_one()
        if self.usage_invoiced_until:
            return self.usage_invoiced_until + timedelta(days=1)
        return self._billing_start()

    def _check_billable(self):
        """Raise a UserError naming what prevents invoicing this subscription."""
        self.ensure_one()
        if (
            self.state == "trial"
            and self.plan_id.trial_conversion == "manual"
            and not self.trial_converted
            and self.trial_end_date < fields.Date.context_today(self)
        ):
            raise UserError(
                self.env._(
                    "Subscription %(sub)s: its trial ended on %(date)s without "
                    "confirmation. Confirm the trial to bill it.",
                    sub=self.display_name,
                    date=self.trial_end_date,
                )
            )
        if not self.line_ids:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s has no lines to invoice: add at least one "
                    "line (or add lines to its plan %(plan)s before creating "
                    "subscriptions on it).",
                    sub=self.display_name,
                    plan=self.plan_id.display_name,
                )
            )
        for line in self.line_ids:
            product = line.product_id.with_company(self.company_id)
            if not product._get_product_accounts()["income"]:
                raise UserError(
                    self.env._(
                        "Subscription %(sub)s: the product %(product)s has no "
                        "income account. Set one on the product or its category "
                        "(Accounting tab), or a default income account on the "
                        "company.",
                        sub=self.display_name,
                        product=product.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # Payment method and suspension
    # ------------------------------------------------------------------

    def _payment_token_is_usable(self, token, invoice=None):
        """``token`` belongs to this customer and company, and is active."""
        self.ensure_one()
        token = token.sudo()
        partner = (invoice or self).commercial_partner_id
        return bool(
            token.active
            and token.partner_id.commercial_partner_id == partner
            and token.company_id in (self.company_id, self.env["res.company"])
        )

    def _set_payment_token(self, token):
        for sub in self:
            sub.payment_token_id = token
            sub.message_post(
                body=self.env._(
                    "Payment method %(token)s saved for the automatic payment of "
                    "the next invoices.",
                    token=token.display_name,
                )
            )

    def _drop_payment_token(self, reason):
        """The method was declined for good: the customer must give a new one."""
        for sub in self:
            sub.message_post(
                body=self.env._(
                    "Payment method %(token)s removed after a hard decline "
                    "(%(reason)s): the customer is asked for a new one.",
                    token=sub.payment_token_id.display_name,
                    reason=reason or "-",
                )
            )
        self.payment_token_id = False

    def _resume_after_payment(self):
        """Back to the state before the suspension; billing catches up."""
        for sub in self:
            sub._as_engine().state = sub.state_before_suspension or "active"
            sub._as_engine().state_before_suspension = False
            sub.message_post(body=self.env._("Resumed: the overdue invoices are paid."))
        self._update_next_invoice_date()

    # ------------------------------------------------------------------
    # Business methods: billing
    # ------------------------------------------------------------------

    @api.model
    def _cron_generate_invoices(self, batch_size=200):
        """Scheduled action: invoice every due period, in committed batches.

        Safe to run on several workers at once: each batch claims its
        subscriptions with ``FOR NO KEY UPDATE SKIP LOCKED``, and the uniqueness of
        (subscription, period start) makes a second invoice impossible.
        """
        today = fields.Date.context_today(self)
        self._process_trials(today)
        self._process_renewal_reminders(today)
        self.env["subscription.change"]._apply_due(
            today, batch_size=batch_size, commit=True
        )
        self._generate_due_invoices(today, batch_size=batch_size, commit=True)
        self._close_ended()

    @api.model
    def action_generate_due_invoices(self, up_to=None):
        """Invoice every period due until ``up_to`` (default today); API entry point.

        Returns the ids of the invoices created. Subscriptions that fail keep
        the error on their record; the others are invoiced.
        """
        up_to = (
            self._clean_change_date("up_to", up_to)
            if up_to
            else fields.Date.context_today(self)
        )
        self.check_access("write")
        # Only the companies the user works in (the scheduled action bills
        # every company).
        companies = self.env.companies.ids
        self._process_trials(up_to)
        self._process_renewal_reminders(up_to)
        self.env["subscription.change"]._apply_due(up_to, company_ids=companies)
        moves = self._generate_due_invoices(up_to, company_ids=companies)
        self._close_ended()
        return moves.ids

    @api.model
    def _generate_due_invoices(
        self, up_to, batch_size=200, commit=False, company_ids=None
    ):
        """Invoice every period due on or before ``up_to``; return the moves.

        With ``commit``, each batch is committed through ``_commit_progress``
        (scheduled action); without, everything stays in the caller's
        transaction (wizard). ``company_ids``: only these companies' (default:
        every company).
        """
        up_to = fields.Date.to_date(up_to)
        moves = self.env["account.move"]
        skipped = []
        if commit:
            # Nothing pending before a claim that may restart the transaction.
            self.env["ir.cron"]._commit_progress(0)
        while True:
            subs = self._claim_due(
                up_to, batch_size, skipped, commit=commit, company_ids=company_ids
            )
            if not subs:
                break
            result = subs._bill_due_periods(up_to, isolate=True)
            moves |= result.moves
            skipped.extend(result.failed.ids)
            # A subscription still due after its billing would be claimed again
            # and again: report it instead (never expected; a safety net).
            stuck = (subs - result.failed).filtered(
                lambda s: (
                    s.state in BILLABLE_STATES
                    and s.next_invoice_date
                    and s.next_invoice_date <= up_to
                )
            )
            if stuck:
                stuck._record_billing_error(
                    self.env._(
                        "Billing did not move past %(date)s; check the billed "
                        "periods of this subscription.",
                        date=up_to,
                    )
                )
                skipped.extend(stuck.ids)
            # Keep memory flat over long runs: drop what this batch cached.
            self.env.invalidate_all()
            if commit:
                remaining = self._count_due(up_to, skipped, company_ids)
                if (
                    self.env["ir.cron"]._commit_progress(len(subs), remaining=remaining)
                    <= 0
                ):
                    break
        return moves

    @api.model
    def _due_domain_sql(
        self, up_to, skipped, alias="subscription_subscription", company_ids=None
    ):
        """Subscriptions due by ``up_to``, except the ``skipped`` ids; of
        ``company_ids`` only, when given."""
        return SQL(
            "%(state)s IN %(states)s AND %(date)s <= %(up_to)s "
            "AND %(id)s != ALL(%(skip)s) "
            "AND (%(all_companies)s OR %(company)s = ANY(%(companies)s))",
            state=SQL.identifier(alias, "state"),
            states=BILLABLE_STATES,
            date=SQL.identifier(alias, "next_invoice_date"),
            up_to=up_to,
            id=SQL.identifier(alias, "id"),
            skip=list(skipped) or [0],
            all_companies=company_ids is None,
            company=SQL.identifier(alias, "company_id"),
            companies=list(company_ids or [0]),
        )

    @api.model
    def _count_due(self, up_to, skipped, company_ids=None):
        rows = self.env.execute_query(
            SQL(
                "SELECT COUNT(*) FROM subscription_subscription WHERE %s",
                self._due_domain_sql(up_to, skipped, company_ids=company_ids),
            )
        )
        return rows[0][0]

    @api.model
    def _claim_due(self, up_to, limit, skipped, commit=False, company_ids=None):
        """Lock and return up to ``limit`` due subscriptions no one else holds.

        The subscriptions of customers who want one consolidated invoice are
        claimed together, so their invoice gathers all of them.
        """
        rows = claim_rows(
            self.env,
            SQL(
                """
                SELECT id FROM subscription_subscription
                 WHERE %s
                 ORDER BY next_invoice_date, partner_invoice_id, id
                 LIMIT %s
                   FOR NO KEY UPDATE SKIP LOCKED
                """,
                self._due_domain_sql(up_to, skipped, company_ids=company_ids),
                limit,
            ),
            commit,
        )
        subs = self.browse([row[0] for row in rows])
        consolidating = subs.partner_invoice_id.commercial_partner_id.filtered(
            "subscription_consolidate_invoices"
        )
        if consolidating:
            more = claim_rows(
                self.env,
                SQL(
                    """
                    SELECT s.id FROM subscription_subscription s
                      JOIN res_partner p ON p.id = s.partner_invoice_id
                     WHERE %s
                       AND COALESCE(p.commercial_partner_id, p.id) = ANY(%s)
                       FOR NO KEY UPDATE OF s SKIP LOCKED
                    """,
                    # Not the failed ones of this run either: they would fail again.
                    self._due_domain_sql(
                        up_to,
                        [*skipped, *subs.ids],
                        alias="s",
                        company_ids=company_ids,
                    ),
                    consolidating.ids,
                ),
                # Never retried in a new transaction: that would release the
                # subscriptions just claimed.
                False,
            )
            subs |= self.browse([row[0] for row in more])
        return subs

    def _lock_for_billing(self):
        """Lock these subscriptions, or explain that a billing run holds them."""
        if not self:
            return
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM subscription_subscription WHERE id = ANY(%s) "
                "FOR NO KEY UPDATE SKIP LOCKED",
                self.ids,
            )
        )
        if len(rows) != len(self):
            raise UserError(
                self.env._(
                    "A billing run is invoicing some of these subscriptions right "
                    "now; try again in a minute."
                )
            )

    def _bill_due_periods(self, up_to, isolate=True):
        """Invoice the due periods of these (locked) subscriptions.

        Everything is prepared first, then written in one batch: periods,
        invoices, subscription dates. When the batch fails, each invoice group
        is retried alone in a savepoint, so one bad subscription is rolled back
        alone and gets the error on its record (``isolate``); otherwise the
        error is raised.
        """
        groups, failed, progress = self._prepare_billing(up_to, isolate)
        moves = self.env["account.move"]
        if groups:
            try:
                with self.env.cr.savepoint():
                    moves = self._write_billing(groups)
            except Exception as error:
                if not isolate:
                    raise
                _logger.info("Billing batch failed (%s); retrying one by one", error)
                moves = self.env["account.move"]
                for group in groups:
                    try:
                        with self.env.cr.savepoint():
                            moves |= self._write_billing([group])
                    except Exception as group_error:  # noqa: BLE001
                        failed |= group["subscriptions"]._record_billing_error(
                            group_error
                        )
        billed = self - failed
        billed._advance_billing(
            {sub: values for sub, values in progress.items() if sub in billed}
        )
        billed.filtered("billing_error").billing_error = False
        return BillingResult(moves, failed)

    def _prepare_billing(self, up_to, isolate):
        """Invoice groups for the due periods: ``(groups, failed, progress)``.

        A group is one invoice: its service periods, its usage periods (usage
        is due the day after its period ends, on the invoice of that date)
        and its lines. ``progress`` maps each subscription to the last day its
        due service and usage periods cover (billed now or already billed) and
        its renewed end date.
        """
        existing = self._billed_period_starts()
        progress = {}
        buckets = {}
        failed = self.browse()
        journals = {}

        def bucket_for(sub, invoice_date, journal):
            key = sub._invoice_grouping_key(invoice_date, journal)
            return buckets.setdefault(
                key,
                {
                    "subscriptions": self.browse(),
                    "periods": [],
                    "usage_periods": [],
                    "charges": [],
                    "changes": [],
                    "move_vals": sub._prepare_invoice_vals(invoice_date, journal),
                },
            )

        for sub in self:
            try:
                sub._check_billable()
                renewed_end = sub._renewed_end(up_to)
                schedule = sub._get_schedule(end=renewed_end)
                if not schedule:
                    continue
                journal = journals.get(sub.plan_id.id)
                if journal is None:
                    journal = journals[sub.plan_id.id] = sub.plan_id._get_sale_journal()
                state = {"until": None, "usage_until": None, "renewed_end": renewed_end}
                # Service periods on the plan's timing; usage always in arrears.
                streams = [
                    ("service", sub.plan_id.billing_timing, sub._next_unbilled_day())
                ]
                if sub.has_usage:
                    streams.append(("usage", ARREARS, sub._next_usage_day()))
                for kind, timing, since in streams:
                    for period in schedule.due_periods(timing, up_to, since, clip=True):
                        progress[sub] = state
                        state["until" if kind == "service" else "usage_until"] = (
                            period.end
                        )
                        if (sub.id, kind, period.start) in existing:
                            continue
                        bucket = bucket_for(sub, period.due_date(timing), journal)
                        bucket["subscriptions"] |= sub
                        if kind == "usage":
                            bucket["usage_periods"].append((sub, period))
                            continue
                        bucket["periods"].append((sub, period))
                        bucket["move_vals"]["invoice_line_ids"] += [
                            Command.create(vals)
                            for vals in sub._prepare_invoice_line_vals(period)
                        ]
            except (UserError, ValidationError, periods.PeriodError) as error:
                if not isolate:
                    raise
                failed |= sub._record_billing_error(error)
        failed |= self._rate_usage_periods(
            [bucket for bucket in buckets.values() if bucket["usage_periods"]],
            isolate,
        )
        # Drop the groups of failed subscriptions (a consolidated invoice is
        # written whole or not at all).
        for bucket in buckets.values():
            if bucket["subscriptions"] & failed:
                failed |= bucket["subscriptions"]
        groups = [
            bucket
            for bucket in buckets.values()
            if not bucket["subscriptions"] & failed
        ]
        self._add_pending_changes(groups)
        return groups, failed, progress

    def _add_pending_changes(self, groups):
        """Prorated amounts left for the next invoice go on each subscription's
        first invoice of this run."""
        pending = self.env["subscription.change"].search(
            [("subscription_id", "in", self.ids), ("proration_state", "=", "pending")],
            order="effective_date, id",
        )
        if not pending:
            return
        first_group = {}
        for group in sorted(groups, key=lambda g: g["move_vals"]["invoice_date"]):
            for sub in group["subscriptions"]:
                first_group.setdefault(sub, group)
        for change in pending:
            group = first_group.get(change.subscription_id)
            if group is None:
                continue
            group["changes"].append(change)
            group["move_vals"]["invoice_line_ids"] += [
                Command.create(change._move_line_vals(line))
                for line in change.proration_lines
            ]

    def _billed_period_starts(self):
        """(subscription, kind, start) billed after the billed-until days."""
        if not self:
            return set()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT p.subscription_id, p.kind, p.period_start
                  FROM subscription_period p
                  JOIN subscription_subscription s ON s.id = p.subscription_id
                 WHERE s.id = ANY(%s)
                   AND CASE WHEN p.kind = 'usage'
                            THEN s.usage_invoiced_until IS NULL
                                 OR p.period_start > s.usage_invoiced_until
                            ELSE s.invoiced_until IS NULL
                                 OR p.period_start > s.invoiced_until
                       END
                """,
                self.ids,
            )
        )
        return {(sub_id, kind, start) for sub_id, kind, start in rows}

    def _invoice_grouping_key(self, invoice_date, journal):
        self.ensure_one()
        customer = self.partner_invoice_id.commercial_partner_id
        if customer.subscription_consolidate_invoices:
            return (
                "consolidated",
                self.company_id.id,
                self.partner_invoice_id.id,
                self.currency_id.id,
                invoice_date,
                self.payment_term_id.id,
                self.fiscal_position_id.id,
                journal.id,
                self.plan_id.invoice_policy,
            )
        return ("single", self.id, invoice_date)

    # ------------------------------------------------------------------
    # Business methods: usage rating
    # ------------------------------------------------------------------

    def _rate_usage_periods(self, buckets, isolate):
        """Rate the usage periods of ``buckets``; add their lines; return failures.

        Aggregation runs in SQL for the whole batch (one query per metric);
        rating calls the pure engine; allowances roll over from the last
        rated period. Usage that arrived after its period was invoiced (late)
        is re-rated with the first usage period billed now.
        """
        failed = self.browse()
        if not buckets:
            return failed
        items = self._usage_items(buckets)
        quantities = self.env["subscription.usage"]._aggregate(
            [
                (
                    item[1],
                    item[3].metric_id,
                    item[4],
                    item[5],
                    item[3].charge_model == "percentage",
                )
                for item in items
            ]
        )
        history = self._usage_history([item for item in items if item[6]])
        pricings = (
            self.env["subscription.line"]
            .browse({item[3].id for item in items})
            ._prepare_pricings()
        )
        carried = self._carried_allowances(self.line_ids)
        charges_of = defaultdict(list)
        for index, item in enumerate(items):
            bucket, sub, period, line, start, end, late = item
            if sub in failed:
                continue
            try:
                if quantities[index]["error"]:
                    raise ValidationError(quantities[index]["error"])
                if late:
                    charge = sub._rate_late_usage(
                        line, start, end, quantities[index], history
                    )
                else:
                    charge = sub._rate_period_usage(
                        line, start, end, quantities[index], carried, pricings
                    )
            except (
                rating.RatingError,
                allowance.AllowanceError,
                ValidationError,
                ArithmeticError,
            ) as error:
                if isinstance(error, ArithmeticError):
                    error = self.env._(
                        "its figures are too large to compute (%(error)s).",
                        error=type(error).__name__,
                    )
                if not isolate:
                    raise ValidationError(
                        self.env._(
                            "Subscription %(sub)s, usage line %(line)s: %(error)s",
                            sub=sub.display_name,
                            line=line.name,
                            error=error,
                        )
                    ) from None
                failed |= sub._record_billing_error(
                    self.env._(
                        "Usage line %(line)s: %(error)s", line=line.name, error=error
                    )
                )
                continue
            if charge:
                charge["period"] = period
                charges_of[(id(bucket), sub, period.start)].append(charge)
        self._add_usage_lines(buckets, charges_of, failed)
        return failed

    def _usage_items(self, buckets):
        """What to rate: ``(bucket, sub, period, line, start, end, late)``."""
        # Read every usage line, its tiers and metric in a few queries.
        usage_lines = self.line_ids.filtered(lambda line: line.line_type == "usage")
        usage_lines.fetch(
            [
                "name",
                "product_id",
                "metric_id",
                "charge_model",
                "included_units",
                "carry_over",
                "carry_over_cap",
                "carry_over_expiry",
                "min_amount",
                "max_amount",
            ]
        )
        usage_lines.metric_id.fetch(["code", "aggregation", "uom_id"])
        lines_of = defaultdict(list)
        for line in usage_lines:
            lines_of[line.subscription_id].append(line)
        items = []
        first_period = {}
        for bucket in buckets:
            for sub, period in bucket["usage_periods"]:
                first_period.setdefault(sub, (bucket, period))
                items += self._clipped_items(
                    bucket, sub, period, lines_of[sub], period.start, period.end, False
                )
        for sub, (bucket, period), start, end in self._late_usage_periods(first_period):
            items += self._clipped_items(
                bucket, sub, period, lines_of[sub], start, end, True
            )
        return items

    @api.model
    def _clipped_items(self, bucket, sub, period, lines, start, end, late):
        """One item per usage line billed during ``start..end``, cut to its days:
        a change splits a period between the old and the new line."""
        items = []
        for line in lines:
            first = max(start, line.date_start or start)
            last = min(end, line.date_end or end)
            if first <= last:
                items.append((bucket, sub, period, line, first, last, late))
        return items

    def _add_usage_lines(self, buckets, charges_of, failed):
        """Add the rated usage (and true-up) lines to the invoices."""
        for bucket in buckets:
            for sub, period in bucket["usage_periods"]:
                if sub in failed:
                    continue
                charges = charges_of.get((id(bucket), sub, period.start), [])
                bucket["charges"] += charges
                bucket["move_vals"]["invoice_line_ids"] += [
                    Command.create(charge["line_vals"]) for charge in charges
                ]
                true_up = sub._prepare_true_up_line_vals(period, charges)
                if true_up:
                    bucket["move_vals"]["invoice_line_ids"].append(
                        Command.create(true_up)
                    )

    def _late_usage_periods(self, first_period):
        """Usage periods with late events: ``(sub, (bucket, period), start, end)``.

        Late events are the unrated events of periods already invoiced.
        """
        subs = self.browse([sub.id for sub in first_period if sub.usage_invoiced_until])
        if not subs:
            return []
        rows = self.env.execute_query(
            SQL(
                """
                SELECT u.subscription_id, ARRAY_AGG(DISTINCT u.timestamp::date)
                  FROM subscription_usage u
                  JOIN UNNEST(%s::int[], %s::timestamp[], %s::timestamp[])
                       AS v(sub, since, until) ON u.subscription_id = v.sub
                 WHERE u.charge_id IS NULL
                   AND u.timestamp >= v.since AND u.timestamp < v.until
                 GROUP BY u.subscription_id
                """,
                subs.ids,
                [sub._billing_start() for sub in subs],
                [sub.usage_invoiced_until + ONE_DAY for sub in subs],
            )
        )
        result = []
        for sub_id, days in rows:
            sub = self.browse(sub_id)
            schedule = sub._get_schedule(open_ended=True)
            starts = sorted({schedule.period_at(day).start for day in days})
            for start in starts:
                period = schedule.period_at(start)
                result.append((sub, first_period[sub], period.start, period.end))
        return result

    def _usage_history(self, late_items):
        """Charges already invoiced for the periods that have late usage."""
        if not late_items:
            return {}
        charges = self.env["subscription.usage.charge"].search(
            [
                ("subscription_line_id", "in", [item[3].id for item in late_items]),
                ("usage_start", "in", list({item[4] for item in late_items})),
            ],
            order="id",
        )
        history = defaultdict(lambda: self.env["subscription.usage.charge"])
        for charge in charges:
            history[(charge.subscription_line_id.id, charge.usage_start)] |= charge
        return history

    def _carried_allowances(self, lines):
        """Carried buckets of each usage line after its last rated period."""
        lines = lines.filtered(
            lambda line: line.line_type == "usage" and line.carry_over
        )
        if not lines:
            return {}
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (subscription_line_id)
                       subscription_line_id, carry_buckets
                  FROM subscription_usage_charge
                 WHERE subscription_line_id = ANY(%s) AND NOT COALESCE(is_late, FALSE)
                 ORDER BY subscription_line_id, usage_start DESC
                """,
                lines.ids,
            )
        )
        return {line_id: allowance.load(buckets) for line_id, buckets in rows}

    def _rate_period_usage(self, line, start, end, measured, carried, pricings):
        """The charge of ``line`` for the period ``start``..``end``."""
        self.ensure_one()
        quantity = measured["quantity"]
        buckets = carried.get(line.id, ())
        included = exact_decimal(line.included_units)
        carried_in = sum((bucket.units for bucket in buckets), Decimal(0))
        result = line._rate_usage(
            quantity,
            measured["transactions"],
            included=included + carried_in,
            pricing=pricings.get(line.id),
        )
        roll = allowance.roll(
            result.included_units_used,
            included,
            buckets,
            origin=str(start),
            carry_over=line.carry_over,
            cap=exact_decimal(line.carry_over_cap) if line.carry_over_cap else None,
            expiry=line.carry_over_expiry or None,
        )
        # The allowance used is all the engine took off: nothing more is billed.
        roll = allowance.Allowance(
            roll.included,
            roll.carried_in,
            roll.used,
            roll.expired,
            roll.carried_out,
            quantity - roll.used,
            roll.buckets,
        )
        carried[line.id] = roll.buckets
        return self._usage_charge(line, start, end, measured, result, roll)

    def _rate_late_usage(self, line, start, end, measured, history):
        """A correcting charge for usage that came after ``start``'s invoice."""
        self.ensure_one()
        before = history.get((line.id, start))
        if not before:
            return None
        # The stored details hold the exact figures (the float columns do not).
        first = before.sorted("id")[0].details or {}
        granted = first.get("allowance") or {}
        available = clean_decimal(
            exact_decimal(granted.get("included", "0"))
            + exact_decimal(granted.get("carried_in", "0"))
        )
        result = line._rate_usage(
            measured["quantity"], measured["transactions"], included=available
        )
        billed_before = sum(
            (
                exact_decimal((charge.details or {}).get("amount", "0"))
                for charge in before
            ),
            Decimal(0),
        )
        previous_quantity = exact_decimal(
            (before.sorted("id")[-1].details or {}).get("quantity", "0")
        )
        charge = self._usage_charge(
            line,
            start,
            end,
            measured,
            result,
            None,
            late={"billed_before": billed_before, "quantity_before": previous_quantity},
        )
        return charge

    def _usage_charge(self, line, start, end, measured, result, roll, late=None):
        """Charge values (stored) and invoice line values of a rated usage."""
        quantum = repr(self.currency_id.rounding)
        quantity = measured["quantity"]
        metric = line.metric_id
        uom = metric.uom_id.name or ""
        # An average shows the metric's decimals, not the division's digits.
        explanation = result.explain(
            metric.quantity_decimals if metric.aggregation == "weighted_sum" else None
        )
        amount = result.amount
        period_label = f"{start} → {end}"
        if late:
            amount -= late["billed_before"]
            explanation = self.env._(
                "%(explain)s - %(before)s already invoiced",
                explain=explanation,
                before=fmt_money(late["billed_before"]),
            )
            name = self.env._(
                "%(line)s — late usage %(period)s: %(quantity)s instead of "
                "%(before)s — %(explain)s",
                line=line.name,
                period=period_label,
                quantity=f"{metric._format_quantity(quantity)} {uom}".strip(),
                before=metric._format_quantity(late["quantity_before"]),
                explain=explanation,
            )
        else:
            name = self.env._(
                "%(line)s — %(period)s: %(quantity)s — %(explain)s",
                line=line.name,
                period=period_label,
                quantity=f"{metric._format_quantity(quantity)} {uom}".strip(),
                explain=explanation,
            )
        rounded = periods.quantize(amount, quantum)
        # The invoice line holds a float: refuse what it cannot hold exactly.
        if exact_decimal(float(rounded)) != rounded:
            raise ValidationError(
                self.env._(
                    "The amount %(amount)s cannot be invoiced exactly: check the "
                    "usage and the prices.",
                    amount=fmt_money(rounded),
                )
            )
        details = {
            "metric": line.metric_id.code,
            "period": [str(start), str(end)],
            "events": measured["count"],
            "quantity": str(quantity),
            "charge_model": result.model,
            "tiers": [
                {
                    "units": str(detail.units),
                    "unit_price": str(detail.unit_price),
                    "flat_fee": str(detail.flat_fee),
                    "amount": str(detail.amount),
                    "from": str(detail.from_),
                    "to": None if detail.to is None else str(detail.to),
                    "kind": detail.kind,
                    "note": detail.note,
                }
                for detail in result.details
            ],
            "included_units_used": str(result.included_units_used),
            "minimum_adjustment": str(result.minimum_adjustment),
            "maximum_adjustment": str(result.maximum_adjustment),
            "amount": str(amount),
            "amount_rounded": str(rounded),
            "explanation": explanation,
            "late": bool(late),
        }
        if late:
            details["billed_before"] = str(late["billed_before"])
        if roll:
            details["allowance"] = {
                "included": str(roll.included),
                "carried_in": str(roll.carried_in),
                "used": str(roll.used),
                "expired": str(roll.expired),
                "carried_out": str(roll.carried_out),
                "billed": str(roll.billed),
            }
        line_vals = {
            "product_id": line.product_id.id,
            "name": name,
            "quantity": 1,
            "price_unit": float(rounded),
            "subscription_id": self.id,
            "subscription_line_id": line.id,
            "subscription_period_start": start,
            "subscription_period_end": end,
            "subscription_usage_details": details,
        }
        charge_vals = {
            "subscription_id": self.id,
            "subscription_line_id": line.id,
            "metric_id": line.metric_id.id,
            "usage_start": start,
            "usage_end": end,
            "is_late": bool(late),
            "event_count": measured["count"],
            "quantity": float(quantity),
            "amount": float(rounded),
            "explanation": explanation,
            "details": details,
        }
        if roll:
            charge_vals.update(
                included=float(roll.included),
                carried_in=float(roll.carried_in),
                allowance_used=float(roll.used),
                expired=float(roll.expired),
                carried_out=float(roll.carried_out),
                billed_units=float(roll.billed),
                carry_buckets=allowance.dump(roll.buckets),
            )
        else:
            charge_vals["billed_units"] = float(quantity - result.included_units_used)
        return {
            "line": line,
            "rounded": rounded,
            "late": bool(late),
            "line_vals": line_vals,
            "charge_vals": charge_vals,
        }

    def _prepare_true_up_line_vals(self, period, charges):
        """True-up line when the usage of ``period`` costs less than the minimum."""
        self.ensure_one()
        minimum = exact_decimal(self.plan_id.minimum_spend)
        if not minimum:
            return None
        spent = sum(
            (charge["rounded"] for charge in charges if not charge["late"]), Decimal(0)
        )
        if spent >= minimum:
            return None
        usage_lines = self.line_ids.filtered(lambda line: line.line_type == "usage")
        product = self.plan_id.minimum_spend_product_id or usage_lines[:1].product_id
        return {
            "product_id": product.id,
            "name": self.env._(
                "Minimum spend true-up — %(period)s: minimum %(minimum)s, usage "
                "%(spent)s",
                period=f"{period.start} → {period.end}",
                minimum=fmt_money(minimum),
                spent=fmt_money(spent),
            ),
            "quantity": 1,
            "price_unit": float(minimum - spent),
            "subscription_id": self.id,
            "subscription_period_start": period.start,
            "subscription_period_end": period.end,
        }

    def _prepare_invoice_vals(self, invoice_date, journal):
        self.ensure_one()
        vals = {
            "move_type": "out_invoice",
            "partner_id": self.partner_invoice_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "journal_id": journal.id,
            "invoice_date": invoice_date,
            "invoice_payment_term_id": self.payment_term_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "invoice_user_id": self.user_id.id,
            "invoice_origin": self.name,
            "invoice_line_ids": [],
        }
        if not self.payment_term_id:
            # Due on the invoice date (Odoo would take today: a catch-up
            # invoice of March would fall due in June).
            vals["invoice_date_due"] = invoice_date
        return vals

    def _prepare_invoice_line_vals(self, period):
        """Invoice line values of one period: one line per subscription line."""
        self.ensure_one()
        quantum = repr(self.currency_id.rounding)
        period_label = f"{period.start} → {period.end}"
        if period.is_partial:
            period_label = self.env._(
                "%(period)s (%(days)s/%(full)s days)",
                period=period_label,
                days=period.days,
                full=period.full_days,
            )
        vals_list = []
        for line in self.line_ids.filtered(lambda line: line.line_type == "fixed"):
            part = core_changes.clip(period, line.date_start, line.date_end)
            if part is None:
                continue
            label = period_label
            if part != period:
                # A change split the period: this line bills its own days.
                label = self.env._(
                    "%(period)s (%(days)s/%(full)s days)",
                    period=f"{part.start} → {part.end}",
                    days=part.days,
                    full=part.full_days,
                )
            price, __ = periods.prorate(repr(line.price_unit), part, quantum)
            vals_list.append(
                {
                    "product_id": line.product_id.id,
                    "name": f"{line.name} — {label}",
                    "quantity": line.quantity,
                    "price_unit": float(price),
                    "discount": line.discount,
                    "subscription_id": self.id,
                    "subscription_line_id": line.id,
                    "subscription_period_start": part.start,
                    "subscription_period_end": part.end,
                    "subscription_billed_days": part.days,
                    "subscription_period_days": part.full_days,
                }
            )
        return vals_list

    def _write_billing(self, groups):
        """Create the invoices, period rows and rated usage of ``groups``.

        Returns the moves. A group without any line (the first period of a
        usage-only plan billed in advance) records its periods without an
        invoice. The usage events rated are marked with their charge, in one
        statement, so no event is ever rated twice.
        """
        invoiced = [group for group in groups if group["move_vals"]["invoice_line_ids"]]
        moves = (
            self.env["account.move"]
            .with_context(**INVOICE_CREATE_CONTEXT)
            .create([group["move_vals"] for group in invoiced])
        )
        move_of = {id(group): move for group, move in zip(invoiced, moves, strict=True)}
        period_vals = []
        for group in groups:
            move = move_of.get(id(group))
            invoice_date = group["move_vals"]["invoice_date"]
            for kind, key in (("service", "periods"), ("usage", "usage_periods")):
                for sub, period in group[key]:
                    period_vals.append(
                        {
                            "subscription_id": sub.id,
                            "kind": kind,
                            "period_start": period.start,
                            "period_end": period.end,
                            "invoice_date": invoice_date,
                            "billed_days": period.days,
                            "period_days": period.full_days,
                            "invoice_id": move.id if move else False,
                        }
                    )
        # Billed periods are written by the billing process only.
        period_rows = self.env["subscription.period"].sudo().create(period_vals)
        self._write_usage_charges(groups, move_of, period_rows)
        for group in groups:
            if group["changes"] and id(group) in move_of:
                changes = self.env["subscription.change"].union(*group["changes"])
                changes.move_id = move_of[id(group)]
        if moves:
            self._finalize_moves(
                moves,
                [
                    group["subscriptions"][:1].plan_id.invoice_policy
                    for group in invoiced
                ],
            )
        return moves

    def _write_usage_charges(self, groups, move_of, period_rows):
        """Store the rated usage and mark the events it rated."""
        if not any(group["charges"] for group in groups):
            return
        period_id = {
            (row.subscription_id.id, row.period_start): row.id
            for row in period_rows
            if row.kind == "usage"
        }
        charge_vals = []
        for group in groups:
            move = move_of.get(id(group))
            lines = (
                {
                    (
                        line.subscription_line_id.id,
                        line.subscription_period_start,
                    ): line.id
                    for line in move.invoice_line_ids
                }
                if move
                else {}
            )
            for charge in group["charges"]:
                vals = charge["charge_vals"]
                vals["period_id"] = period_id[
                    (vals["subscription_id"], charge["period"].start)
                ]
                vals["invoice_line_id"] = lines.get(
                    (vals["subscription_line_id"], vals["usage_start"])
                )
                charge_vals.append(vals)
        charges = self.env["subscription.usage.charge"].sudo().create(charge_vals)
        self.env.flush_all()
        self.env.execute_query(
            SQL(
                """
                UPDATE subscription_usage u SET charge_id = v.charge
                  FROM UNNEST(%s::int[], %s::int[], %s::int[], %s::timestamp[],
                              %s::timestamp[]) AS v(charge, sub, metric, since, until)
                 WHERE u.subscription_id = v.sub AND u.metric_id = v.metric
                   AND u.timestamp >= v.since AND u.timestamp < v.until
                   AND u.charge_id IS NULL
                """,
                charges.ids,
                [vals["subscription_id"] for vals in charge_vals],
                [vals["metric_id"] for vals in charge_vals],
                [vals["usage_start"] for vals in charge_vals],
                [vals["usage_end"] + ONE_DAY for vals in charge_vals],
            )
        )
        self.env["subscription.usage"].invalidate_model(["charge_id"])

    def _advance_billing(self, progress):
        """Move billed subscriptions past the periods now covered.

        Writes are grouped by value (one UPDATE per distinct date), renewals
        are recorded, trials that reached billing become active.
        """
        by_date = defaultdict(lambda: self.browse())
        by_usage_date = defaultdict(lambda: self.browse())
        for sub, values in progress.items():
            renewed_end = values["renewed_end"]
            if renewed_end and renewed_end != sub.date_end:
                sub._as_engine().date_end = renewed_end
                sub.message_post(
                    body=self.env._("Term renewed until %(end)s.", end=renewed_end)
                )
            until = values.get("until")
            if until and (not sub.invoiced_until or until > sub.invoiced_until):
                by_date[until] |= sub
            usage_until = values.get("usage_until")
            if usage_until and (
                not sub.usage_invoiced_until or usage_until > sub.usage_invoiced_until
            ):
                by_usage_date[usage_until] |= sub
        for until, subs in by_date.items():
            subs._as_engine().invoiced_until = until
        for until, subs in by_usage_date.items():
            subs._as_engine().usage_invoiced_until = until
        touched = self.browse([sub.id for sub in progress])
        touched.filtered(lambda s: s.state == "trial")._activate_after_trial()
        touched._update_next_invoice_date()

    def _finalize_moves(self, moves, policies):
        """Post (and send) new documents as their plans ask (``policies``:
        each move's plan ``invoice_policy``)."""
        to_post = self.env["account.move"]
        to_send = self.env["account.move"]
        for move, policy in zip(moves, policies, strict=True):
            if policy in ("post", "send"):
                to_post |= move
            if policy == "send":
                to_send |= move
        if to_post:
            to_post.action_post()
        if to_send:
            to_send.sending_data = {
                "author_user_id": self.env.user.id,
                "author_partner_id": self.env.user.partner_id.id,
            }
            cron = self.env.ref("account.ir_cron_account_move_send", False)
            if cron:
                cron.sudo()._trigger()

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

    def _renewed_end(self, up_to):
        """End date after renewing a fixed term that ends before ``up_to``.

        ``None`` when nothing renews: open-ended plans, terms that do not
        renew, subscriptions being closed.
        """
        self.ensure_one()
        plan = self.plan_id
        if not self._renews():
            return None
        end = self.date_end
        if not end or end >= up_to:
            return None
        while end < up_to:
            end = periods.add_interval(
                end + timedelta(days=1), plan.term_interval, plan.term_unit
            ) - timedelta(days=1)
        return end

    # ------------------------------------------------------------------
    # Preview of the next invoice (dry run)
    # ------------------------------------------------------------------

    def preview_next_invoice(self):
        """What the next invoice would contain now; writes nothing (API).

        Returns a dict: ``invoice_date``, ``currency``, ``lines`` (description,
        quantity, unit price, discount, subtotal, taxes), ``usage`` (rated
        usage with its allowance and details), ``amount_untaxed``,
        ``amount_tax`` and ``amount_total``; usage is counted up to now.
        """
        self.ensure_one()
        self.check_access("read")
        result = {
            "subscription": self.name,
            "invoice_date": False,
            "currency": self.currency_id.name,
            "lines": [],
            "usage": [],
            "amount_untaxed": 0.0,
            "amount_tax": 0.0,
            "amount_total": 0.0,
        }
        if self.state not in BILLABLE_STATES or not self.next_invoice_date:
            return result
        groups = self._preview_groups(self.next_invoice_date)
        if not groups and self.has_usage:
            # A usage-only plan billed in advance has nothing to invoice at
            # the start of a period: its next invoice bills the current usage.
            schedule = self._get_schedule(open_ended=self._renews())
            day = max(fields.Date.context_today(self), self._next_usage_day())
            later = schedule and schedule.next_due_date(ARREARS, day)
            if later and later > self.next_invoice_date:
                groups = self._preview_groups(later)
        if not groups:
            return result
        group = min(groups, key=lambda g: g["move_vals"]["invoice_date"])
        move = (
            self.env["account.move"]
            .with_context(**INVOICE_CREATE_CONTEXT)
            .new(group["move_vals"])
        )
        result.update(
            invoice_date=fields.Date.to_string(move.invoice_date),
            lines=[
                {
                    "description": line.name,
                    "product": line.product_id.display_name,
                    "quantity": line.quantity,
                    "price_unit": line.price_unit,
                    "discount": line.discount,
                    "subtotal": line.price_subtotal,
                    "taxes": line.tax_ids.mapped("name"),
                }
                for line in move.invoice_line_ids
            ],
            usage=[
                {
                    "metric": charge["line"].metric_id.code,
                    "description": charge["line"].name,
                    "amount": float(charge["rounded"]),
                    # Exact figures with the metric's precision, for display.
                    "display": self.env["subscription.usage.charge"]._display_figures(
                        charge["line"].metric_id, charge["charge_vals"]["details"]
                    ),
                    **{
                        key: charge["charge_vals"].get(key, 0.0)
                        for key in (
                            "usage_start",
                            "usage_end",
                            "is_late",
                            "event_count",
                            "quantity",
                            "included",
                            "carried_in",
                            "allowance_used",
                            "expired",
                            "carried_out",
                            "billed_units",
                            "explanation",
                            "details",
                        )
                    },
                }
                for charge in group["charges"]
                if charge["line"].subscription_id == self
            ],
        )
        # A new (unsaved) move has no journal items to total: add its lines.
        untaxed = sum(move.invoice_line_ids.mapped("price_subtotal"))
        total = sum(move.invoice_line_ids.mapped("price_total"))
        result.update(
            amount_untaxed=self.currency_id.round(untaxed),
            amount_tax=self.currency_id.round(total - untaxed),
            amount_total=self.currency_id.round(total),
        )
        for usage in result["usage"]:
            for key in ("usage_start", "usage_end"):
                usage[key] = fields.Date.to_string(usage[key])
        return result

    def _portal_preview(self):
        """The next invoice for the portal page; empty when it cannot be
        computed now (the page shows the rest)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                return self.preview_next_invoice()
        except UserError:
            return {"invoice_date": False, "lines": [], "usage": [], "amount_total": 0}

    # ------------------------------------------------------------------
    # Statement
    # ------------------------------------------------------------------

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Statement %(name)s", name=self.name).replace("/", "-")

    def _statement_moves(self):
        self.ensure_one()
        return self.invoice_ids.filtered(
            lambda m: (
                m.state == "posted" and m.move_type in ("out_invoice", "out_refund")
            )
        ).sorted(lambda m: (m.invoice_date, m.id))

    def _statement_rows(self):
        """Invoices, credit notes and their payments, by date, with the
        running balance (for the statement)."""
        self.ensure_one()
        entries = []
        for move in self._statement_moves():
            sign = -1 if move.move_type == "out_refund" else 1
            entries.append(
                (move.invoice_date, 0, move.name, sign * move.amount_total, 0.0)
            )
            if move.move_type != "out_invoice":
                continue
            for payment in (move.invoice_payments_widget or {}).get("content", []):
                if payment.get("is_exchange"):
                    continue
                label = payment.get("ref") or payment.get("name") or ""
                entries.append((payment["date"], 1, label, 0.0, payment["amount"]))
        rows, balance = [], 0.0
        for day, __, document, invoiced, paid in sorted(entries, key=lambda e: e[:2]):
            balance = self.currency_id.round(balance + invoiced - paid)
            rows.append(
                {
                    "date": day,
                    "document": document,
                    "invoiced": invoiced,
                    "paid": paid,
                    "balance": balance,
                }
            )
        return rows

    def _statement_balance(self):
        self.ensure_one()
        moves = self._statement_moves().filtered(lambda m: m.move_type == "out_invoice")
        return self.currency_id.round(sum(moves.mapped("amount_residual")))

    # ------------------------------------------------------------------
    # Customer portal: self-service within the plan's policies
    # ------------------------------------------------------------------

    # Close reasons the processes set; customers pick among the others.
    SYSTEM_CLOSE_REASONS = (
        "subscription_billing.close_reason_term_ended",
        "subscription_billing.close_reason_trial_not_converted",
        "subscription_billing.close_reason_unpaid",
    )

    def _portal_close_reasons(self):
        system = [
            self.env.ref(x, raise_if_not_found=False) for x in self.SYSTEM_CLOSE_REASONS
        ]
        return self.env["subscription.close.reason"].search(
            [("id", "not in", [r.id for r in system if r])]
        )

    def _portal_actions(self):
        """What the customer may do now: ``{operation: allowed}``."""
        self.ensure_one()
        plan = self.plan_id
        running = self.state in ("trial", "active")
        pending = self._pending_cancellation()
        return {
            "change_quantity": running and plan.portal_change_quantity and not pending,
            "change_plan": running
            and plan.portal_change_plan
            and bool(plan.portal_plan_ids)
            and not pending,
            "options": running and plan.portal_manage_options and not pending,
            "cancel": self.state in ("trial", "active", "paused")
            and plan.portal_cancel
            and not pending,
            "reactivate": bool(pending) and plan.portal_cancel,
        }

    def _portal_payment_tokens(self):
        """The saved methods the customer may choose for this subscription."""
        self.ensure_one()
        return (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self.commercial_partner_id.id),
                    ("company_id", "in", [self.company_id.id, False]),
                ]
            )
        )

    def _portal_available_options(self):
        self.ensure_one()
        current = self.line_ids.filtered("is_current").plan_line_id
        return self.plan_id.line_ids.filtered(
            lambda line: line.is_optional and line not in current
        )

    def _portal_can_change(self):
        """Whether the current user may change this subscription in the
        portal: one of the customer's own users (its commercial entity), not
        a shared link, nor staff of the seller acting through the portal."""
        self.ensure_one()
        user = self.env.user
        return (
            not user._is_public()
            and user.partner_id.commercial_partner_id == self.commercial_partner_id
        )

    def _portal_check_change_right(self):
        if not self._portal_can_change():
            raise AccessError(
                self.env._(
                    "Only the users of %(customer)s may change subscription "
                    "%(sub)s in the portal.",
                    customer=self.commercial_partner_id.display_name,
                    sub=self.name,
                )
            )

    def _portal_set_payment_token(self, token):
        """The customer chooses one of its saved methods for the automatic
        payment."""
        self.ensure_one()
        self._portal_check_change_right()
        if token not in self._portal_payment_tokens() or self.state in (
            "draft",
            "closed",
        ):
            raise UserError(self.env._("Choose one of your saved payment methods."))
        self._set_payment_token(token)

    def _portal_change(self, operation, params, simulate=True):
        """Run a change asked in the portal (``params``: the form's strings),
        after checking the user's right and the plan's policies; a simulation
        writes nothing. Raises ``UserError`` with the reason otherwise."""
        self.ensure_one()
        self._portal_check_change_right()
        actions = self._portal_actions()
        key = "options" if operation in ("add_option", "remove_option") else operation
        if not actions.get(key):
            raise UserError(
                self.env._("This change is not available for your subscription.")
            )
        if operation == "change_quantity":
            line = self._portal_line(params.get("line_id"))
            try:
                quantity = float(params.get("quantity"))
            except (TypeError, ValueError) as error:
                raise UserError(self.env._("Enter a quantity.")) from error
            if quantity == line.quantity:
                raise UserError(self.env._("The quantity is unchanged."))
            return self.change_quantity(line.id, quantity, simulate=simulate)
        if operation == "change_plan":
            plan = self.plan_id.portal_plan_ids.filtered(
                lambda p: str(p.id) == str(params.get("plan_id"))
            )
            if not plan:
                raise UserError(self.env._("Choose one of the plans offered."))
            return self.change_plan(plan.id, simulate=simulate)
        if operation == "add_option":
            option = self._portal_available_options().filtered(
                lambda line: str(line.id) == str(params.get("plan_line_id"))
            )
            if not option:
                raise UserError(self.env._("Choose one of the options offered."))
            return self.add_option(option.id, simulate=simulate)
        if operation == "remove_option":
            line = self._portal_line(params.get("line_id"))
            if not line.plan_line_id.is_optional:
                raise UserError(self.env._("Only options can be removed."))
            return self.remove_option(line.id, simulate=simulate)
        if operation == "cancel":
            reason = self._portal_close_reasons().filtered(
                lambda r: str(r.id) == str(params.get("reason_id"))
            )
            if not reason:
                raise UserError(self.env._("Tell us why you cancel."))
            return self.cancel(
                policy="end_of_period", reason_id=reason.id, simulate=simulate
            )
        if operation == "reactivate":
            return self.reactivate(simulate=simulate)
        raise UserError(self.env._("Unknown change."))

    def _portal_line(self, line_id):
        line = self.line_ids.filtered(
            lambda line: (
                line.is_current
                and line.line_type == "fixed"
                and str(line.id) == str(line_id)
            )
        )
        if not line:
            raise UserError(self.env._("This line is not part of your subscription."))
        return line

    def _preview_groups(self, up_to):
        groups, __, __ = self._prepare_billing(up_to, isolate=False)
        return [g for g in groups if g["move_vals"]["invoice_line_ids"]]

    def _render_preview(self):
        """The preview as HTML for the form; errors are shown, not raised."""
        self.ensure_one()
        if not self.id or self.state not in BILLABLE_STATES:
            return False
        try:
            with self.env.cr.savepoint(flush=False):
                preview = self.preview_next_invoice()
        except (UserError, ValidationError, periods.PeriodError) as error:
            return Markup("<p class='text-danger'>%s</p>") % str(error)
        if not preview["lines"]:
            return Markup("<p>%s</p>") % self.env._("Nothing to invoice.")
        currency = self.currency_id

        def money(amount):
            return formatLang(self.env, amount, currency_obj=currency)

        headers = [self.env._("Description")]
        headers += [self.env._("Quantity"), self.env._("Amount")]
        return Markup("<p><strong>%s</strong> %s</p>%s") % (
            self.env._("Invoice date:"),
            preview["invoice_date"],
            html_table(
                headers,
                [
                    (
                        line["description"],
                        formatLang(self.env, line["quantity"]),
                        money(line["subtotal"]),
                    )
                    for line in preview["lines"]
                ],
                [
                    (self.env._("Untaxed"), money(preview["amount_untaxed"])),
                    (self.env._("Taxes"), money(preview["amount_tax"])),
                    (
                        Markup("<strong>%s</strong>") % self.env._("Total"),
                        Markup("<strong>%s</strong>") % money(preview["amount_total"]),
                    ),
                ],
            ),
        )

    def action_preview_next_invoice(self):
        """Open the form on its preview page."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "subscription.preview.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_id": self.id},
        }

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

    def _record_billing_error(self, error):
        """Keep the error on the subscriptions: message, activity, field."""
        message = str(error)
        activity_type = self.env.ref(
            "subscription_billing.mail_activity_type_billing_error"
        )
        for sub in self:
            sub.billing_error = message
            sub.message_post(
                body=self.env._("Billing failed: %(error)s", error=message),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            if not sub.activity_ids.filtered(
                lambda a, t=activity_type: a.activity_type_id == t
            ):
                sub.activity_schedule(
                    activity_type_id=activity_type.id,
                    note=message,
                    user_id=sub.user_id.id or self.env.uid,
                )
        return self

    @api.model
    def _close_ended(self):
        """Close subscriptions whose end date has passed and that are fully billed."""
        today = fields.Date.context_today(self)
        ended = self.search(
            [
                ("state", "in", ("trial", "active", "paused")),
                ("date_end", "<", today),
                ("next_invoice_date", "=", False),
            ]
        )
        ended = ended.filtered(lambda s: not s._renews())
        if not ended:
            return
        reason = self.env.ref("subscription_billing.close_reason_term_ended")
        without_reason = ended.filtered(lambda s: not s.close_reason_id)
        without_reason.close_reason_id = reason
        ended._end_lines()
        ended._as_engine().state = "closed"

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
    # Changes (public API: each method can be called over the external API)
    # ------------------------------------------------------------------

    def _change(self, operation, values, simulate=False):
        """Request a change; return a summary (JSON-friendly)."""
        self.ensure_one()
        self.check_access("write")
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
            elif name == "policy" and value not in dict(CHANGE_POLICIES):
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
        return Decimal(repr(last.mrr_after)) if last else Decimal(0)

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
    # Trials
    # ------------------------------------------------------------------

    @api.model
    def _next_renewal_date(self):
        self.ensure_one()
        return self.date_end and self.date_end + ONE_DAY

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
                    date=sub.trial_end_date,
                )
            )


class BillingResult:
    """Outcome of a billing batch: the invoices written and the failed subscriptions."""

    __slots__ = ("failed", "moves")

    def __init__(self, moves, failed):
        self.moves = moves
        self.failed = failed
