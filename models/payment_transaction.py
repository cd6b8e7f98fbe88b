# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from ..const import RUNNING_STATES


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _post_process(self):
        """Record the result of subscription payment attempts; a method the
        customer pays a subscription invoice with online becomes the
        subscription's method for the next ones."""
        result = super()._post_process()
        events = (
            self.env["subscription.dunning.event"]
            .sudo()
            .search([("transaction_id", "in", self.ids), ("result", "=", "pending")])
        )
        events._record_transaction_result()
        for tx in self.filtered(lambda t: t.state == "done" and t.token_id):
            # Paid by the customer (online) with a saved method: its consent
            # to charge it, which replaces the subscription's method.
            by_customer = tx.operation in (
                "online_redirect",
                "online_direct",
                "online_token",
            )
            subs = tx.invoice_ids.subscription_ids.sudo().filtered(
                lambda s, t=tx, c=by_customer: (
                    (not s.payment_token_id or c)
                    and s.payment_token_id != t.token_id
                    and s.state in RUNNING_STATES
                    and s._payment_token_is_usable(t.token_id)
                )
            )
            subs._set_payment_token(tx.token_id)
        return result
