# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    subscription_deferred_account_id = fields.Many2one(
        related="company_id.subscription_deferred_account_id", readonly=False
    )
    subscription_recognition_journal_id = fields.Many2one(
        related="company_id.subscription_recognition_journal_id", readonly=False
    )
    subscription_recognition_mode = fields.Selection(
        related="company_id.subscription_recognition_mode", readonly=False
    )
