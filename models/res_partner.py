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
    subscription_dunning_policy_id = fields.Many2one(
        "subscription.dunning.policy",
        string="Dunning Policy",
        help="How this customer's unpaid subscription invoices are followed up, "
        "instead of their plans' policy.",
    )
    subscription_dunning_ids = fields.One2many(
        "subscription.dunning", "partner_id", string="Payment Follow-ups"
    )
    subscription_dunning_count = fields.Integer(
        compute="_compute_subscription_dunning_count"
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

    def _compute_subscription_dunning_count(self):
        counts = dict(
            self.env["subscription.dunning"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.subscription_dunning_count = counts.get(
                partner.commercial_partner_id, 0
            )

    def _commercial_fields(self):
        return super()._commercial_fields() + [
            "subscription_consolidate_invoices",
            "subscription_dunning_policy_id",
        ]

    def action_view_subscription_dunning(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_dunning_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"search_default_group_state": 1}
        return action

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
