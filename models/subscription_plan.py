# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..const import CHANGE_POLICIES
from ..core import periods
from ..tools import check_number_values

PERIOD_UNITS = [
    (periods.DAY, "Days"),
    (periods.WEEK, "Weeks"),
    (periods.MONTH, "Months"),
    (periods.YEAR, "Years"),
]

# Changing these on a plan in use would move the periods already billed.
SCHEDULE_FIELDS = (
    "billing_interval",
    "billing_unit",
    "billing_timing",
    "alignment",
    "alignment_day",
    "alignment_month",
    "currency_id",
    "company_id",
)


class SubscriptionPlan(models.Model):
    _name = "subscription.plan"
    _description = "Subscription Plan"
    _inherit = ["mail.thread", "analytic.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
    )
    billing_interval = fields.Integer(
        string="Bill Every", required=True, default=1, tracking=True
    )
    billing_unit = fields.Selection(
        PERIOD_UNITS, string="Period Unit", required=True, default=periods.MONTH
    )
    billing_timing = fields.Selection(
        [(periods.ADVANCE, "In advance"), (periods.ARREARS, "In arrears")],
        string="Billed",
        required=True,
        default=periods.ADVANCE,
        help="In advance: each period is invoiced on its first day. "
        "In arrears: on the day after it ends.",
    )
    alignment = fields.Selection(
        [
            (periods.ANNIVERSARY, "Anniversary of the start"),
            (periods.CALENDAR, "Calendar"),
        ],
        required=True,
        default=periods.ANNIVERSARY,
        help="Anniversary: periods start on the subscription's start date. "
        "Calendar: periods start on a fixed day (e.g. the 1st of the month); "
        "the first period is prorated by days.",
    )
    alignment_day = fields.Integer(
        default=1,
        help="Calendar alignment: day of the month (1-31, clamped to short "
        "months) for monthly and yearly plans, weekday (1 = Monday) for "
        "weekly plans.",
    )
    alignment_month = fields.Integer(
        default=1,
        help="Calendar alignment of yearly and multi-month plans: the month "
        "(1-12) periods start in.",
    )
    trial_interval = fields.Integer(string="Free Trial", default=0)
    trial_unit = fields.Selection(PERIOD_UNITS, required=True, default=periods.DAY)
    term_type = fields.Selection(
        [("evergreen", "Until cancelled"), ("fixed", "Fixed term")],
        string="Term",
        required=True,
        default="evergreen",
    )
    term_interval = fields.Integer(string="Term Length", default=12)
    term_unit = fields.Selection(PERIOD_UNITS, required=True, default=periods.MONTH)
    auto_renew = fields.Boolean(
        default=True,
        help="Fixed term: renew for another term when it ends; otherwise the "
        "subscription closes at the end of its term.",
    )
    commitment_interval = fields.Integer(
        string="Minimum Commitment",
        default=0,
        help="The subscription cannot end before this duration has passed.",
    )
    commitment_unit = fields.Selection(
        PERIOD_UNITS, required=True, default=periods.MONTH
    )
    notice_days = fields.Integer(
        string="Notice Period (days)",
        default=0,
        help="Days of notice the customer must give before the end date.",
    )
    invoice_policy = fields.Selection(
        [
            ("draft", "Leave as draft"),
            ("post", "Post"),
            ("send", "Post and send by email"),
        ],
        string="Invoices",
        required=True,
        default=lambda self: self.env.company.subscription_invoice_policy or "post",
    )
    skip_zero_invoices = fields.Boolean(
        string="Skip 0.00 Invoices",
        help="When every line of an invoice of the billing run comes to 0.00 "
        "(usage covered by the allowance, a free plan), no invoice is issued: "
        "the period is recorded as billed, with nothing due, and a note says so "
        "on the subscription. Off: a 0.00 invoice is issued. An invoice that "
        "bills a one-time line, a one-off charge, an order line or a prorated "
        "change is always issued.",
    )
    send_covered_invoices = fields.Boolean(
        string="Send Invoices Covered by Credit",
        default=True,
        help="Post and send: also email the invoices that prepaid credit pays "
        "in full (nothing due). Off: they are posted, not sent.",
    )
    journal_id = fields.Many2one(
        "account.journal",
        string="Sales Journal",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Journal of the invoices; the company's first sales journal when empty.",
    )
    line_ids = fields.One2many("subscription.plan.line", "plan_id", copy=True)
    late_usage_policy = fields.Selection(
        [
            ("next", "Bill on the next invoice"),
            ("refuse", "Refuse"),
        ],
        string="Late Usage",
        required=True,
        default="next",
        help="Usage events that arrive for a period already invoiced: billed on "
        "the next invoice as a separate, dated line, or refused.",
    )
    minimum_spend = fields.Monetary(
        string="Minimum Usage Spend",
        help="Usage billed for a period is at least this: when it falls short, "
        "a true-up line adds the difference.",
    )
    minimum_spend_product_id = fields.Many2one(
        "product.product",
        string="True-up Product",
        check_company=True,
        help="Product of the true-up line; the first usage line's product when empty.",
    )
    upgrade_policy = fields.Selection(
        CHANGE_POLICIES,
        required=True,
        default="immediate",
        help="When changes that raise the price apply (a better plan, more "
        "seats, an option added, a price raised): now, prorated by day, or "
        "at the end of the current period. Staff may override it for one change.",
    )
    downgrade_policy = fields.Selection(
        CHANGE_POLICIES,
        required=True,
        default="end_of_period",
        help="When changes that lower the price apply (a smaller plan, fewer "
        "seats, an option removed): immediately with a prorated credit, or at "
        "the end of the current period.",
    )
    proration_invoicing = fields.Selection(
        [
            ("now", "On an invoice issued now"),
            ("next", "On the next invoice"),
        ],
        string="Prorated Amounts",
        required=True,
        default="now",
        help="Where the prorated charge of an immediate change goes. A change "
        "that leaves a credit always gets a credit note, linked to the invoice "
        "it corrects.",
    )
    cancel_policy = fields.Selection(
        CHANGE_POLICIES,
        string="Cancellation",
        required=True,
        default="end_of_period",
        help="When a cancellation takes effect, unless staff choose otherwise.",
    )
    cancel_credit = fields.Boolean(
        string="Credit Unused Days",
        default=True,
        help="An immediate cancellation credits the days already invoiced in "
        "advance; otherwise the service simply stops.",
    )
    pause_billing = fields.Boolean(
        string="Bill During Pauses",
        help="A paused subscription goes on being invoiced; otherwise nothing is "
        "billed while paused and the unused days are credited.",
    )
    early_termination = fields.Selection(
        [
            ("refuse", "Refuse"),
            ("fee", "Allow with a termination fee"),
        ],
        string="Cancellation During Commitment",
        required=True,
        default="refuse",
    )
    termination_fee = fields.Monetary(
        help="Charged on the cancellation document of a cancellation before the "
        "end of the minimum commitment."
    )
    termination_fee_product_id = fields.Many2one(
        "product.product",
        check_company=True,
        help="Product of the termination fee line; the first line's product when "
        "empty.",
    )
    trial_conversion = fields.Selection(
        [
            ("automatic", "Automatic: billing starts at the end of the trial"),
            ("manual", "On confirmation: unconfirmed trials close at their end"),
        ],
        required=True,
        default="automatic",
    )
    trial_reminder_days = fields.Integer(
        string="Trial Reminder (days before)",
        default=lambda self: self.env.company.subscription_trial_reminder_days,
        help="Days before the end of a trial that the customer receives the "
        "'trial ending' email; 0: no reminder.",
    )
    renewal_reminder_days = fields.Integer(
        string="Renewal Reminder (days)",
        default=lambda self: self.env.company.subscription_renewal_reminder_days,
        help="Fixed terms that renew: days before the end of the term when the "
        "customer is told of the renewal; 0: no reminder.",
    )
    renewal_increase_percent = fields.Float(
        string="Price Indexation at Renewal (%)",
        digits=(5, 2),
        help="At each renewal of a fixed term, recurring prices change by this "
        "percentage. The change is scheduled on the subscription, visible and "
        "cancellable before it applies.",
    )
    portal_change_quantity = fields.Boolean(
        string="Customers Change Quantities",
        default=lambda self: self.env.company.subscription_portal_change_quantity,
        help="In the portal, customers change the quantity of their lines, "
        "within each line's minimum and maximum.",
    )
    portal_change_plan = fields.Boolean(
        string="Customers Change Plan",
        default=lambda self: self.env.company.subscription_portal_change_plan,
        help="In the portal, customers switch to one of the plans below.",
    )
    portal_plan_ids = fields.Many2many(
        "subscription.plan",
        "subscription_plan_portal_rel",
        "plan_id",
        "target_plan_id",
        string="Plans Offered in the Portal",
        check_company=True,
    )
    portal_manage_options = fields.Boolean(
        string="Customers Add and Remove Options",
        default=lambda self: self.env.company.subscription_portal_manage_options,
    )
    portal_cancel = fields.Boolean(
        string="Customers Cancel",
        default=lambda self: self.env.company.subscription_portal_cancel,
        help="In the portal, customers cancel at the end of the period (with "
        "the notice period) and reactivate before the end.",
    )
    dunning_policy_id = fields.Many2one(
        "subscription.dunning.policy",
        check_company=True,
        help="How unpaid invoices of this plan are followed up (a customer's "
        "own policy comes first). Empty: the default policy.",
    )
    subscription_ids = fields.One2many("subscription.subscription", "plan_id")
    subscription_count = fields.Integer(compute="_compute_subscription_count")
    recurring_amount = fields.Monetary(
        string="Price per Period", compute="_compute_recurring_amount"
    )
    billing_period_label = fields.Char(
        string="Billing Period", compute="_compute_billing_period_label"
    )

    @api.depends("company_id")
    def _compute_currency_id(self):
        for plan in self:
            plan.currency_id = plan.currency_id or plan.company_id.currency_id

    def _compute_subscription_count(self):
        counts = dict(
            self.env["subscription.subscription"]._read_group(
                [("plan_id", "in", self.ids)], ["plan_id"], ["__count"]
            )
        )
        for plan in self:
            plan.subscription_count = counts.get(plan, 0)

    @api.depends("line_ids.price_subtotal", "line_ids.is_optional")
    def _compute_recurring_amount(self):
        for plan in self:
            plan.recurring_amount = sum(
                plan.line_ids.filtered(lambda line: not line.is_optional).mapped(
                    "price_subtotal"
                )
            )

    @api.depends("billing_interval", "billing_unit")
    def _compute_billing_period_label(self):
        env = self.env
        single = {
            periods.DAY: env._("Daily"),
            periods.WEEK: env._("Weekly"),
            periods.MONTH: env._("Monthly"),
            periods.YEAR: env._("Yearly"),
        }
        for plan in self:
            count = plan.billing_interval
            if count == 1:
                plan.billing_period_label = single.get(plan.billing_unit, "")
            elif plan.billing_unit == periods.DAY:
                plan.billing_period_label = env._("Every %(count)s days", count=count)
            elif plan.billing_unit == periods.WEEK:
                plan.billing_period_label = env._("Every %(count)s weeks", count=count)
            elif plan.billing_unit == periods.MONTH:
                plan.billing_period_label = env._("Every %(count)s months", count=count)
            else:
                plan.billing_period_label = env._("Every %(count)s years", count=count)

    def _get_period_phrase(self, lang=None):
        """The billing period as it follows a price in a sentence: "per
        month", "every 3 months", "per year" (in ``lang``, by default the
        context's), e.g. "$ 49.00 per month" in an email."""
        self.ensure_one()
        env = self.with_context(lang=lang).env if lang else self.env
        count = self.billing_interval
        unit = self.billing_unit
        if count == 1:
            return {
                periods.DAY: env._("per day"),
                periods.WEEK: env._("per week"),
                periods.MONTH: env._("per month"),
                periods.YEAR: env._("per year"),
            }.get(unit, "")
        if unit == periods.DAY:
            return env._("every %(count)s days", count=count)
        if unit == periods.WEEK:
            return env._("every %(count)s weeks", count=count)
        if unit == periods.MONTH:
            return env._("every %(count)s months", count=count)
        return env._("every %(count)s years", count=count)

    @api.constrains("alignment", "alignment_day", "alignment_month", "billing_unit")
    def _check_alignment(self):
        for plan in self.filtered(lambda p: p.alignment == periods.CALENDAR):
            if plan.billing_unit == periods.WEEK and not 1 <= plan.alignment_day <= 7:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the alignment weekday must be 1 (Monday) "
                        "to 7 (Sunday).",
                        plan=plan.display_name,
                    )
                )
            if not 1 <= plan.alignment_day <= 31:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the alignment day must be 1 to 31.",
                        plan=plan.display_name,
                    )
                )
            if not 1 <= plan.alignment_month <= 12:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the alignment month must be 1 to 12.",
                        plan=plan.display_name,
                    )
                )

    @api.constrains(
        "billing_interval",
        "trial_interval",
        "term_interval",
        "commitment_interval",
        "notice_days",
    )
    def _check_durations(self):
        for plan in self:
            if plan.billing_interval < 1:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the billing period must be at least 1 "
                        "(e.g. every 1 month), not %(count)s.",
                        plan=plan.display_name,
                        count=plan.billing_interval,
                    )
                )
            if (
                min(
                    plan.trial_interval,
                    plan.term_interval,
                    plan.commitment_interval,
                    plan.notice_days,
                )
                < 0
            ):
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: trial, term, commitment and notice period "
                        "cannot be negative.",
                        plan=plan.display_name,
                    )
                )

    @api.constrains(
        "termination_fee", "trial_reminder_days", "renewal_increase_percent"
    )
    def _check_change_terms(self):
        for plan in self:
            if plan.termination_fee < 0 or plan.trial_reminder_days < 0:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the termination fee and the trial reminder "
                        "cannot be negative.",
                        plan=plan.display_name,
                    )
                )
            if plan.renewal_increase_percent <= -100:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: a price indexation of %(percent)s %% would "
                        "make prices zero or negative.",
                        plan=plan.display_name,
                        percent=plan.renewal_increase_percent,
                    )
                )

    @api.constrains("term_type", "term_interval")
    def _check_term(self):
        for plan in self:
            if plan.term_type == "fixed" and plan.term_interval < 1:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s has a fixed term: give the term a length "
                        "of at least 1.",
                        plan=plan.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_number_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_number_values(self, vals)
        if any(field in vals for field in SCHEDULE_FIELDS):
            self._check_schedule_unused(vals)
        return super().write(vals)

    def _check_schedule_unused(self, vals):
        """Refuse to move the billing schedule of plans with billed subscriptions."""
        for plan in self:
            changed = [
                field
                for field in SCHEDULE_FIELDS
                if field in vals
                and (plan[field].id if plan._fields[field].relational else plan[field])
                != vals[field]
            ]
            if not changed:
                continue
            billed = self.env["subscription.period"].search_count(
                [("subscription_id.plan_id", "=", plan.id)], limit=1
            )
            if billed:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s already has invoiced periods, so its billing "
                        "schedule (%(fields)s) cannot change: create a new plan "
                        "and move subscriptions to it instead.",
                        plan=plan.display_name,
                        fields=", ".join(plan._fields[f].string for f in changed),
                    )
                )

    def action_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_subscription_action"
        )
        action["domain"] = [("plan_id", "=", self.id)]
        action["context"] = {"default_plan_id": self.id}
        return action

    def _get_sale_journal(self):
        """The plan's journal, or the company's first sales journal."""
        self.ensure_one()
        journal = self.journal_id or self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.company_id),
                ("type", "=", "sale"),
            ],
            limit=1,
        )
        if not journal:
            raise UserError(
                self.env._(
                    "Plan %(plan)s: company %(company)s has no sales journal. Create "
                    "one in Accounting > Configuration > Journals, or set a journal "
                    "on the plan.",
                    plan=self.display_name,
                    company=self.company_id.display_name,
                )
            )
        return journal

    def _get_recurrence(self):
        self.ensure_one()
        return periods.Recurrence(self.billing_interval, self.billing_unit)
