# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionHistory(models.Model):
    _inherit = "subscription.history"

    kind = fields.Selection(
        selection_add=[("discount", "Discount")], ondelete={"discount": "cascade"}
    )
