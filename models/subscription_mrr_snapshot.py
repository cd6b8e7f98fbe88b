# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..core.periods import quantize
from ..core.rating.base import to_decimal
from .subscription_mrr_movement_mixin import MOVEMENTS
from .subscription_report_total_mixin import sum_at

_logger = logging.getLogger(__name__)


class SubscriptionMrrSnapshot(models.Model):
    """MRR of a subscription at the end of a month, with the month's movements.

    Written once per month (scheduled action) from the subscription history,
    and kept as written: a later change of the subscription, dated after the
    month, does not change it. History written later but dated in a month
    already taken or before (a subscription started or changed with a past
    date) and usage billed late for such a month make it stale: the next run
    takes it again, and the months after it (their starting MRR follows).
    Amounts are in the company currency at the rate of the month's last day;
    ``fx_amount`` holds the currency effect, so that starting MRR + movements
    + currency effect = ending MRR, exactly.

    Totals: the MRR of a group over several months is the MRR at the end of
    its last month, its starting MRR at the start of its first month (not
    the sum of the months); the movements add up.
    """

    _name = "subscription.mrr.snapshot"
    _inherit = ["subscription.mrr.movement.mixin", "subscription.report.total.mixin"]
    _description = "Monthly MRR Snapshot"
    _order = "month desc, subscription_id"
    _check_company_auto = True

    month = fields.Date(required=True, index=True, readonly=True)
    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    subscription_currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, index=True
    )
    country_id = fields.Many2one("res.country", readonly=True)
    plan_id = fields.Many2one("subscription.plan", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    mrr_subscription_currency = fields.Monetary(
        string="MRR (Subscription Currency)",
        currency_field="subscription_currency_id",
        readonly=True,
    )
    net_amount = fields.Monetary(string="Net Movement", readonly=True)
    is_active = fields.Boolean(readonly=True, help="A recurring amount at month end.")
    is_paused = fields.Boolean(
        readonly=True, help="Paused without billing at month end: not churned."
    )
    was_active = fields.Boolean(
        readonly=True, help="Active or paused at the end of the previous month."
    )
    # The last history entry and usage charge that existed when the month was
    # taken: a later one dated in the month or before makes the month stale.
    history_watermark = fields.Integer(readonly=True, aggregator=False)
    usage_watermark = fields.Integer(readonly=True, aggregator=False)

    _subscription_month_unique = models.Constraint(
        "UNIQUE(subscription_id, month)",
        "A subscription has one snapshot per month.",
    )
    _month_company_index = models.Index("(company_id, month)")
    _report_single_groupbys = ({"month"},)

    def _report_totals(self, column, single=False):
        if single:  # one month a group: the sums are the balances
            return {}
        month = column("month")
        return {
            "starting_mrr": sum_at(month, column("starting_mrr"), last=False),
            **{
                name: sum_at(month, column(name))
                for name in ("mrr", "arr", "mrr_subscription_currency")
            },
        }

    @api.model
    def _cron_take_snapshots(self):
        """Take the snapshot of the month that just ended, and of any month
        missed since the last one (since the first history entry, the first
        time); take again the stale months and those after them."""
        today = fields.Date.context_today(self)
        last_month = today.replace(day=1) - relativedelta(months=1)
        for company in self.env["res.company"].search([]):
            stale = self._stale_month(company)
            if stale:
                _logger.info(
                    "MRR snapshots of %s since %s: taken again", company.name, stale
                )
                # Nothing refers to snapshots: deleted in SQL (many rows).
                self.env.execute_query(
                    SQL(
                        "DELETE FROM subscription_mrr_snapshot"
                        " WHERE company_id = %s AND month >= %s",
                        company.id,
                        stale,
                    )
                )
                self.invalidate_model()
            done = self.search(
                [("company_id", "=", company.id)], order="month desc", limit=1
            ).month
            if done:
                month = done + relativedelta(months=1)
            else:  # first run: from the first month of the history
                first = self.env["subscription.history"].search(
                    [("company_id", "=", company.id)], order="date", limit=1
                )
                if not first:
                    continue
                month = first.date.replace(day=1)
            while month <= last_month:
                self._take(month, company)
                month += relativedelta(months=1)
                self.env["ir.cron"]._commit_progress(1)

    @api.model
    def _stale_month(self, company):
        """The first month taken of ``company`` that misses a history entry
        dated in it or before, or a usage charge of a period ended in it,
        written after it was taken; ``None`` when every month is up to date."""
        self.env.flush_all()
        [(month,)] = self.env.execute_query(
            SQL(
                """
                WITH taken AS (
                    SELECT month, MAX(history_watermark) AS history,
                           MAX(usage_watermark) AS usage
                      FROM subscription_mrr_snapshot
                     WHERE company_id = %(company)s AND history_watermark IS NOT NULL
                     GROUP BY month
                )
                SELECT MIN(t.month) FROM taken t
                 WHERE EXISTS (
                        SELECT 1 FROM subscription_history h
                         WHERE h.company_id = %(company)s AND h.id > t.history
                           AND h.date < t.month + INTERVAL '1 month')
                    OR EXISTS (
                        SELECT 1 FROM subscription_usage_charge c
                         WHERE c.company_id = %(company)s AND c.id > t.usage
                           AND c.usage_end >= t.month
                           AND c.usage_end < t.month + INTERVAL '1 month')
                """,
                company=company.id,
            )
        )
        return month

    @api.model
    def _take(self, month, company):
        """Write the snapshots of ``month`` (its first day) for ``company``,
        unless already taken; returns how many rows were written."""
        month = month.replace(day=1)
        end = month + relativedelta(months=1) - timedelta(days=1)
        rates = self._month_end_rates(company, end)
        self.env.flush_all()
        [(history_watermark, usage_watermark)] = self.env.execute_query(
            SQL(
                """
                SELECT (SELECT COALESCE(MAX(id), 0) FROM subscription_history),
                       (SELECT COALESCE(MAX(id), 0) FROM subscription_usage_charge)
                """
            )
        )
        rows = self.env.execute_query(
            SQL(
                """
                WITH rate(currency_id, rate) AS (
                    SELECT * FROM UNNEST(%(currencies)s::int[], %(rates)s::numeric[])
                ),
                ending AS (
                    SELECT DISTINCT ON (h.subscription_id)
                           h.subscription_id, h.mrr_after AS mrr,
                           h.kind = 'pause' AS paused
                      FROM subscription_history h
                     WHERE h.company_id = %(company)s AND h.date <= %(end)s
                     ORDER BY h.subscription_id, h.date DESC, h.id DESC
                ),
                moves AS (
                    SELECT h.subscription_id,
                           SUM(CASE WHEN h.kind = 'new' THEN h.mrr_change END) AS new,
                           SUM(CASE WHEN h.kind NOT IN ('new', 'churn', 'reactivation')
                                     AND h.mrr_change > 0 THEN h.mrr_change END)
                               AS expansion,
                           SUM(CASE WHEN h.kind NOT IN ('new', 'churn', 'reactivation')
                                     AND h.mrr_change < 0 THEN h.mrr_change END)
                               AS contraction,
                           SUM(CASE WHEN h.kind = 'churn' THEN h.mrr_change END)
                               AS churn,
                           SUM(CASE WHEN h.kind = 'reactivation' THEN h.mrr_change END)
                               AS reactivation
                      FROM subscription_history h
                     WHERE h.company_id = %(company)s
                       AND h.date BETWEEN %(start)s AND %(end)s
                     GROUP BY h.subscription_id
                ),
                previous AS (
                    SELECT subscription_id, mrr, is_active OR is_paused AS active
                      FROM subscription_mrr_snapshot
                     WHERE company_id = %(company)s AND month = %(previous)s
                ),
                usage AS (
                    SELECT c.subscription_id, SUM(c.amount) AS amount
                      FROM subscription_usage_charge c
                     WHERE c.company_id = %(company)s
                       AND c.usage_end BETWEEN %(start)s AND %(end)s
                     GROUP BY c.subscription_id
                )
                SELECT s.id, s.currency_id, p.commercial_partner_id,
                       cp.country_id, s.plan_id, s.user_id,
                       COALESCE(e.mrr, 0)::text, COALESCE(pr.mrr, 0)::text,
                       COALESCE(m.new, 0)::text, COALESCE(m.expansion, 0)::text,
                       COALESCE(m.contraction, 0)::text, COALESCE(m.churn, 0)::text,
                       COALESCE(m.reactivation, 0)::text, COALESCE(r.rate, 1)::text,
                       COALESCE(u.amount, 0)::text, COALESCE(e.paused, FALSE),
                       COALESCE(pr.active, FALSE)
                  FROM subscription_subscription s
                  JOIN res_partner p ON p.id = s.partner_id
                  JOIN res_partner cp ON cp.id = p.commercial_partner_id
                  LEFT JOIN ending e ON e.subscription_id = s.id
                  LEFT JOIN moves m ON m.subscription_id = s.id
                  LEFT JOIN previous pr ON pr.subscription_id = s.id
                  LEFT JOIN rate r ON r.currency_id = s.currency_id
                  LEFT JOIN usage u ON u.subscription_id = s.id
                 WHERE s.company_id = %(company)s
                   AND (e.subscription_id IS NOT NULL OR pr.subscription_id IS NOT NULL
                        OR u.subscription_id IS NOT NULL)
                   AND NOT EXISTS (
                        SELECT 1 FROM subscription_mrr_snapshot x
                         WHERE x.subscription_id = s.id AND x.month = %(month)s)
                """,
                currencies=list(rates),
                rates=[str(rate) for rate in rates.values()],
                company=company.id,
                start=month,
                end=end,
                month=month,
                previous=month - relativedelta(months=1),
            )
        )
        quantum = repr(company.currency_id.rounding)

        def convert(amount, rate):
            """Exact conversion, rounded once to the company currency."""
            return quantize(amount * rate, quantum)

        vals_list = []
        for row in rows:
            # The NUMERIC figures come as text: their exact decimals.
            (sub_id, sub_currency, partner, country, plan, user) = row[:6]
            mrr_sub, start, *moves, rate, usage = map(to_decimal, row[6:15])
            paused, was_active = row[15:17]
            converted = [convert(amount, rate) for amount in moves]
            mrr = convert(mrr_sub, rate)
            vals_list.append(
                {
                    "month": month,
                    "subscription_id": sub_id,
                    "company_id": company.id,
                    "subscription_currency_id": sub_currency,
                    "partner_id": partner,
                    "country_id": country,
                    "plan_id": plan,
                    "user_id": user,
                    "mrr_subscription_currency": float(mrr_sub),
                    "starting_mrr": float(start),
                    **{
                        f"{name}_amount": float(amount)
                        for name, amount in zip(MOVEMENTS, converted, strict=True)
                    },
                    # The remainder: starting + movements + effect = ending.
                    "fx_amount": float(mrr - start - sum(converted)),
                    "net_amount": float(mrr - start),
                    "mrr": float(mrr),
                    "arr": float(mrr * 12),
                    "usage_amount": float(convert(usage, rate)),
                    "is_active": mrr > 0,
                    "is_paused": paused,
                    "was_active": was_active,
                    "history_watermark": history_watermark,
                    "usage_watermark": usage_watermark,
                }
            )
        self.sudo().create(vals_list)
        return len(vals_list)

    @api.model
    def _month_end_rates(self, company, day):
        """``{currency id: rate to the company currency}`` on ``day``."""
        currencies = self.env["res.currency"].union(
            *(
                currency
                for [currency] in self.env["subscription.subscription"]._read_group(
                    [("company_id", "=", company.id)], ["currency_id"]
                )
            )
        )
        return {
            currency.id: self.env["res.currency"]._get_conversion_rate(
                currency, company.currency_id, company, day
            )
            for currency in currencies
        }
