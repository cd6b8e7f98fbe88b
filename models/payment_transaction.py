# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class PaymentToken(models.Model):
    _inherit = "payment.token"

    def _subscription_retire(self, reason):
        """Declined for good (lost or stolen card, closed account): removed
        from every subscription using it, and archived, so that it is never
        charged again."""
        tokens = self.sudo()
        subs = (
            self.env["subscription.subscription"]
            .sudo()
            .search([("payment_token_id", "in", tokens.ids)])
        )
        subs._drop_payment_token(reason)
        tokens.filtered("active").action_archive()


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
                    and s.state not in ("draft", "closed")
                    and s._payment_token_is_usable(t.token_id)
                )
            )
            subs._set_payment_token(tx.token_id)
        return result
