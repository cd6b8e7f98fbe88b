# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

INVOICE_POLICIES = [
    ("draft", "Leave as draft"),
    ("post", "Post"),
    ("send", "Post and send by email"),
]


class ResCompany(models.Model):
    """The company's defaults of the Subscriptions app (Settings): new plans
    start from them, follow-ups without a customer's or plan's policy use the
    dunning policy."""

    _inherit = "res.company"

    subscription_dunning_policy_id = fields.Many2one(
        "subscription.dunning.policy",
        string="Default Dunning Policy",
        help="How unpaid subscription invoices are followed up when neither the "
        "customer nor the plan names a policy. Empty: the shipped default.",
    )
    subscription_invoice_policy = fields.Selection(
        INVOICE_POLICIES,
        string="Default Invoice Policy",
        required=True,
        default="post",
        help="What the billing run does with the invoices of a new plan.",
    )
    subscription_trial_reminder_days = fields.Integer(
        string="Default Trial Reminder (days before)",
        default=3,
        help="New plans: days before the end of a trial that the customer is "
        "reminded; 0: no reminder.",
    )
    subscription_renewal_reminder_days = fields.Integer(
        string="Default Renewal Reminder (days)",
        default=30,
        help="New plans: days before the end of a fixed term that renews when "
        "the customer is told of the renewal; 0: no reminder.",
    )
    subscription_portal_change_quantity = fields.Boolean(
        string="Customers Change Quantities", default=True
    )
    subscription_portal_manage_options = fields.Boolean(
        string="Customers Add and Remove Options", default=True
    )
    subscription_portal_change_plan = fields.Boolean(string="Customers Change Plan")
    subscription_portal_cancel = fields.Boolean(string="Customers Cancel", default=True)
