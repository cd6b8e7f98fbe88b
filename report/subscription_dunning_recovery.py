# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools
from odoo.tools import SQL


class SubscriptionDunningRecovery(models.Model):
    """Recovery of failed payments: recovered ÷ failed, overall, per month
    (of the failure) and per step (the last step run before the payment).

    Each row is exact: a ratio of sums computed in SQL, not an average of
    ratios. Follow-ups ended by a credit note or a cancelled invoice are not
    counted (nothing was to recover).
    """

    _name = "subscription.dunning.recovery"
    _description = "Payment Recovery"
    _auto = False
    _order = "dimension, month desc, sequence, id"

    dimension = fields.Selection(
        [("overall", "Overall"), ("month", "Per month"), ("step", "Per step")],
        readonly=True,
    )
    month = fields.Date(readonly=True)
    step_id = fields.Many2one("subscription.dunning.step", readonly=True)
    sequence = fields.Integer(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    dunning_count = fields.Integer(string="Follow-ups", readonly=True)
    amount_failed = fields.Monetary(string="Failed", readonly=True)
    amount_recovered = fields.Monetary(string="Recovered", readonly=True)
    amount_lost = fields.Monetary(string="Lost", readonly=True)
    amount_at_risk = fields.Monetary(string="At Risk", readonly=True)
    recovery_rate = fields.Float(
        string="Recovery (%)",
        digits=(16, 2),
        aggregator="avg",
        readonly=True,
        help="Recovered ÷ failed of the row. Per step: of the amounts that "
        "reached the step, the share paid before the next step.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(table)s AS (
                WITH d AS (
                    SELECT id, company_id, currency_id, amount_failed,
                           amount_recovered, amount_lost, amount_at_risk,
                           recovered_step_id, state,
                           date_trunc('month', date_start)::date AS month
                      FROM subscription_dunning
                     WHERE state NOT IN ('credited', 'cancelled')
                ),
                reached AS (
                    SELECT DISTINCT dunning_id, step_id
                      FROM subscription_dunning_event
                     WHERE step_id IS NOT NULL AND result != 'superseded'
                ),
                rows AS (
                    SELECT 'overall' AS dimension, NULL::date AS month,
                           NULL::int AS step_id, company_id, currency_id,
                           COUNT(*) AS dunning_count,
                           SUM(amount_failed) AS failed,
                           SUM(amount_recovered) AS recovered,
                           SUM(amount_lost) AS lost,
                           SUM(amount_at_risk) AS at_risk
                      FROM d GROUP BY company_id, currency_id
                    UNION ALL
                    SELECT 'month', month, NULL, company_id, currency_id,
                           COUNT(*), SUM(amount_failed), SUM(amount_recovered),
                           SUM(amount_lost), SUM(amount_at_risk)
                      FROM d GROUP BY month, company_id, currency_id
                    UNION ALL
                    SELECT 'step', NULL, r.step_id, d.company_id, d.currency_id,
                           COUNT(*), SUM(d.amount_failed),
                           SUM(CASE WHEN d.recovered_step_id = r.step_id
                                    THEN d.amount_recovered ELSE 0 END),
                           SUM(CASE WHEN d.state IN ('lost', 'escalated')
                                     AND NOT EXISTS (
                                        SELECT 1 FROM reached r2
                                          JOIN subscription_dunning_step s2
                                            ON s2.id = r2.step_id
                                          JOIN subscription_dunning_step s1
                                            ON s1.id = r.step_id
                                         WHERE r2.dunning_id = d.id
                                           AND (s2.day, s2.sequence, s2.id)
                                             > (s1.day, s1.sequence, s1.id))
                                    THEN d.amount_lost ELSE 0 END),
                           0
                      FROM d JOIN reached r ON r.dunning_id = d.id
                     GROUP BY r.step_id, d.company_id, d.currency_id
                )
                SELECT row_number() OVER () AS id, rows.dimension, rows.month,
                       rows.step_id, COALESCE(s.day * 1000 + s.sequence, 0)
                           AS sequence,
                       rows.company_id, rows.currency_id, rows.dunning_count,
                       rows.failed AS amount_failed,
                       rows.recovered AS amount_recovered,
                       rows.lost AS amount_lost,
                       rows.at_risk AS amount_at_risk,
                       ROUND(100.0 * rows.recovered / NULLIF(rows.failed, 0), 2)
                           AS recovery_rate
                  FROM rows
                  LEFT JOIN subscription_dunning_step s ON s.id = rows.step_id
                )
                """,
                table=SQL.identifier(self._table),
            )
        )
