# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Coupon codes: a discount with a duration that a subscription redeems.

A small code model rather than Odoo's loyalty programs: loyalty is an engine
of sale and point-of-sale programs (rewards on an order), not of recurring
invoices, and it would add a dependency (README, "Discounts")."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import discounts as core_discounts

KIND = [("percent", "Percentage"), ("fixed", "Fixed amount")]
DURATION = [
    ("once", "Once"),
    ("periods", "For N periods"),
    ("until", "Until a date"),
    ("forever", "Forever"),
]


class SubscriptionCoupon(models.Model):
    _name = "subscription.coupon"
    _description = "Subscription Coupon"
    _order = "code"
    _rec_name = "code"

    code = fields.Char(
        required=True,
        help="What the customer types, in any case (stored in capitals).",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        help="Currency of a fixed amount: only subscriptions billed in it "
        "can redeem the coupon.",
    )
    discount_type = fields.Selection(KIND, required=True, default="percent")
    value = fields.Float(
        required=True,
        digits=(16, 2),
        help="Percentage (0 to 100) or fixed amount off each discounted invoice.",
    )
    duration = fields.Selection(DURATION, required=True, default="once")
    period_count = fields.Integer(
        string="Periods", default=1, help="Number of billing periods discounted."
    )
    date_until = fields.Date(
        string="Discount Until",
        help="Last day of the periods discounted (duration: until a date).",
    )
    plan_ids = fields.Many2many(
        "subscription.plan",
        string="Plans",
        check_company=True,
        help="Plans whose subscriptions can redeem it; empty: every plan.",
    )
    product_ids = fields.Many2many(
        "product.product",
        string="Products",
        help="Lines of these products are discounted; empty: the whole subscription.",
    )
    max_redemptions = fields.Integer(
        help="How many subscriptions can redeem it; 0: no limit."
    )
    date_expiry = fields.Date(
        string="Expiry Date", help="Last day the coupon can be redeemed."
    )
    discount_ids = fields.One2many(
        "subscription.discount", "coupon_id", string="Discounts", readonly=True
    )
    redemption_count = fields.Integer(compute="_compute_redemption_count")

    _code_unique = models.Constraint(
        "unique(company_id, code)", "A coupon code is unique in its company."
    )

    @api.depends("discount_ids")
    def _compute_redemption_count(self):
        counts = dict(
            self.env["subscription.discount"]
            .sudo()
            ._read_group([("coupon_id", "in", self.ids)], ["coupon_id"], ["__count"])
        )
        for coupon in self:
            coupon.redemption_count = counts.get(coupon, 0)

    @api.model
    def _normalize_code(self, code):
        return (code or "").strip().upper()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "code" in vals:
                vals["code"] = self._normalize_code(vals["code"])
        return super().create(vals_list)

    def write(self, vals):
        if "code" in vals:
            vals["code"] = self._normalize_code(vals["code"])
        return super().write(vals)

    @api.constrains("discount_type", "value", "duration", "period_count", "date_until")
    def _check_terms(self):
        for coupon in self:
            try:
                core_discounts.check(coupon.discount_type, repr(coupon.value))
            except core_discounts.DiscountError as error:
                raise ValidationError(
                    self.env._(
                        "Coupon %(code)s: %(error)s",
                        code=coupon.code,
                        error=self.env._(
                            "a percentage must be over 0 and at most 100, a "
                            "fixed amount over 0 (got %(value)s).",
                            value=coupon.value,
                        ),
                    )
                ) from error
            if coupon.duration == "periods" and coupon.period_count < 1:
                raise ValidationError(
                    self.env._(
                        "Coupon %(code)s: a discount for N periods needs at "
                        "least 1 period.",
                        code=coupon.code,
                    )
                )
            if coupon.duration == "until" and not coupon.date_until:
                raise ValidationError(
                    self.env._(
                        "Coupon %(code)s: set the last day of the discount.",
                        code=coupon.code,
                    )
                )
