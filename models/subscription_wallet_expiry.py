# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Expiry of prepaid credit: the daily scheduled action moves what is left of
each wallet past its expiry date to the expired credit income (breakage):
an entry Dr prepaid credit liability / Cr expired credit income, and one
ledger row of kind expiry (unique per wallet). Wallets are claimed in
batches (``FOR NO KEY UPDATE SKIP LOCKED``): several workers share the run."""

from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import claim_ids, claimed_batches


class SubscriptionWallet(models.Model):
    _inherit = "subscription.wallet"

    @api.model
    def _cron_expire(self, batch_size=200):
        self._expire_due(fields.Date.context_today(self), batch_size, commit=True)

    @api.model
    def _expire_due(self, today, batch_size=200, commit=False):
        """Expire every wallet whose expiry date is before ``today``; return
        the wallets expired."""
        self.env["subscription.wallet.transaction"].flush_model()
        select = SQL(
            "SELECT w.id FROM subscription_wallet w WHERE w.expiry_date < %s "
            "AND NOT EXISTS (SELECT 1 FROM subscription_wallet_transaction t "
            "WHERE t.wallet_id = w.id AND t.kind = 'expiry') ORDER BY w.id",
            today,
        )
        done = self.browse()
        if commit:
            self.env["ir.cron"]._commit_progress(0)

        def claim(retry):
            return self.sudo().browse(
                claim_ids(self.env, select, limit=batch_size, of="w", commit=retry)
            )

        for batch in claimed_batches(self.env, claim, commit=commit):
            batch._expire(today)
            done |= batch
        return done

    def _expire(self, today):
        """One expiry row per wallet (claimed): the balance left, to income."""
        balances = self._balances()
        for wallet in self:
            left = balances.get(wallet.id, Decimal(0))
            entry = False
            if left > 0:
                company = wallet.company_id._subscription_wallet_accounting()
                entry = wallet._post_entry(
                    wallet.expiry_date,
                    self.env._(
                        "Prepaid credit expired (wallet %(wallet)s)", wallet=wallet.name
                    ),
                    debit=(company.subscription_wallet_account_id, wallet.partner_id),
                    credit=(company.subscription_wallet_expiry_account_id, False),
                    amount=left,
                )
            wallet._add_transaction(
                "expiry",
                -left,
                move=entry or None,
                note=self.env._("Expired on %(date)s.", date=wallet.expiry_date),
            )
