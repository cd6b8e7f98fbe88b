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
    subscription_usage_charge_ids = fields.Many2many(
        "subscription.usage.charge",
        compute="_compute_subscription_usage_charge_ids",
        string="Rated Usage",
    )

    @api.depends("subscription_period_ids")
    def _compute_subscription_ids(self):
        for move in self:
            move.subscription_ids = move.subscription_period_ids.subscription_id
            move.subscription_count = len(move.subscription_ids)

    @api.depends("subscription_period_ids.usage_charge_ids")
    def _compute_subscription_usage_charge_ids(self):
        for move in self:
            move.subscription_usage_charge_ids = (
                move.subscription_period_ids.usage_charge_ids
            )

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
            key = (period.subscription_id, period.kind)
            earliest[key] = min(
                period.period_start, earliest.get(key, period.period_start)
            )
        # Their usage events become unbilled again (charge_id is set null).
        periods.unlink()
        for (sub, kind), start in earliest.items():
            sub = sub.with_env(self.env)
            field = "invoiced_until" if kind == "service" else "usage_invoiced_until"
            if sub[field] and sub[field] >= start:
                sub[field] = (
                    start - timedelta(days=1) if start > sub._billing_start() else False
                )
        for sub in {sub for sub, __ in earliest}:
            sub.with_env(self.env)._update_next_invoice_date()

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
