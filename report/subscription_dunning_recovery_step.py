# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.subscription_report_total_mixin import ratio, sum_of, sum_once_per


class SubscriptionDunningRecoveryStep(models.Model):
    """Recovery per step of the follow-ups: one row per follow-up and step it
    reached. *Recovered* is the amount paid after that step and before the
    next one; *Lost* the amount lost after that step, the last one run.

    A follow-up reaches several steps: *Failed* and *Follow-ups* of a group
    count each follow-up once, so the total over the steps is the amount
    that failed, not the sum of the steps; Recovery (%) is recovered ÷
    failed, from those sums.
    """

    _name = "subscription.dunning.recovery.step"
    _inherit = ["subscription.report.total.mixin"]
    _description = "Payment Recovery per Step"
    _auto = False
    _order = "month desc, sequence, id"

    dunning_id = fields.Many2one(
        "subscription.dunning", string="Follow-up", readonly=True
    )
    step_id = fields.Many2one("subscription.dunning.step", readonly=True)
    sequence = fields.Integer(readonly=True, aggregator=False)
    month = fields.Date(string="Failure Month", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    dunning_count = fields.Integer(string="Follow-ups", readonly=True)
    amount_failed = fields.Monetary(
        string="Failed",
        readonly=True,
        help="Failed amount of the follow-ups that reached the step; each "
        "follow-up once in a total.",
    )
    amount_recovered = fields.Monetary(
        string="Recovered",
        readonly=True,
        help="Paid after the step, before the next one.",
    )
    amount_lost = fields.Monetary(
        string="Lost", readonly=True, help="Lost with this step the last one run."
    )
    recovery_rate = fields.Float(
        string="Recovery (%)",
        digits=(16, 2),
        aggregator="sum",
        readonly=True,
        help="Of the amounts that reached the step, the share paid before the "
        "next step; from the sums of the rows grouped.",
    )

    def _report_totals(self, column, single=False):
        failed = sum_once_per(column("dunning_id"), column("amount_failed"))
        return {
            "amount_failed": failed,
            "dunning_count": SQL("COUNT(DISTINCT %s)", column("dunning_id")),
            "recovery_rate": ratio(sum_of(column("amount_recovered")), failed),
        }

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(table)s AS (
                WITH d AS (
                    SELECT id, company_id, currency_id, partner_id, amount_failed,
                           amount_recovered, amount_lost, recovered_step_id, state,
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
                    SELECT d.id AS dunning_id, r.step_id, d.month, d.company_id,
                           d.currency_id, d.partner_id, d.amount_failed,
                           CASE WHEN d.recovered_step_id = r.step_id
                                THEN d.amount_recovered ELSE 0 END AS recovered,
                           CASE WHEN d.state IN ('lost', 'escalated')
                                 AND NOT EXISTS (
                                    SELECT 1 FROM reached r2
                                      JOIN subscription_dunning_step s2
                                        ON s2.id = r2.step_id
                                     WHERE r2.dunning_id = d.id
                                       AND (s2.day, s2.sequence, s2.id)
                                         > (s.day, s.sequence, s.id))
                                THEN d.amount_lost ELSE 0 END AS lost,
                           s.day * 1000 + s.sequence AS sequence
                      FROM d
                      JOIN reached r ON r.dunning_id = d.id
                      JOIN subscription_dunning_step s ON s.id = r.step_id
                )
                SELECT row_number() OVER (ORDER BY dunning_id, sequence, step_id)
                           AS id,
                       dunning_id, step_id, sequence, month, company_id,
                       currency_id, partner_id, 1 AS dunning_count, amount_failed,
                       recovered AS amount_recovered, lost AS amount_lost,
                       ROUND(100.0 * recovered / NULLIF(amount_failed, 0), 2)
                           AS recovery_rate
                  FROM rows
                )
                """,
                table=SQL.identifier(self._table),
            )
        )
