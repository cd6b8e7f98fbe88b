# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    subscription_period_ids = fields.One2many(
        "subscription.period", "invoice_id", string="Billed Periods", readonly=True
    )
    subscription_ids = fields.Many2many(
        "subscription.subscription",
        string="Subscriptions",
        compute="_compute_subscription_ids",
        search="_search_subscription_ids",
    )
    subscription_count = fields.Integer(compute="_compute_subscription_ids")

    @api.depends("subscription_period_ids")
    def _compute_subscription_ids(self):
        for move in self:
            move.subscription_ids = move.subscription_period_ids.subscription_id
            move.subscription_count = len(move.subscription_ids)

    def _search_subscription_ids(self, operator, value):
        return [("subscription_period_ids.subscription_id", operator, value)]

    @api.ondelete(at_uninstall=False)
    def _unlink_rewind_subscriptions(self):
        """Deleting a subscription invoice frees its periods for the next run."""
        periods = self.sudo().subscription_period_ids
        if not periods:
            return
        earliest = {}
        for period in periods:
            sub = period.subscription_id
            earliest[sub] = min(
                period.period_start, earliest.get(sub, period.period_start)
            )
        periods.unlink()
        for sub, start in earliest.items():
            sub = sub.with_env(self.env)
            if sub.invoiced_until and sub.invoiced_until >= start:
                sub.invoiced_until = (
                    start - timedelta(days=1) if start > sub._billing_start() else False
                )
            sub._update_next_invoice_date()

    def action_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_subscription_action"
        )
        action["domain"] = [("id", "in", self.subscription_ids.ids)]
        if len(self.subscription_ids) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.subscription_ids.id
        return action
