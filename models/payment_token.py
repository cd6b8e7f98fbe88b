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
