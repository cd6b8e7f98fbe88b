# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class SubscriptionPreviewWizard(models.TransientModel):
    """Shows what the next invoice would contain now; saves nothing."""

    _name = "subscription.preview.wizard"
    _description = "Preview Next Invoice"

    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, readonly=True
    )
    preview = fields.Html(compute="_compute_preview", sanitize=False)

    @api.depends("subscription_id")
    def _compute_preview(self):
        for wizard in self:
            wizard.preview = wizard.subscription_id._render_preview()
