# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    subscription_discount_id = fields.Many2one(
        "subscription.discount",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="set null",
    )
