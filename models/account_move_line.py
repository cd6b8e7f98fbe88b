# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    subscription_id = fields.Many2one(
        "subscription.subscription", index="btree_not_null", readonly=True, copy=False
    )
    subscription_line_id = fields.Many2one(
        "subscription.line", index="btree_not_null", readonly=True, copy=False
    )
    subscription_period_start = fields.Date(
        string="Service Start", readonly=True, copy=False
    )
    subscription_period_end = fields.Date(
        string="Service End", readonly=True, copy=False
    )
    subscription_billed_days = fields.Integer(
        string="Billed Days", readonly=True, copy=False
    )
    subscription_period_days = fields.Integer(
        string="Days in Period",
        readonly=True,
        copy=False,
        help="Days of the whole period; billed days below it mean a prorated line.",
    )
    subscription_usage_charge_ids = fields.One2many(
        "subscription.usage.charge",
        "invoice_line_id",
        string="Rated Usage",
        readonly=True,
    )
    subscription_usage_details = fields.Json(
        string="Usage Computation",
        readonly=True,
        copy=False,
        help="How the usage line was computed, tier by tier.",
    )

    def _reconcile_post_hook(self, data):
        result = super()._reconcile_post_hook(data)
        # Paid invoices stop through _invoice_paid_hook; fully credited ones here.
        reversed_invoices = (
            data["not_paid_invoices"] | data["in_payment_invoices"]
        ).filtered(lambda inv: inv.payment_state == "reversed")
        if reversed_invoices:
            self.env["subscription.dunning"].sudo()._stop_for_invoices(
                reversed_invoices
            )
        return result
