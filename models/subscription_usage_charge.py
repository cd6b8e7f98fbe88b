# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..core import allowance, periods, rating
from ..core.periods import ONE_DAY
from ..core.rating.base import RatingResult, fmt_money
from ..tools import (
    DocumentFormat,
    RatedUsage,
    UsageItem,
    clean_decimal,
    exact_decimal,
)


class SubscriptionUsageCharge(models.Model):
    """The rated usage of one usage line for one period, as invoiced.

    Keeps what explains the invoice line: the quantity, the allowance
    (included, carried in, used, expired, carried out), the billed units and
    ``details``: the tiers and the exact amounts as decimal strings (the
    float columns are for lists and reports; computations read ``details``,
    through ``RatingResult.from_details``; ``RatingResult.to_details`` writes
    them).

    The model also rates: the billing hands it what to rate
    (:class:`~..tools.UsageItem`), it returns the charges and their invoice
    lines (:class:`~..tools.RatedUsage`), and stores them with the invoice,
    marking the events it rated.
    """

    _name = "subscription.usage.charge"
    _description = "Rated Usage"
    _order = "subscription_id, usage_start desc, id"
    _rec_name = "explanation"

    period_id = fields.Many2one(
        "subscription.period",
        string="Billed With",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    subscription_line_id = fields.Many2one(
        "subscription.line",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    metric_id = fields.Many2one("subscription.metric", required=True, readonly=True)
    usage_start = fields.Date(string="Usage From", required=True, readonly=True)
    usage_end = fields.Date(string="Usage To", required=True, readonly=True)
    is_late = fields.Boolean(
        string="Late Usage",
        readonly=True,
        help="Usage received after its period was invoiced, billed with a later one.",
    )
    event_count = fields.Integer(string="Events", readonly=True)
    quantity = fields.Float(digits=(20, 6), readonly=True)
    included = fields.Float(digits=(20, 6), readonly=True)
    carried_in = fields.Float(digits=(20, 6), readonly=True)
    allowance_used = fields.Float(string="Used", digits=(20, 6), readonly=True)
    expired = fields.Float(digits=(20, 6), readonly=True)
    carried_out = fields.Float(digits=(20, 6), readonly=True)
    billed_units = fields.Float(digits=(20, 6), readonly=True)
    carry_buckets = fields.Json(readonly=True)
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    amount = fields.Monetary(readonly=True)
    explanation = fields.Char(readonly=True)
    details = fields.Json(
        readonly=True,
        help="The computation, tier by tier, with the exact (unrounded) amount.",
    )
    invoice_line_id = fields.Many2one(
        "account.move.line", index="btree_not_null", ondelete="set null", readonly=True
    )
    invoice_id = fields.Many2one(related="period_id.invoice_id")

    _line_period_unique = models.Constraint(
        "UNIQUE(period_id, subscription_line_id, usage_start)",
        "This usage is already rated on this invoice.",
    )

    # ------------------------------------------------------------------
    # Display: exact figures (from ``details``) with the metric's precision
    # ------------------------------------------------------------------

    def _display(self):
        """:meth:`_display_figures` of this charge."""
        self.ensure_one()
        return self._display_figures(self.metric_id, self.details or {})

    @api.model
    def _display_figures(self, metric, details):
        """``{figure: text}`` of a charge's ``details`` (decimal strings),
        each with ``metric``'s precision (``quantity``, ``included``,
        ``carried_in``, ``used``, ``billed``)."""
        stored = RatingResult.from_details(details)
        values = {
            "quantity": stored.quantity,
            "included": stored.allowance_figure("included"),
            "carried_in": stored.allowance_figure("carried_in"),
            "used": stored.used,
            "billed": stored.billed,
        }
        return {
            name: metric._format_quantity(exact_decimal(value))
            for name, value in values.items()
        }

    # ------------------------------------------------------------------
    # Rating: what to rate
    # ------------------------------------------------------------------

    @api.model
    def _usage_items(self, subscriptions, usage_periods):
        """What to rate: a :class:`UsageItem` per usage line and stretch.

        ``usage_periods``: ``(group, subscription, period)`` of the usage
        periods invoiced now, in invoicing order. Usage that arrived after its
        period was invoiced (late) is rated again with the subscription's
        first usage period invoiced now.
        """
        # Read every usage line, its tiers and metric in a few queries.
        usage_lines = subscriptions.line_ids.filtered(
            lambda line: line.line_type == "usage"
        )
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
                "volume_prorated",
            ]
        )
        usage_lines.metric_id.fetch(["code", "aggregation", "uom_id"])
        lines_of = defaultdict(list)
        for line in usage_lines:
            lines_of[line.subscription_id].append(line)
        items = []
        first_period = {}
        for group, sub, period in usage_periods:
            first_period.setdefault(sub, (group, period))
            items += self._clipped_items(
                group, sub, period, lines_of[sub], period.start, period.end, False
            )
        for sub, (group, period), start, end in self._late_usage_periods(first_period):
            items += self._clipped_items(
                group, sub, period, lines_of[sub], start, end, True
            )
        return items

    @api.model
    def _clipped_items(self, group, sub, period, lines, start, end, late):
        """One item per usage line billed during ``start..end``, cut to its days:
        a change splits a period between the old and the new line."""
        items = []
        for line in lines:
            first = max(start, line.date_start or start)
            last = min(end, line.date_end or end)
            if first <= last:
                items.append(UsageItem(group, sub, period, line, first, last, late))
        return items

    @api.model
    def _late_usage_periods(self, first_period):
        """Usage periods with late events: ``(sub, (group, period), start, end)``.

        Late events are the unrated events of periods already invoiced.
        """
        subs = self.env["subscription.subscription"].browse(
            [sub.id for sub in first_period if sub.usage_invoiced_until]
        )
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
            sub = subs.browse(sub_id)
            schedule = sub._get_schedule(open_ended=True)
            starts = sorted({schedule.period_at(day).start for day in days})
            for start in starts:
                period = schedule.period_at(start)
                result.append((sub, first_period[sub], period.start, period.end))
        return result

    # ------------------------------------------------------------------
    # Rating: one usage line over one period
    # ------------------------------------------------------------------

    @api.model
    def _rate_items(self, subscriptions, items, isolate):
        """Rate ``items``: ``(rated, failed)``.

        ``rated``: the :class:`RatedUsage` of each usage period, by
        :attr:`UsageItem.key`; ``failed``: the ``subscriptions`` whose usage
        could not be rated (the error on their record), unless not
        ``isolate``, when the error is raised.

        Aggregation runs in SQL for the whole batch (one query per metric);
        rating calls the pure engine; allowances roll over from the last
        rated period.
        """
        failed = subscriptions.browse()
        quantities = self.env["subscription.usage"]._aggregate(
            [item.query() for item in items]
        )
        history = self._usage_history([item for item in items if item.late])
        pricings = (
            self.env["subscription.line"]
            .browse({item.line.id for item in items})
            ._prepare_pricings()
        )
        carried = self._carried_allowances(subscriptions.line_ids)
        rated = defaultdict(list)
        for item, measured in zip(items, quantities, strict=True):
            sub, line = item.subscription, item.line
            if sub in failed:
                continue
            try:
                if measured["error"]:
                    raise ValidationError(measured["error"])
                if item.late:
                    charge = self._rate_late_usage(item, measured, history)
                else:
                    charge = self._rate_period_usage(item, measured, carried, pricings)
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
                rated[item.key].append(charge)
        return rated, failed

    @api.model
    def _usage_history(self, late_items):
        """Charges already invoiced for the periods that have late usage."""
        if not late_items:
            return {}
        charges = self.search(
            [
                ("subscription_line_id", "in", [item.line.id for item in late_items]),
                ("usage_start", "in", list({item.start for item in late_items})),
            ],
            order="id",
        )
        history = defaultdict(lambda: self.browse())
        for charge in charges:
            history[(charge.subscription_line_id.id, charge.usage_start)] |= charge
        return history

    @api.model
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

    @api.model
    def _rate_period_usage(self, item, measured, carried, pricings):
        """The charge of ``item``'s line for its days (``carried``: the
        allowance buckets of each line, rolled forward here)."""
        line = item.line
        quantity = measured["quantity"]
        buckets = carried.get(line.id, ())
        included = exact_decimal(line.included_units)
        carried_in = sum((bucket.units for bucket in buckets), Decimal(0))
        result = line._rate_usage(
            quantity,
            measured["transactions"],
            included=included + carried_in,
            pricing=pricings.get(line.id),
            proration=item.proration,
        )
        roll = allowance.roll(
            result.included_units_used,
            included,
            buckets,
            origin=str(item.start),
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
        return self._prepare_rated_usage(item, measured, result, roll)

    @api.model
    def _rate_late_usage(self, item, measured, history):
        """A correcting charge for usage that came after ``item``'s period was
        invoiced: the whole period rated again, less what was billed."""
        line = item.line
        before = history.get((line.id, item.start))
        if not before:
            return None
        # The stored details hold the exact figures (the float columns do not).
        stored = [RatingResult.from_details(charge.details) for charge in before]
        first = stored[0]
        available = clean_decimal(
            exact_decimal(first.allowance_figure("included"))
            + exact_decimal(first.allowance_figure("carried_in"))
        )
        proration = None
        if line.volume_prorated:
            # The item is on a later invoice: the share of its own period.
            own = item.subscription._get_schedule(open_ended=True).period_at(item.start)
            if own.is_partial:
                proration = (own.days, own.full_days)
        result = line._rate_usage(
            measured["quantity"],
            measured["transactions"],
            included=available,
            proration=proration,
        )
        billed_before = sum(
            (exact_decimal(charge.amount) for charge in stored), Decimal(0)
        )
        previous_quantity = exact_decimal(stored[-1].quantity)
        return self._prepare_rated_usage(
            item,
            measured,
            result,
            None,
            late={"billed_before": billed_before, "quantity_before": previous_quantity},
        )

    @api.model
    def _prepare_rated_usage(self, item, measured, result, roll, late=None):
        """The :class:`RatedUsage` of a rated ``item``: the charge values
        (stored) and the invoice line values."""
        sub, line, start, end = item.subscription, item.line, item.start, item.end
        quantum = repr(sub.currency_id.rounding)
        quantity = measured["quantity"]
        metric = line.metric_id
        # The line and its computation in the customer's language and format.
        fmt = DocumentFormat.for_partner(self.env, sub.partner_invoice_id)
        uom = metric.with_env(fmt.env).uom_id.name or ""
        # An average shows the metric's decimals, not the division's digits.
        terms = result.explain_terms(
            metric.quantity_decimals if metric.aggregation == "weighted_sum" else None
        )
        explanation = fmt.explanation(terms)
        amount = result.amount
        period_label = fmt.period(start, end)
        shown_quantity = f"{fmt.number(metric._format_quantity(quantity))} {uom}"
        if late:
            amount -= late["billed_before"]
            explanation = fmt.env._(
                "%(explain)s - %(before)s already invoiced",
                explain=explanation,
                before=fmt.money(late["billed_before"]),
            )
            name = fmt.env._(
                "%(line)s — late usage %(period)s: %(quantity)s instead of "
                "%(before)s — %(explain)s",
                line=line.with_env(fmt.env).name,
                period=period_label,
                quantity=shown_quantity.strip(),
                before=fmt.number(metric._format_quantity(late["quantity_before"])),
                explain=explanation,
            )
        else:
            name = fmt.env._(
                "%(line)s — %(period)s: %(quantity)s — %(explain)s",
                line=line.with_env(fmt.env).name,
                period=period_label,
                quantity=shown_quantity.strip(),
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
        details = result.to_details(
            metric=line.metric_id.code,
            period=(start, end),
            events=measured["count"],
            quantity=quantity,
            amount=amount,
            amount_rounded=rounded,
            explanation=explanation,
            billed_before=late["billed_before"] if late else None,
            allowance=roll,
        )
        line_vals = {
            "product_id": line.product_id.id,
            "name": name,
            "quantity": 1,
            "price_unit": float(rounded),
            "subscription_id": sub.id,
            "subscription_line_id": line.id,
            "subscription_period_start": start,
            "subscription_period_end": end,
            "subscription_usage_details": details,
            "analytic_distribution": line.analytic_distribution or False,
        }
        charge_vals = {
            "subscription_id": sub.id,
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
        return RatedUsage(
            line=line,
            period=item.period,
            rounded=rounded,
            late=bool(late),
            line_vals=line_vals,
            charge_vals=charge_vals,
        )

    @api.model
    def _prepare_true_up_line_vals(self, sub, period, charges):
        """True-up line when the usage of ``sub``'s ``period`` (``charges``:
        its :class:`RatedUsage`) costs less than the plan's minimum spend."""
        sub.ensure_one()
        minimum = exact_decimal(sub.plan_id.minimum_spend)
        if not minimum:
            return None
        spent = sum(
            (charge.rounded for charge in charges if not charge.late), Decimal(0)
        )
        if spent >= minimum:
            return None
        usage_lines = sub.line_ids.filtered(lambda line: line.line_type == "usage")
        product = sub.plan_id.minimum_spend_product_id or usage_lines[:1].product_id
        fmt = DocumentFormat.for_partner(self.env, sub.partner_invoice_id)
        return {
            "product_id": product.id,
            "name": fmt.env._(
                "Minimum spend true-up — %(period)s: minimum %(minimum)s, usage "
                "%(spent)s",
                period=fmt.period(period.start, period.end),
                minimum=fmt.money(minimum),
                spent=fmt.money(spent),
            ),
            "quantity": 1,
            "price_unit": float(minimum - spent),
            "analytic_distribution": (
                usage_lines[:1].analytic_distribution
                or sub.plan_id.analytic_distribution
                or False
            ),
            "subscription_id": sub.id,
            "subscription_period_start": period.start,
            "subscription_period_end": period.end,
        }

    # ------------------------------------------------------------------
    # Storing the rated usage
    # ------------------------------------------------------------------

    @api.model
    def _create_rated(self, vals_list):
        """Store rated usage (``vals_list``: the charge values, with their
        billed period and invoice line) and mark the events each charge rated,
        in one statement, so no event is ever rated twice."""
        # Rated usage is written by the billing process only.
        charges = self.sudo().create(vals_list)
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
                [vals["subscription_id"] for vals in vals_list],
                [vals["metric_id"] for vals in vals_list],
                [vals["usage_start"] for vals in vals_list],
                [vals["usage_end"] + ONE_DAY for vals in vals_list],
            )
        )
        self.env["subscription.usage"].invalidate_model(["charge_id"])
        return charges
