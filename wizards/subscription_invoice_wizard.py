# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import UserError


class SubscriptionInvoiceWizard(models.TransientModel):
    _name = "subscription.invoice.wizard"
    _description = "Generate Due Subscription Invoices"

    date = fields.Date(
        string="Invoice Periods Due Until",
        required=True,
        default=fields.Date.context_today,
    )

    def action_generate(self):
        self.ensure_one()
        if self.date > fields.Date.context_today(self):
            raise UserError(
                self.env._(
                    "Periods can only be invoiced up to today (%(today)s), not "
                    "%(date)s: future periods are invoiced when they fall due.",
                    today=fields.Date.context_today(self),
                    date=self.date,
                )
            )
        # The same billing run as the scheduled action and the API (trials,
        # the changes due, the invoices, then closing), up to the date chosen,
        # for the companies the user works in.
        subscriptions = self.env["subscription.subscription"]
        moves = self.env["account.move"].browse(
            subscriptions.action_generate_due_invoices(self.date)
        )
        if not moves:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "info",
                    "title": self.env._("Nothing to invoice"),
                    "message": self.env._(
                        "No subscription has a period due until %(date)s.",
                        date=self.date,
                    ),
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        return subscriptions._action_view_moves(moves)
