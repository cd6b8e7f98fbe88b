# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools
from odoo.tools import SQL

from ..const import DECLINES
from ..models.subscription_dunning import STATES
from ..models.subscription_report_total_mixin import ratio, sum_of


class SubscriptionDunningRecovery(models.Model):
    """Recovery of failed payments: one row per follow-up (by month of the
    failure), so that any grouping adds each failed amount once.

    Recovery (%) of a group is its recovered ÷ its failed amounts, from the
    sums (not an average of the rows' rates). Follow-ups ended by a credit
    note or a cancelled invoice are not counted (nothing was to recover).
    The steps are in their own report (``subscription.dunning.recovery.step``):
    a follow-up reaches several steps.
    """

    _name = "subscription.dunning.recovery"
    _inherit = ["subscription.report.total.mixin"]
    _description = "Payment Recovery"
    _auto = False
    _order = "month desc, id desc"

    dunning_id = fields.Many2one(
        "subscription.dunning", string="Follow-up", readonly=True
    )
    month = fields.Date(string="Failure Month", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    policy_id = fields.Many2one("subscription.dunning.policy", readonly=True)
    state = fields.Selection(STATES, readonly=True)
    decline_type = fields.Selection(DECLINES, readonly=True)
    recovery_channel = fields.Selection(
        [("retry", "Automatic retry"), ("other", "Other payment")], readonly=True
    )
    recovered_step_id = fields.Many2one(
        "subscription.dunning.step", string="Recovered at Step", readonly=True
    )
    dunning_count = fields.Integer(string="Follow-ups", readonly=True)
    amount_failed = fields.Monetary(string="Failed", readonly=True)
    amount_recovered = fields.Monetary(string="Recovered", readonly=True)
    amount_lost = fields.Monetary(string="Lost", readonly=True)
    amount_at_risk = fields.Monetary(string="At Risk", readonly=True)
    recovery_rate = fields.Float(
        string="Recovery (%)",
        digits=(16, 2),
        aggregator="sum",
        readonly=True,
        help="Recovered ÷ failed, from the sums of the rows grouped.",
    )

    def _report_totals(self, column, single=False):
        return {
            "recovery_rate": ratio(
                sum_of(column("amount_recovered")), sum_of(column("amount_failed"))
            )
        }

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(table)s AS (
                SELECT d.id, d.id AS dunning_id,
                       date_trunc('month', d.date_start)::date AS month,
                       d.company_id, d.currency_id, d.partner_id, d.policy_id,
                       d.state, d.decline_type, d.recovery_channel,
                       d.recovered_step_id, 1 AS dunning_count, d.amount_failed,
                       d.amount_recovered, d.amount_lost, d.amount_at_risk,
                       ROUND(100.0 * d.amount_recovered
                             / NULLIF(d.amount_failed, 0), 2) AS recovery_rate
                  FROM subscription_dunning d
                 WHERE d.state NOT IN ('credited', 'cancelled')
                )
                """,
                table=SQL.identifier(self._table),
            )
        )
