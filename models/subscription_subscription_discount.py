# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Discounts with a duration on a subscription: redeeming a coupon (staff,
API, portal) and billing each discount as its own invoice line."""

from collections import defaultdict
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import changes as core_changes
from ..core import discounts as core_discounts
from ..tools import DocumentFormat, exact_decimal

MAX_CODE_LENGTH = 64


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    discount_ids = fields.One2many(
        "subscription.discount", "subscription_id", string="Discounts"
    )

    # ------------------------------------------------------------------
    # Redeeming a coupon
    # ------------------------------------------------------------------

    def action_apply_coupon(self):
        """The *Apply a Coupon* dialog of this subscription (action menu)."""
        self.ensure_one()
        self.check_access("write")
        if self.state == "closed":
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is closed: a coupon cannot be redeemed "
                    "on it.",
                    sub=self.display_name,
                )
            )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_coupon_wizard_action"
        )
        action["context"] = {"default_subscription_id": self.id}
        return action

    @api.model
    def _clean_coupon_code(self, code):
        if (
            not isinstance(code, str)
            or len(code) > MAX_CODE_LENGTH
            or not code.strip()
            or any(ord(char) < 32 or 0xD800 <= ord(char) <= 0xDFFF for char in code)
        ):
            raise UserError(
                self.env._(
                    "%(value)s is not a coupon code: type the code you "
                    "received (letters and digits, at most %(max)s characters).",
                    value=repr(code)[:40],
                    max=MAX_CODE_LENGTH,
                )
            )
        return self.env["subscription.coupon"]._normalize_code(code)

    def apply_coupon(self, code):
        """Redeem the coupon ``code`` on this subscription; API entry point.

        Returns the id of the ``subscription.discount`` created. Raises a
        UserError naming the reason (unknown, inactive, expired, used up,
        for another plan or currency, already redeemed): nothing changes.
        """
        self.ensure_one()
        self.check_access("write")
        code = self._clean_coupon_code(code)
        return self._redeem_coupon(code).id

    def _redeem_coupon(self, code):
        """The discount of the coupon ``code`` on this subscription (access
        already checked: the portal calls it as superuser on the customer's
        own subscription)."""
        self.ensure_one()
        Coupon = self.env["subscription.coupon"].sudo()
        coupon = Coupon.with_context(active_test=False).search(
            [("code", "=", code), ("company_id", "=", self.company_id.id)], limit=1
        )
        if not coupon:
            raise UserError(
                self.env._("The coupon %(code)s does not exist.", code=code)
            )
        # One redemption at a time per coupon: the limit holds under load.
        self.env.cr.execute(
            SQL(
                "SELECT id FROM subscription_coupon WHERE id = %s FOR UPDATE",
                coupon.id,
            )
        )
        today = fields.Date.context_today(self)
        if not coupon.active:
            raise UserError(
                self.env._("The coupon %(code)s is no longer valid.", code=code)
            )
        if coupon.date_expiry and coupon.date_expiry < today:
            raise UserError(
                self.env._(
                    "The coupon %(code)s expired on %(date)s.",
                    code=code,
                    date=coupon.date_expiry,
                )
            )
        if self.state == "closed":
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is closed: a coupon cannot be redeemed "
                    "on it.",
                    sub=self.display_name,
                )
            )
        if coupon.plan_ids and self.plan_id not in coupon.plan_ids:
            raise UserError(
                self.env._(
                    "The coupon %(code)s is not valid for the plan %(plan)s.",
                    code=code,
                    plan=self.plan_id.display_name,
                )
            )
        if coupon.discount_type == "fixed" and coupon.currency_id != self.currency_id:
            raise UserError(
                self.env._(
                    "The coupon %(code)s is an amount in %(currency)s: "
                    "subscription %(sub)s is billed in %(sub_currency)s.",
                    code=code,
                    currency=coupon.currency_id.name,
                    sub=self.display_name,
                    sub_currency=self.currency_id.name,
                )
            )
        if coupon.product_ids and not (self.line_ids.product_id & coupon.product_ids):
            raise UserError(
                self.env._(
                    "The coupon %(code)s applies to %(products)s: subscription "
                    "%(sub)s has none of them.",
                    code=code,
                    products=", ".join(coupon.product_ids.mapped("display_name")),
                    sub=self.display_name,
                )
            )
        if coupon in self.sudo().discount_ids.coupon_id:
            raise UserError(
                self.env._(
                    "The coupon %(code)s is already applied to subscription %(sub)s.",
                    code=code,
                    sub=self.display_name,
                )
            )
        if coupon.max_redemptions and coupon.redemption_count >= coupon.max_redemptions:
            raise UserError(
                self.env._(
                    "The coupon %(code)s has been used as many times as it can.",
                    code=code,
                )
            )
        # From the next period not invoiced yet (one invoiced in advance
        # keeps its amount).
        start = max(today, self._next_unbilled_day() or today)
        if coupon.duration == "until" and coupon.date_until < start:
            raise UserError(
                self.env._(
                    "The coupon %(code)s discounts the periods until %(date)s: "
                    "none is left to discount on subscription %(sub)s.",
                    code=code,
                    date=coupon.date_until,
                    sub=self.display_name,
                )
            )
        discount = (
            self.env["subscription.discount"]
            .sudo()
            .create(
                {
                    "subscription_id": self.id,
                    "coupon_id": coupon.id,
                    "discount_type": coupon.discount_type,
                    "value": coupon.value,
                    "product_ids": [(6, 0, coupon.product_ids.ids)],
                    "date_start": start,
                    "duration": coupon.duration,
                    "period_count": coupon.period_count,
                    "date_end": coupon.date_until,
                }
            )
        )
        self.message_post(
            body=self.env._(
                "Coupon %(code)s redeemed: %(terms)s.",
                code=code,
                terms=discount._terms(self.env),
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return discount

    # ------------------------------------------------------------------
    # The portal: the price per period while a discount runs
    # ------------------------------------------------------------------

    def _portal_discount(self):
        """``(discounted price per period, [what is left of each discount])``
        for the next period to bill: 30.00 with 20 % off for 3 periods, one
        used, is ``(24.00, ["20 % off, 2 periods left"])``; ``(None, [])``
        when no discount applies to it."""
        self.ensure_one()
        sub = self.sudo()
        discounts = sub.discount_ids
        if not discounts or sub.state == "closed":
            return None, []
        day = sub._next_unbilled_day() or sub._today_or_start()
        schedule = sub._get_schedule(open_ended=True)
        if not schedule:
            return None, []
        period = schedule.period_at(max(day, schedule.start))
        running = discounts.filtered(lambda d: d._applies_to(period, len(d.usage_ids)))
        if not running:
            return None, []
        items = sub._lines_on(sub._today_or_start())._discount_items()
        quantum = repr(sub.currency_id.rounding or 0.01)
        total = exact_decimal(sub.recurring_amount)
        for discount in running:
            products = discount.product_ids.ids
            amounts = [
                core_changes.line_amount(
                    repr(quantity), repr(price), repr(line_discount or 0.0), quantum
                )
                for product_id, quantity, price, line_discount in items
                if not products or product_id in products
            ]
            total -= core_discounts.amount(
                discount.discount_type, repr(discount.value), amounts, quantum
            )
        texts = [discount._remaining(self.env) for discount in running]
        return float(max(total, Decimal(0))), texts

    # ------------------------------------------------------------------
    # Billing
    # ------------------------------------------------------------------

    def _add_pending_changes(self, groups):
        """Each running discount goes on the invoice of each period it
        applies to, as its own negative line (``core.discounts.amount``)."""
        result = super()._add_pending_changes(groups)
        discounts = (
            self.env["subscription.discount"]
            .sudo()
            .search([("subscription_id", "in", self.ids)])
        )
        if not discounts:
            return result
        by_sub = defaultdict(list)
        for discount in discounts:
            by_sub[discount.subscription_id.id].append(discount)
        used = {discount: len(discount.usage_ids) for discount in discounts}
        done = {
            (usage.discount_id, usage.period_start) for usage in discounts.usage_ids
        }
        billed = [
            (group, billed)
            for group in groups
            for billed in group.periods
            if billed.subscription.id in by_sub
        ]
        billed.sort(key=lambda item: item[1].period.start)
        for group, (sub, period) in billed:
            lines = [
                command[2]
                for command in group.move_vals["invoice_line_ids"]
                if command[2].get("subscription_id") == sub.id
                and command[2].get("subscription_line_id")
                and not command[2].get("subscription_discount_id")
                and period.start
                <= command[2]["subscription_period_start"]
                <= period.end
            ]
            for discount in by_sub[sub.id]:
                if (discount, period.start) in done or not discount._applies_to(
                    period, used[discount]
                ):
                    continue
                vals_list = sub._discount_line_vals(
                    discount, period, lines, used[discount]
                )
                if vals_list:
                    used[discount] += 1
                    group.add_lines(vals_list)
        return result

    def _discount_line_vals(self, discount, period, lines, used):
        """The invoice lines of ``discount`` on the ``period`` whose service
        lines are ``lines`` (their values): one per group of lines taxed
        alike, each of the product of its group's first line (so Odoo taxes
        it like them), the discount shared in proportion to the groups'
        amounts, exactly (``core.discounts.split``); [] when nothing is
        taken off."""
        self.ensure_one()
        if discount.product_ids:
            lines = [
                vals for vals in lines if vals["product_id"] in discount.product_ids.ids
            ]
        if not lines:
            return []
        quantum = repr(self.currency_id.rounding)
        amounts = [
            core_changes.line_amount(
                repr(vals["quantity"]),
                repr(vals["price_unit"]),
                repr(vals.get("discount") or 0.0),
                quantum,
            )
            for vals in lines
        ]
        off = core_discounts.amount(
            discount.discount_type, repr(discount.value), amounts, quantum
        )
        if not off:
            return []
        fmt = DocumentFormat.for_partner(self.env, self.partner_invoice_id)
        label = discount.with_env(fmt.env)._label(fmt.env)
        if discount.duration == "periods":
            label = fmt.env._(
                "%(label)s (period %(number)s of %(count)s)",
                label=label,
                number=used + 1,
                count=discount.period_count,
            )
        elif discount.duration == "until":
            label = fmt.env._(
                "%(label)s (until %(date)s)",
                label=label,
                date=fmt.date(discount.date_end),
            )
        elif discount.duration == "once":
            label = fmt.env._("%(label)s (once)", label=label)
        # tax key -> [product id of its first line, amount, (distribution, amount)]
        groups = {}
        for vals, line_amount in zip(lines, amounts, strict=True):
            key = self._discount_tax_key(vals["product_id"])
            group = groups.setdefault(key, [vals["product_id"], Decimal(0), []])
            group[1] += line_amount
            group[2].append((vals.get("analytic_distribution"), line_amount))
        groups = [group for group in groups.values() if group[1] > 0]
        parts = core_discounts.split(
            off, [amount for __, amount, __ in groups], quantum
        )
        return [
            {
                "product_id": product_id,
                "name": label,
                "quantity": 1.0,
                "price_unit": float(-part),
                "discount": 0.0,
                "subscription_id": self.id,
                "subscription_discount_id": discount.id,
                "subscription_period_start": period.start,
                "subscription_period_end": period.end,
                # The group's distribution, weighted by what each line comes to.
                "analytic_distribution": self._merge_analytic_distributions(
                    distributions
                ),
            }
            for (product_id, __, distributions), part in zip(groups, parts, strict=True)
            if part
        ]

    def _discount_tax_key(self, product_id):
        """The sales taxes of ``product_id`` in this subscription's company:
        the lines a discount line shares are taxed alike (the invoice's
        fiscal position maps equal taxes equally)."""
        product = self.env["product.product"].browse(product_id).sudo()
        taxes = product.taxes_id._filter_taxes_by_company(self.company_id)
        return tuple(sorted(taxes.ids))

    def _write_billing(self, groups):
        """Record each discount line written (one usage row per discount and
        period: unique, so a retry cannot apply it twice)."""
        moves = super()._write_billing(groups)
        lines = moves.invoice_line_ids.filtered("subscription_discount_id")
        usages = {}  # one row per discount and period, its lines summed
        for line in lines.sorted("id"):
            key = (line.subscription_discount_id.id, line.subscription_period_start)
            if key not in usages:
                usages[key] = {
                    "discount_id": key[0],
                    "period_start": key[1],
                    "move_line_id": line.id,
                    "amount": Decimal(0),
                }
            usages[key]["amount"] -= exact_decimal(line.price_unit)
        if usages:
            self.env["subscription.discount.usage"].sudo().create(
                [dict(vals, amount=float(vals["amount"])) for vals in usages.values()]
            )
        return moves

    # ------------------------------------------------------------------
    # MRR: the discounted price while a discount runs
    # ------------------------------------------------------------------

    def _mrr_on(self, day=None):
        """The MRR less the discounts running on ``day`` (never below zero)."""
        mrr = super()._mrr_on(day)
        day = day or self._billing_start()
        off = self._discount_mrr(day, self._lines_on(day)._discount_items())
        return max(mrr - off, Decimal(0))

    def _discount_mrr(self, day, items, plan=None):
        """What the discounts running on ``day`` take off the MRR of
        ``items`` (``(product id, quantity, price, discount)`` of the
        recurring lines), normalised per month like the MRR."""
        self.ensure_one()
        plan = plan or self.plan_id
        discounts = self.sudo().discount_ids.filtered(lambda d: d._runs_on(day))
        if not discounts or not items or not plan:
            return Decimal(0)
        quantum = repr(self.currency_id.rounding or 0.01)
        total = Decimal(0)
        for discount in discounts:
            products = discount.product_ids.ids
            amounts = [
                core_changes.line_amount(
                    repr(quantity), repr(price), repr(line_discount or 0.0), quantum
                )
                for product_id, quantity, price, line_discount in items
                if not products or product_id in products
            ]
            off = core_discounts.amount(
                discount.discount_type, repr(discount.value), amounts, quantum
            )
            total += core_changes.monthly_amount(
                off, plan.billing_interval, plan.billing_unit, quantum
            )
        return total

    @api.model
    def _run_billing(self, up_to, batch_size=200, commit=False, company_ids=None):
        """The discounts that started or ended by ``up_to`` move the MRR
        history first (an ended discount is an expansion)."""
        self.env["subscription.discount"]._record_history(up_to, company_ids)
        return super()._run_billing(
            up_to, batch_size=batch_size, commit=commit, company_ids=company_ids
        )
