# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A discount applied to a subscription: from a coupon, or entered by staff.

Billed as its own explained line on the invoices of its periods
(``subscription_subscription_discount``); each invoice that applied it keeps a
``subscription.discount.usage`` row."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core import discounts as core_discounts
from ..tools import format_day
from .subscription_coupon import DURATION, KIND


class SubscriptionDiscount(models.Model):
    _name = "subscription.discount"
    _description = "Subscription Discount"
    _order = "date_start, id"

    subscription_id = fields.Many2one(
        "subscription.subscription",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    coupon_id = fields.Many2one(
        "subscription.coupon", ondelete="restrict", readonly=True, check_company=True
    )
    discount_type = fields.Selection(KIND, required=True, default="percent")
    value = fields.Float(required=True, digits=(16, 2))
    product_ids = fields.Many2many(
        "product.product",
        string="Products",
        help="Lines of these products are discounted; empty: the whole subscription.",
    )
    date_start = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="The first period ending on or after this day is discounted.",
    )
    duration = fields.Selection(DURATION, required=True, default="once")
    period_count = fields.Integer(string="Periods", default=1)
    date_end = fields.Date(
        string="Until", help="Last day of the periods discounted (until a date)."
    )
    usage_ids = fields.One2many(
        "subscription.discount.usage", "discount_id", string="Invoices", readonly=True
    )
    periods_used = fields.Integer(compute="_compute_periods")
    periods_remaining = fields.Integer(
        compute="_compute_periods",
        help="Periods still discounted (N periods); 0 for the other durations.",
    )

    history_start_logged = fields.Boolean(copy=False, readonly=True)
    history_end_logged = fields.Boolean(copy=False, readonly=True)

    _coupon_unique = models.Constraint(
        "unique(subscription_id, coupon_id)",
        "A subscription redeems a coupon once.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        """A period already invoiced keeps its amount: a discount starts on
        the next day not invoiced at the earliest."""
        discounts = super().create(vals_list)
        for discount in discounts:
            sub = discount.subscription_id
            first = sub.invoiced_until and sub._next_unbilled_day()
            if first and discount.date_start < first:
                discount.date_start = first
        return discounts

    @api.ondelete(at_uninstall=False)
    def _unlink_except_applied(self):
        applied = self.filtered("usage_ids")
        if applied:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s: a discount that applied to an invoice "
                    "cannot be deleted (it counts the periods discounted).",
                    sub=", ".join(applied.subscription_id.mapped("display_name")),
                )
            )

    @api.depends("usage_ids", "duration", "period_count")
    def _compute_periods(self):
        for discount in self:
            used = len(discount.usage_ids)
            discount.periods_used = used
            limit = {"once": 1, "periods": discount.period_count}.get(discount.duration)
            discount.periods_remaining = max(limit - used, 0) if limit else 0

    @api.depends("coupon_id", "discount_type", "value")
    def _compute_display_name(self):
        for discount in self:
            discount.display_name = discount._label(self.env)

    def _label(self, env):
        """ "Coupon WELCOME20 — 20 % off" in ``env``'s language."""
        self.ensure_one()
        off = self._off(env)
        if self.coupon_id:
            return env._("Coupon %(code)s — %(off)s", code=self.coupon_id.code, off=off)
        return env._("Discount — %(off)s", off=off)

    def _off(self, env):
        """ "20 % off", "5.00 off" in ``env``'s language."""
        self.ensure_one()
        if self.discount_type == "percent":
            return env._("%(value)s %% off", value=f"{self.value:g}")
        return env._(
            "%(amount)s off",
            amount=f"{self.value:.{self.currency_id.decimal_places or 2}f}",
        )

    def _terms(self, env):
        """What the discount takes off and for how long, as redeemed: "20 %
        off for 3 periods from Mar 1, 2026" (the chatter of a redemption)."""
        self.ensure_one()
        off = self._off(env)
        start = format_day(env, self.date_start)
        if self.duration == "periods":
            if self.period_count == 1:
                return env._("%(off)s for 1 period from %(date)s", off=off, date=start)
            return env._(
                "%(off)s for %(count)s periods from %(date)s",
                off=off,
                count=self.period_count,
                date=start,
            )
        if self.duration == "until":
            return env._(
                "%(off)s from %(start)s until %(end)s",
                off=off,
                start=start,
                end=format_day(env, self.date_end),
            )
        if self.duration == "once":
            return env._("%(off)s once, from %(date)s", off=off, date=start)
        return env._("%(off)s forever, from %(date)s", off=off, date=start)

    def _remaining(self, env):
        """What is left of a running discount, for the customer: "20 % off,
        2 periods left", "20 % off until Mar 31, 2026", "20 % off on the next
        invoice", "20 % off"."""
        self.ensure_one()
        off = self._off(env)
        if self.duration == "periods":
            if self.periods_remaining == 1:
                return env._("%(off)s, 1 period left", off=off)
            return env._(
                "%(off)s, %(count)s periods left",
                off=off,
                count=self.periods_remaining,
            )
        if self.duration == "until":
            return env._(
                "%(off)s until %(date)s", off=off, date=format_day(env, self.date_end)
            )
        if self.duration == "once":
            return env._("%(off)s on the next invoice", off=off)
        return off

    @api.constrains(
        "discount_type", "value", "duration", "period_count", "date_end", "date_start"
    )
    def _check_terms(self):
        for discount in self:
            name = discount.subscription_id.display_name
            try:
                core_discounts.check(discount.discount_type, repr(discount.value))
            except core_discounts.DiscountError as error:
                raise ValidationError(
                    self.env._(
                        "Discount on %(sub)s: a percentage must be over 0 and at "
                        "most 100, a fixed amount over 0 (got %(value)s).",
                        sub=name,
                        value=discount.value,
                    )
                ) from error
            if discount.duration == "periods" and discount.period_count < 1:
                raise ValidationError(
                    self.env._(
                        "Discount on %(sub)s: a discount for N periods needs at "
                        "least 1 period.",
                        sub=name,
                    )
                )
            if discount.duration == "until" and (
                not discount.date_end or discount.date_end < discount.date_start
            ):
                raise ValidationError(
                    self.env._(
                        "Discount on %(sub)s: set its last day, on or after its start.",
                        sub=name,
                    )
                )

    def _applies_to(self, period, used):
        self.ensure_one()
        return core_discounts.applies(
            self.duration,
            self.date_start,
            period.start,
            period.end,
            used,
            count=self.period_count,
            end=self.date_end,
        )

    # ------------------------------------------------------------------
    # Running days and the MRR history
    # ------------------------------------------------------------------

    def _stop_day(self):
        """First day without the discount: the day after its last period
        (the Nth from its start; the one containing its last day); None:
        forever."""
        self.ensure_one()
        if self.duration == "forever":
            return None
        sub = self.subscription_id
        start = sub._billing_start()
        schedule = sub._get_schedule(open_ended=True) if start else None
        if not schedule:
            return self.date_start
        if self.duration == "until":
            if self.date_end < start:
                return self.date_start
            return schedule.period_at(self.date_end).end + timedelta(days=1)
        period = schedule.period_at(max(self.date_start, start))
        for __ in range((self.period_count if self.duration == "periods" else 1) - 1):
            period = schedule.period_at(period.end + timedelta(days=1))
        return period.end + timedelta(days=1)

    def _runs_on(self, day):
        self.ensure_one()
        if day < self.date_start:
            return False
        stop = self._stop_day()
        return stop is None or day < stop

    @api.model
    def _record_history(self, up_to, company_ids=None):
        """A discount that started (contraction) or ended (expansion) by
        ``up_to`` on a started subscription moves its MRR in the history,
        on its day; a move of zero (a discount known at the start) is not
        written."""
        domain = [
            ("subscription_id.state", "in", ("active", "paused", "closed")),
            "|",
            ("history_start_logged", "=", False),
            ("history_end_logged", "=", False),
            ("date_start", "<=", up_to),
        ]
        if company_ids:
            domain.append(("company_id", "in", company_ids))
        for discount in self.sudo().search(domain, order="date_start, id"):
            sub = discount.subscription_id
            steps = []
            if not discount.history_start_logged:
                steps.append(("history_start_logged", discount.date_start))
            stop = discount._stop_day()
            if stop is None:
                # Forever: no end to record.
                discount.history_end_logged = True
            elif not discount.history_end_logged and stop <= up_to:
                steps.append(("history_end_logged", stop))
            for flag, day in steps:
                before = sub._last_mrr()
                after = sub._mrr_on(day) if sub.state != "closed" else before
                if after != before:
                    sub._write_history("discount", day, after, before=before)
                discount[flag] = True
