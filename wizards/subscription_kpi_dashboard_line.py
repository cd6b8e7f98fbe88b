# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionKpiDashboardLine(models.TransientModel):
    _name = "subscription.kpi.dashboard.line"
    _inherit = ["subscription.mrr.movement.mixin"]
    _description = "Subscription Analytics: Month"
    _order = "month"

    dashboard_id = fields.Many2one(
        "subscription.kpi.dashboard", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="dashboard_id.currency_id")
    month_label = fields.Char(string="Month Name", readonly=True)
    check = fields.Monetary(
        readonly=True, help="Starting MRR + movements − ending MRR: always 0."
    )
    active_subscriptions = fields.Integer(readonly=True)
    active_customers = fields.Integer(readonly=True)
    customers_start = fields.Integer(string="Customers at Start", readonly=True)
    churned_customers = fields.Integer(readonly=True)
    arpu = fields.Monetary(string="ARPU", readonly=True)
    logo_churn = fields.Float(string="Logo Churn (%)", digits=(16, 2), readonly=True)
    revenue_churn = fields.Float(
        string="Revenue Churn (%)", digits=(16, 2), readonly=True
    )
    trial_conversion = fields.Float(
        string="Trial Conversion (%)", digits=(16, 2), readonly=True
    )
    recovery = fields.Float(
        string="Dunning Recovery (%)", digits=(16, 2), readonly=True
    )
