# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.subscription_report_total_mixin import ratio, sum_of, sum_once_per


class SubscriptionCohort(models.Model):
    """Customers by month of their first subscription: how many are still
    active, and their MRR, month by month since (from the monthly snapshots).

    Totals that mean something: a group over several months of a cohort has
    the retained customers and MRR of its last month (not the sum of the
    months), the size of each cohort counts once, and retention is retained
    ÷ size from those sums. Over several cohorts, the figures of each add up.
    """

    _name = "subscription.cohort"
    _inherit = ["subscription.report.total.mixin"]
    _description = "Customer Cohort"
    _auto = False
    _order = "cohort desc, age"
    _report_single_groupbys = ({"cohort", "age"}, {"cohort", "month"})

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    cohort = fields.Date(string="First Month", readonly=True)
    month = fields.Date(readonly=True)
    age = fields.Integer(string="Months Since Start", readonly=True, aggregator=False)
    cohort_size = fields.Integer(string="Customers in Cohort", readonly=True)
    retained = fields.Integer(
        string="Retained Customers",
        readonly=True,
        help="Customers of the cohort with some MRR at the end of the month; "
        "over several months, at the end of the last one.",
    )
    retention = fields.Float(
        string="Retention (%)",
        digits=(16, 2),
        readonly=True,
        help="Retained customers ÷ customers in the cohort.",
    )
    mrr = fields.Monetary(
        string="MRR",
        readonly=True,
        help="MRR of the cohort's customers at the end of the month; over "
        "several months, at the end of the last one.",
    )

    def _report_totals(self, column, single=False):
        if single:  # one month of each cohort a group: sums, and the ratio
            retained = sum_of(column("retained"))
            size = sum_of(column("cohort_size"))
            return {"retention": ratio(retained, size)}
        cohort = SQL("CONCAT(%s, ':', %s)", column("company_id"), column("cohort"))
        age = column("age")
        # SUM of integers is NUMERIC in PostgreSQL: counts back to integers.
        retained = SQL("(%s)::int", sum_once_per(cohort, column("retained"), order=age))
        size = SQL("(%s)::int", sum_once_per(cohort, column("cohort_size")))
        return {
            "cohort_size": size,
            "retained": retained,
            "mrr": sum_once_per(cohort, column("mrr"), order=age),
            "retention": ratio(retained, size),
        }

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(table)s AS (
                WITH per_customer AS (
                    SELECT company_id, partner_id, month, SUM(mrr) AS mrr
                      FROM subscription_mrr_snapshot
                     GROUP BY company_id, partner_id, month
                ),
                firsts AS (
                    SELECT company_id, partner_id, MIN(month) AS cohort
                      FROM per_customer WHERE mrr > 0
                     GROUP BY company_id, partner_id
                ),
                sizes AS (
                    SELECT company_id, cohort, COUNT(*) AS size
                      FROM firsts GROUP BY company_id, cohort
                )
                SELECT row_number() OVER () AS id, f.company_id, f.cohort, p.month,
                       ((EXTRACT(YEAR FROM p.month) - EXTRACT(YEAR FROM f.cohort)) * 12
                        + EXTRACT(MONTH FROM p.month) - EXTRACT(MONTH FROM f.cohort)
                       )::int AS age,
                       MAX(s.size)::int AS cohort_size,
                       (COUNT(*) FILTER (WHERE p.mrr > 0))::int AS retained,
                       ROUND(100.0 * COUNT(*) FILTER (WHERE p.mrr > 0)
                             / MAX(s.size), 2) AS retention,
                       SUM(p.mrr) AS mrr
                  FROM firsts f
                  JOIN per_customer p ON p.company_id = f.company_id
                                     AND p.partner_id = f.partner_id
                                     AND p.month >= f.cohort
                  JOIN sizes s ON s.company_id = f.company_id AND s.cohort = f.cohort
                 GROUP BY f.company_id, f.cohort, p.month
                )
                """,
                table=SQL.identifier(self._table),
            )
        )
