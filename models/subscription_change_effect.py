# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What a change does, computed without writing anything: the lines it ends
and creates, the MRR before and after, the prorated amounts and the
termination fee (the simulation shows it, ``_apply_one`` applies it)."""

from decimal import Decimal

from odoo import models

from ..core import changes as core
from ..core import periods
from ..core.periods import ONE_DAY
from ..tools import DocumentFormat, exact_decimal


class SubscriptionChange(models.Model):
    _inherit = "subscription.change"

    # ------------------------------------------------------------------
    # Effect: lines, MRR, prorated amounts (nothing written)
    # ------------------------------------------------------------------

    def _line_effect(self, day):
        """``(lines ended, new lines' values, plan after)`` of the change on ``day``."""
        sub = self.subscription_id
        current = sub.line_ids.filtered(lambda line: line._is_active_on(day))
        fixed = current.filtered(lambda line: line.line_type == "fixed")
        op = self.operation
        lines = self.env["subscription.line"]
        plan = sub.plan_id
        if op == "change_plan":
            plan = self.new_plan_id
            return (
                current,
                [
                    line._prepare_subscription_line_vals(sub, day)
                    for line in plan.line_ids
                    if not line.is_optional
                ],
                plan,
            )
        if self.is_indexation:
            percent = sub.plan_id.renewal_increase_percent
            quantum = repr(sub.currency_id.rounding)
            return (
                fixed,
                [
                    line._prepare_copy_vals(
                        price_unit=float(
                            core.indexed_price(repr(line.price_unit), percent, quantum)
                        )
                    )
                    for line in fixed
                ],
                plan,
            )
        if op == "change_quantity":
            return (
                self.line_id,
                [self.line_id._prepare_copy_vals(quantity=self.quantity)],
                plan,
            )
        if op == "change_price":
            return (
                self.line_id,
                [self.line_id._prepare_copy_vals(price_unit=self.price_unit)],
                plan,
            )
        if op == "add_option":
            existing = fixed.filtered(
                lambda line: line.plan_line_id == self.plan_line_id
            )
            if existing:
                line = existing[:1]
                return (
                    line,
                    [line._prepare_copy_vals(quantity=line.quantity + self.quantity)],
                    plan,
                )
            vals = self.plan_line_id._prepare_subscription_line_vals(sub, day)
            vals["quantity"] = self.quantity
            return lines, [vals], plan
        if op == "remove_option":
            return self.line_id, [], plan
        if op == "pause":
            return (lines if self.bill_during_pause else current), [], plan
        if op == "cancel":
            return current, [], plan
        if op in ("resume", "reactivate"):
            return (
                lines,
                [line._prepare_copy_vals() for line in self._lines_to_restore()],
                plan,
            )
        return lines, [], plan

    def _lines_to_restore(self):
        """Lines that the last pause (resume) or cancellation (reactivate) ended,
        unless a resume or reactivation already restored them."""
        sub = self.subscription_id
        origin = "pause" if self.operation == "resume" else "cancel"
        last = {}
        for operation in (origin, self.operation):
            last[operation] = self.search(
                [
                    ("subscription_id", "=", sub.id),
                    ("operation", "=", operation),
                    ("state", "=", "applied"),
                ],
                order="effective_date desc, id desc",
                limit=1,
            )
        restored = last[self.operation]
        if not last[origin] or (
            restored and restored.effective_date >= last[origin].effective_date
        ):
            return self.env["subscription.line"]
        return last[origin].ended_line_ids

    def _mrr_of_effect(self, day, ended, created, plan):
        """MRR on ``day`` before and after the change (lines and plan)."""
        sub = self.subscription_id
        current = sub._lines_on(day)
        after = (current - ended)._mrr_specs() + [
            (
                vals.get("quantity", 1.0),
                vals.get("price_unit", 0.0),
                vals.get("discount", 0.0),
            )
            for vals in created
            if vals.get("line_type", "fixed") == "fixed"
        ]
        return (
            sub._mrr_of_lines(current._mrr_specs(), sub.plan_id),
            sub._mrr_of_lines(after, plan),
        )

    def _compute_effect(self):
        """What the change does: lines, MRR before and after, documents."""
        self.ensure_one()
        day = self.effective_date
        ended, created, plan = self._line_effect(day)
        before, after = self._mrr_of_effect(day, ended, created, plan)
        proration = self._prorate(ended, created, plan)
        fees = self._termination_fee_lines()
        quantum = repr(self.currency_id.rounding)
        amounts = [
            core.line_amount(
                repr(vals["quantity"]),
                vals["price_unit"],
                repr(vals.get("discount", 0.0)),
                quantum,
            )
            for vals in proration
        ]
        credit = sum((amount for amount in amounts if amount < 0), Decimal(0))
        charge = sum((amount for amount in amounts if amount > 0), Decimal(0))
        fee = sum(
            (
                core.line_amount(repr(v["quantity"]), v["price_unit"], "0", quantum)
                for v in fees
            ),
            Decimal(0),
        )
        return {
            "ended": ended,
            "created": created,
            "plan": plan,
            "mrr_before": before,
            "mrr_after": after,
            "lines": proration + fees,
            "credit": credit,
            "charge": charge,
            "fee": fee,
            "net": credit + charge + fee,
        }

    def _prorate(self, ended, created, plan):
        """Invoice line values for the days already invoiced from the change on.

        The old lines are credited and the new ones charged for those days,
        each prorated by day within its period; a change of quantity alone
        is one line of the difference.
        """
        sub = self.subscription_id
        day = self.effective_date
        until = sub.invoiced_until
        if not until or until < day:
            return []
        if self.operation == "cancel" and (
            not sub.plan_id.cancel_credit or self._closes_for_non_payment()
        ):
            return []
        quantum = repr(sub.currency_id.rounding)
        # The lines go on the customer's invoice: in the customer's language.
        fmt = DocumentFormat.for_partner(self.env, sub.partner_invoice_id)
        old_parts = core.billed_parts(sub._get_schedule(open_ended=True), day, until)
        new_parts = core.billed_parts(
            sub._get_schedule(open_ended=True, plan=plan), day, until
        )
        ended = ended.filtered(lambda line: line.line_type == "fixed")
        created = [v for v in created if v.get("line_type", "fixed") == "fixed"]
        lines = []
        if (
            len(ended) == 1
            and len(created) == 1
            and created[0]["product_id"] == ended.product_id.id
            and created[0]["price_unit"] == ended.price_unit
            and created[0].get("discount", 0.0) == ended.discount
        ):
            delta = created[0]["quantity"] - ended.quantity
            label = fmt.env._(
                "%(line)s: %(old)s → %(new)s",
                line=ended.name,
                old=fmt.units(exact_decimal(ended.quantity)),
                new=fmt.units(exact_decimal(created[0]["quantity"])),
            )
            for part in old_parts:
                lines.append(
                    self._proration_vals(
                        ended, label, delta, ended.price_unit, part, quantum, fmt=fmt
                    )
                )
            return [vals for vals in lines if vals]
        for line in ended:
            label = fmt.env._("Credit: %(line)s", line=line.name)
            for part in old_parts:
                lines.append(
                    self._proration_vals(
                        line,
                        label,
                        line.quantity,
                        line.price_unit,
                        part,
                        quantum,
                        -1,
                        fmt=fmt,
                    )
                )
        for vals in created:
            line = self.env["subscription.line"].new(vals)
            for part in new_parts:
                lines.append(
                    self._proration_vals(
                        line,
                        line.name,
                        line.quantity,
                        line.price_unit,
                        part,
                        quantum,
                        fmt=fmt,
                    )
                )
        return [vals for vals in lines if vals]

    def _proration_vals(
        self, line, label, quantity, price, part, quantum, sign=1, fmt=None
    ):
        unit, __ = periods.prorate(repr(price), part, quantum)
        if not unit or not quantity:
            return None
        fmt = fmt or DocumentFormat.for_partner(
            self.env, self.subscription_id.partner_invoice_id
        )
        period = fmt.days_period(
            part.start, part.end, part.days, part.full_days, part.is_partial
        )
        return {
            "product_id": line.product_id.id,
            "name": f"{label} — {period}",
            "quantity": quantity,
            "price_unit": str(sign * unit),
            "discount": line.discount,
            "subscription_period_start": str(part.start),
            "subscription_period_end": str(part.end),
            "subscription_billed_days": part.days,
            "subscription_period_days": part.full_days,
            "analytic_distribution": line.analytic_distribution or False,
        }

    def _termination_fee_lines(self):
        sub = self.subscription_id
        plan = sub.plan_id
        if (
            self.operation != "cancel"
            or self._closes_for_non_payment()
            or not sub.commitment_end_date
            or self.effective_date - ONE_DAY >= sub.commitment_end_date
            or plan.early_termination != "fee"
            or not plan.termination_fee
        ):
            return []
        product = plan.termination_fee_product_id or sub.line_ids[:1].product_id
        fee = plan.termination_fee
        if plan.currency_id != sub.currency_id:
            # Billed in the pricelist's currency: the fee at the day's rate.
            fee = plan.currency_id._convert(
                fee, sub.currency_id, sub.company_id, self.effective_date
            )
        fmt = DocumentFormat.for_partner(self.env, sub.partner_invoice_id)
        return [
            {
                "product_id": product.id,
                "name": fmt.env._(
                    "Termination fee: cancellation before the end of the "
                    "commitment (%(date)s)",
                    date=fmt.date(sub.commitment_end_date),
                ),
                "quantity": 1.0,
                "price_unit": repr(fee),
                "discount": 0.0,
                "analytic_distribution": sub._analytic_distribution_of(
                    sub.line_ids.filtered(lambda line: line.line_type == "fixed")
                ),
            }
        ]
