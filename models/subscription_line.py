# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core import changes as core_changes
from ..core import periods
from ..tools import DocumentFormat, UsageQuery
from .subscription_line_mixin import PRICING_FIELDS

# What only a change may modify once the subscription is started.
CHANGE_FIELDS = {
    "product_id",
    "quantity",
    "price_unit",
    "discount",
    "line_type",
    "subscription_id",
    "date_start",
    "date_end",
}


class SubscriptionLine(models.Model):
    _name = "subscription.line"
    _inherit = ["subscription.line.mixin", "subscription.engine.mixin"]
    _description = "Subscription Line"
    _order = "subscription_id, sequence, id"

    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    plan_line_id = fields.Many2one(
        "subscription.plan.line", string="From Plan Line", ondelete="set null"
    )
    tier_ids = fields.One2many(
        "subscription.pricing.tier", "subscription_line_id", string="Tiers", copy=True
    )
    usage_charge_ids = fields.One2many(
        "subscription.usage.charge", "subscription_line_id", string="Rated Usage"
    )
    date_start = fields.Date(
        string="From",
        copy=False,
        readonly=True,
        help="First day this line is billed (set by a change); empty: from the "
        "subscription's start.",
    )
    date_end = fields.Date(
        string="Until",
        copy=False,
        readonly=True,
        help="Last day this line is billed: a change replaced or removed it after.",
    )
    is_current = fields.Boolean(
        compute="_compute_is_current",
        help="Billed today (or from the next change on).",
    )

    @api.depends("plan_line_id")
    def _compute_analytic_distribution(self):
        """From the plan line (or the plan's default), editable; a line off
        the plan keeps what it has, else takes the plan's default (a later
        change of plan rewrites no line: new lines come with the new plan's
        distributions)."""
        for line in self:
            if line.plan_line_id:
                distribution = line.plan_line_id._subscription_analytic_distribution()
                line.analytic_distribution = distribution or line.analytic_distribution
            elif not line.analytic_distribution:
                line.analytic_distribution = (
                    line.subscription_id.plan_id.analytic_distribution or False
                )

    @api.depends("date_start", "date_end")
    @api.depends_context("tz")
    def _compute_is_current(self):
        today = fields.Date.context_today(self)
        for line in self:
            line.is_current = line._is_active_on(today) or bool(
                line.date_start and line.date_start > today
            )

    @api.depends("product_id")
    def _compute_price_unit(self):
        """The subscription's pricelist prices the line: a product of the
        plan from its plan line's price (the pricelist's rules for the plan
        first), another product as any sale, in the subscription's currency.
        Without a pricelist, a product off the plan: its sales price."""
        others = self.browse()
        for line in self:
            sub = line.subscription_id
            plan_line = line.plan_line_id
            if line.product_id and plan_line.product_id != line.product_id:
                plan_line = line.product_id._get_subscription_plan_line(sub.plan_id)
            if not line.product_id or not (plan_line or sub.pricelist_id):
                others |= line
                continue
            day = sub.date_start or fields.Date.context_today(line)
            if plan_line:
                line.price_unit = plan_line._get_pricelist_price(
                    sub.pricelist_id, line.quantity, day, sub.currency_id
                )
                continue
            pricelist = sub.pricelist_id
            price = pricelist._get_product_price(
                line.product_id,
                line.quantity or 1.0,
                currency=pricelist.currency_id,
                date=day,
            )
            currency = sub.currency_id or pricelist.currency_id
            line.price_unit = pricelist.currency_id._convert(
                price, currency, line.company_id or self.env.company, day
            )
        return super(SubscriptionLine, others)._compute_price_unit()

    @api.constrains(*PRICING_FIELDS, "tier_ids", "subscription_id", "date_end")
    def _check_pricing(self):
        self._check_usage_pricing()
        usage_lines = self.subscription_id.line_ids.filtered(
            lambda line: line.line_type == "usage"
        )
        for sub in self.subscription_id:
            lines = usage_lines.filtered(lambda line, s=sub: line.subscription_id == s)
            if any(
                first.metric_id == second.metric_id and first._overlaps(second)
                for first in lines
                for second in lines
                if first.id < second.id
            ):
                raise ValidationError(
                    self.env._(
                        "Subscription %(sub)s rates each metric on one usage line "
                        "only: merge the lines of the same metric.",
                        sub=sub.display_name,
                    )
                )

    def write(self, vals):
        if set(vals) & {"line_type", "metric_id"} and self.usage_charge_ids:
            raise ValidationError(
                self.env._(
                    "A usage line that billed usage keeps its metric: add a new line "
                    "instead."
                )
            )
        if set(vals) & CHANGE_FIELDS:
            self._check_not_started()
        result = super().write(vals)
        if "line_type" in vals:
            # A usage line that becomes recurring is checked as recurring.
            self._check_not_started()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._check_not_started()
        return lines

    @api.ondelete(at_uninstall=False)
    def _unlink_except_started(self):
        self._check_not_started()
        if self.usage_charge_ids:
            raise UserError(
                self.env._(
                    "%(lines)s already billed usage: a usage line that billed "
                    "cannot be deleted, or its invoiced events would be billed "
                    "again.",
                    lines=", ".join(
                        self.filtered("usage_charge_ids").mapped("display_name")
                    ),
                )
            )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _check_not_started(self):
        """Lines of a started subscription change through a change (history)."""
        if self._is_engine():
            return
        # Usage lines bill what is measured: they do not move the MRR.
        recurring = self.filtered(lambda line: line.line_type == "fixed")
        started = recurring.subscription_id.filtered(lambda sub: sub.state != "draft")
        if started:
            raise UserError(
                self.env._(
                    "Subscription %(subs)s is started: change its lines with the "
                    "Change buttons (plan, quantity, option, price), so the change "
                    "is prorated and kept in its history.",
                    subs=", ".join(started.mapped("display_name")),
                )
            )

    def _is_active_on(self, day):
        self.ensure_one()
        return (not self.date_start or self.date_start <= day) and (
            not self.date_end or self.date_end >= day
        )

    def _overlaps(self, other):
        start = max(self.date_start or date.min, other.date_start or date.min)
        end = min(self.date_end or date.max, other.date_end or date.max)
        return start <= end

    def _prepare_copy_vals(self, **values):
        """Values of a new version of this line (a change): tiers included."""
        self.ensure_one()
        vals = self._as_engine().copy_data()[0]
        vals.pop("subscription_id", None)
        vals.update(values)
        return vals

    def _seats_in_use(self, day):
        """Seats in use (``seats_metric_id``) from the current period's start
        to ``day``, as a Decimal; None without a metric."""
        self.ensure_one()
        if not self.seats_metric_id:
            return None
        sub = self.subscription_id
        schedule = sub._get_schedule(open_ended=True)
        # In trial (before the first period): the day itself.
        start = schedule.period_at(day).start if day >= schedule.start else day
        result = self.env["subscription.usage"]._aggregate(
            [UsageQuery(sub, self.seats_metric_id, start, day)]
        )[0]
        if result["error"]:
            raise ValidationError(result["error"])
        return result["quantity"]

    def _end_after(self, last_day):
        """End the lines still running after ``last_day`` on that day; lines
        that already ended earlier keep their end."""
        running = self.filtered(
            lambda line: not line.date_end or line.date_end > last_day
        )
        running._as_engine().write({"date_end": last_day})

    def _mrr_specs(self):
        """``(quantity, unit price, discount)`` of the recurring lines (MRR)."""
        return [
            (line.quantity, line.price_unit, line.discount)
            for line in self
            if line.line_type == "fixed"
        ]

    def _prepare_invoice_line_vals(self, period):
        """Invoice line values of this recurring line for its subscription's
        service ``period``, prorated to the days the line is billed in it (a
        change splits a period between the old and the new line); ``None``
        when the line is not billed during ``period``."""
        self.ensure_one()
        part = core_changes.clip(period, self.date_start, self.date_end)
        if part is None:
            return None
        sub = self.subscription_id
        # In the customer's language and date format: the line is stored text.
        fmt = DocumentFormat.for_partner(self.env, sub.partner_invoice_id)
        # A change split the period (this line bills its own days), or the
        # period is partial: the label shows the days billed.
        label = fmt.days_period(
            part.start,
            part.end,
            part.days,
            part.full_days,
            part != period or period.is_partial,
        )
        quantum = repr(sub.currency_id.rounding)
        price, __ = periods.prorate(repr(self.price_unit), part, quantum)
        return {
            "product_id": self.product_id.id,
            "name": f"{self.with_env(fmt.env).name} — {label}",
            "quantity": self.quantity,
            "price_unit": float(price),
            "discount": self.discount,
            "subscription_id": sub.id,
            "subscription_line_id": self.id,
            "subscription_period_start": part.start,
            "subscription_period_end": part.end,
            "subscription_billed_days": part.days,
            "subscription_period_days": part.full_days,
            "analytic_distribution": self.analytic_distribution or False,
        }
