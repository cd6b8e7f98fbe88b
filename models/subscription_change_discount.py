# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from decimal import Decimal

from odoo import fields, models

from ..core import changes as core
from ..tools import DocumentFormat, exact_decimal

# Marks a proration line that gives back a discount's share of a credit.
DISCOUNT_CREDIT_KEY = "subscription_discount_credit"


class SubscriptionChange(models.Model):
    _inherit = "subscription.change"

    def _mrr_of_effect(self, day, ended, created, plan):
        """The MRR before and after a change, less the discounts running on
        its day (so its history entry moves from the discounted MRR)."""
        before, after = super()._mrr_of_effect(day, ended, created, plan)
        sub = self.subscription_id
        if not sub.sudo().discount_ids:
            return before, after
        current = sub._lines_on(day)
        after_items = (current - ended)._discount_items() + [
            (
                vals.get("product_id"),
                vals.get("quantity", 1.0),
                vals.get("price_unit", 0.0),
                vals.get("discount", 0.0),
            )
            for vals in created
            if vals.get("line_type", "fixed") == "fixed"
        ]
        zero = Decimal(0)
        return (
            max(before - sub._discount_mrr(day, current._discount_items()), zero),
            max(after - sub._discount_mrr(day, after_items, plan), zero),
        )

    def _prorate(self, ended, created, plan):
        """The credit of the days not used is what was paid: where a
        discount applied to the period credited, a line gives back its share
        of the credit (a percentage discount: its percentage of the credit;
        a fixed one: the credit × what it took / the lines it applied to),
        never more than it took."""
        lines = super()._prorate(ended, created, plan)
        sub = self.subscription_id
        usages = sub.sudo().discount_ids.usage_ids.filtered("move_line_id")
        if not lines or not usages:
            return lines
        quantum = repr(sub.currency_id.rounding)
        fmt = DocumentFormat.for_partner(self.env, sub.partner_invoice_id)
        back_lines = []
        for usage in usages:
            back = self._discount_credit_back(usage, lines, quantum)
            if not back:
                continue
            discount_line = usage.move_line_id
            discount = usage.discount_id
            back_lines.append(
                {
                    "product_id": discount_line.product_id.id,
                    "name": fmt.env._(
                        "%(discount)s: on the credit of %(period)s",
                        discount=discount.with_env(fmt.env)._label(fmt.env),
                        period=fmt.period(
                            discount_line.subscription_period_start,
                            discount_line.subscription_period_end,
                        ),
                    ),
                    "quantity": 1.0,
                    "price_unit": str(back),
                    "discount": 0.0,
                    "analytic_distribution": discount_line.analytic_distribution
                    or False,
                    DISCOUNT_CREDIT_KEY: True,
                }
            )
        return lines + back_lines

    def _discount_credit_back(self, usage, lines, quantum):
        """What the discount of ``usage`` took off the credit ``lines`` of
        its period (a positive Decimal, or zero)."""
        discount = usage.discount_id
        discount_line = usage.move_line_id
        start = discount_line.subscription_period_start
        end = discount_line.subscription_period_end
        products = discount.product_ids.ids
        sub = self.subscription_id

        def in_scope(product_id, day):
            return start <= day <= end and (not products or product_id in products)

        credit = -sum(
            (
                amount
                for amount in (
                    core.line_amount(
                        repr(vals["quantity"]),
                        vals["price_unit"],
                        repr(vals.get("discount", 0.0)),
                        quantum,
                    )
                    for vals in lines
                    if vals.get("subscription_period_start")
                    and in_scope(
                        vals["product_id"],
                        fields.Date.to_date(vals["subscription_period_start"]),
                    )
                )
                if amount < 0
            ),
            Decimal(0),
        )
        if credit <= 0:
            return Decimal(0)
        taken = exact_decimal(usage.amount)
        if discount.discount_type == "percent":
            back = core.quantize(credit * exact_decimal(discount.value) / 100, quantum)
        else:
            base = sum(
                (
                    exact_decimal(line.price_subtotal)
                    for line in discount_line.move_id.invoice_line_ids
                    if line.subscription_id == sub
                    and line.subscription_line_id
                    and line.subscription_period_start
                    and in_scope(line.product_id.id, line.subscription_period_start)
                ),
                Decimal(0),
            )
            if base <= 0:
                return Decimal(0)
            back = core.quantize(credit * taken / base, quantum)
        return min(back, taken)

    def _compute_effect(self):
        """What a discount gives back of a credit counts in the credit."""
        effect = super()._compute_effect()
        quantum = repr(self.currency_id.rounding)
        back = sum(
            (
                core.line_amount(
                    repr(vals["quantity"]), vals["price_unit"], "0", quantum
                )
                for vals in effect["lines"]
                if vals.get(DISCOUNT_CREDIT_KEY)
            ),
            Decimal(0),
        )
        if back:
            effect["credit"] += back
            effect["charge"] -= back
        return effect
