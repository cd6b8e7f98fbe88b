# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    """Settings > Subscriptions: the company's defaults (``res.company``)."""

    _inherit = "res.config.settings"

    subscription_dunning_policy_id = fields.Many2one(
        related="company_id.subscription_dunning_policy_id",
        readonly=False,
        domain="[('company_id', 'in', [company_id, False])]",
    )
    subscription_invoice_policy = fields.Selection(
        related="company_id.subscription_invoice_policy", readonly=False
    )
    subscription_trial_reminder_days = fields.Integer(
        related="company_id.subscription_trial_reminder_days", readonly=False
    )
    subscription_renewal_reminder_days = fields.Integer(
        related="company_id.subscription_renewal_reminder_days", readonly=False
    )
    subscription_portal_change_quantity = fields.Boolean(
        related="company_id.subscription_portal_change_quantity", readonly=False
    )
    subscription_portal_manage_options = fields.Boolean(
        related="company_id.subscription_portal_manage_options", readonly=False
    )
    subscription_portal_change_plan = fields.Boolean(
        related="company_id.subscription_portal_change_plan", readonly=False
    )
    subscription_portal_cancel = fields.Boolean(
        related="company_id.subscription_portal_cancel", readonly=False
    )
    subscription_wallet_journal_id = fields.Many2one(
        related="company_id.subscription_wallet_journal_id", readonly=False
    )
    subscription_wallet_account_id = fields.Many2one(
        related="company_id.subscription_wallet_account_id", readonly=False
    )
    subscription_wallet_grant_account_id = fields.Many2one(
        related="company_id.subscription_wallet_grant_account_id", readonly=False
    )
    subscription_wallet_expiry_account_id = fields.Many2one(
        related="company_id.subscription_wallet_expiry_account_id", readonly=False
    )
    subscription_wallet_product_id = fields.Many2one(
        related="company_id.subscription_wallet_product_id", readonly=False
    )
