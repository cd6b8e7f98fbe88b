# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _post_process(self):
        """Record the result of subscription payment attempts, and keep a
        method saved while paying a subscription invoice for the next ones."""
        result = super()._post_process()
        events = (
            self.env["subscription.dunning.event"]
            .sudo()
            .search([("transaction_id", "in", self.ids), ("result", "=", "pending")])
        )
        events._record_transaction_result()
        for tx in self.filtered(lambda t: t.state == "done" and t.token_id):
            subs = tx.invoice_ids.subscription_ids.sudo().filtered(
                lambda s, t=tx: (
                    not s.payment_token_id
                    and s.state not in ("draft", "closed")
                    and s._payment_token_is_usable(t.token_id)
                )
            )
            subs._set_payment_token(tx.token_id)
        return result
