# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

HISTORY_KINDS = [
    ("new", "New"),
    ("upgrade", "Upgrade"),
    ("downgrade", "Downgrade"),
    ("quantity", "Quantity"),
    ("option", "Option"),
    ("price", "Price"),
    ("pause", "Pause"),
    ("resume", "Resume"),
    ("churn", "Churn"),
    ("reactivation", "Reactivation"),
]


class SubscriptionHistory(models.Model):
    """One entry per change of a subscription's recurring amount (or state).

    Entries are written by the billing engine only, on the day a change takes
    effect; each one's ``mrr_before`` is the previous entry's ``mrr_after``,
    so the MRR of any day is the ``mrr_after`` of the last entry before it.
    """

    _name = "subscription.history"
    _description = "Subscription History"
    _order = "date desc, id desc"

    subscription_id = fields.Many2one(
        "subscription.subscription",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(related="subscription_id.currency_id", store=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    plan_id = fields.Many2one("subscription.plan", required=True, readonly=True)
    user_id = fields.Many2one(
        related="subscription_id.user_id", string="Salesperson", store=True
    )
    date = fields.Date(required=True, index=True, readonly=True)
    kind = fields.Selection(HISTORY_KINDS, required=True, readonly=True)
    mrr_before = fields.Monetary(
        string="MRR Before",
        readonly=True,
        help="Recurring amount normalised per month, before the change.",
    )
    mrr_after = fields.Monetary(
        string="MRR After",
        readonly=True,
        help="Recurring amount normalised per month, after the change.",
    )
    mrr_change = fields.Monetary(
        string="MRR Change", compute="_compute_mrr_change", store=True
    )
    change_id = fields.Many2one("subscription.change", readonly=True, index=True)
    description = fields.Char(readonly=True)

    @api.depends("mrr_before", "mrr_after")
    def _compute_mrr_change(self):
        for entry in self:
            entry.mrr_change = entry.mrr_after - entry.mrr_before
