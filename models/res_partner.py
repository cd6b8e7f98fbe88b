# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    subscription_consolidate_invoices = fields.Boolean(
        string="One Invoice for All Subscriptions",
        help="Subscriptions of this customer due on the same date are billed "
        "on one consolidated invoice.",
    )
    subscription_ids = fields.One2many(
        "subscription.subscription", "partner_id", string="Subscriptions"
    )
    subscription_count = fields.Integer(compute="_compute_subscription_count")

    def _compute_subscription_count(self):
        counts = dict(
            self.env["subscription.subscription"]._read_group(
                [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.subscription_count = counts.get(partner.commercial_partner_id, 0)

    def _commercial_fields(self):
        return super()._commercial_fields() + ["subscription_consolidate_invoices"]

    def action_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_subscription_action"
        )
        action["domain"] = [
            ("commercial_partner_id", "=", self.commercial_partner_id.id)
        ]
        action["context"] = {"default_partner_id": self.id}
        return action
