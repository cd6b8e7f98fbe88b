# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prepaid credit paying subscription invoices, like a payment, after tax.

When a subscription invoice is posted (``account.move._post``), the
customer's usable wallets pay it by priority (``core/wallet.allocate``): one
entry per wallet, Dr prepaid credit liability / Cr receivable, reconciled
with the invoice, so that its amount due falls (0.00 when covered) and the
automatic payment only charges the rest. The invoice keeps its lines and
taxes. A cancelled invoice gets its credit back (the entry reversed, a
refund row). A consumption that takes a balance under its threshold tells
the customer, and buys the automatic top-up.
"""

import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..core import wallet as core_wallet
from ..tools import exact_decimal

_logger = logging.getLogger(__name__)


class SubscriptionWallet(models.Model):
    _inherit = "subscription.wallet"

    @api.model
    def _usable_for(self, invoice):
        """The wallets that may pay ``invoice`` (as superuser), in the order
        they pay."""
        day = invoice.invoice_date or fields.Date.context_today(self)
        return self.sudo().search(
            [
                ("partner_id", "=", invoice.commercial_partner_id.id),
                ("company_id", "=", invoice.company_id.id),
                ("currency_id", "=", invoice.currency_id.id),
                "|",
                ("expiry_date", "=", False),
                ("expiry_date", ">=", day),
            ],
            order="priority, expiry_date, id",
        )

    @api.model
    def _apply_to_invoices(self, invoices):
        """Pay the posted subscription ``invoices`` with their customers'
        credit; return the consumption rows."""
        rows = self.env["subscription.wallet.transaction"].sudo()
        fallen = self.sudo().browse()
        if not invoices:
            return rows
        # One query for the whole batch: most customers hold no wallet.
        holders = set(
            self.sudo()
            .search([("partner_id", "in", invoices.commercial_partner_id.ids)])
            .partner_id.ids
        )
        for invoice in invoices:
            if invoice.commercial_partner_id.id not in holders:
                continue
            wallets = self._usable_for(invoice)
            if not wallets:
                continue
            wallets._lock()
            wallets.invalidate_recordset(["transaction_ids", "balance"])
            # Reposted after a reset to draft: never paid twice by one wallet.
            wallets -= rows.search(
                [("invoice_id", "=", invoice.id), ("kind", "=", "consumption")]
            ).wallet_id
            new_rows, low = wallets._pay_invoice(invoice)
            rows |= new_rows
            fallen |= low
        fallen._low_balance_reached()
        return rows

    def _pay_invoice(self, invoice):
        """These (locked) wallets pay what they can of ``invoice``; return the
        rows and the wallets that fell under their threshold."""
        rows = self.env["subscription.wallet.transaction"].sudo()
        fallen = self.browse()
        currency = invoice.currency_id
        due = exact_decimal(currency.round(invoice.amount_residual))
        if due <= 0:
            return rows, fallen
        usage_lines = invoice.invoice_line_ids.filtered(
            lambda line: line.subscription_line_id.line_type == "usage"
        )
        usage_due = sum(
            (exact_decimal(line.price_total) for line in usage_lines), Decimal(0)
        ).quantize(Decimal(1).scaleb(-currency.decimal_places))
        usage_due = min(max(usage_due, Decimal(0)), due)
        balances = self._balances()
        day = invoice.invoice_date or fields.Date.context_today(self)
        shares = core_wallet.allocate(
            due,
            [
                core_wallet.Wallet(
                    wallet.id,
                    max(balances.get(wallet.id, Decimal(0)), Decimal(0)),
                    wallet.priority,
                    wallet.expiry_date or None,
                    wallet.policy,
                )
                for wallet in self
            ],
            usage_due=usage_due,
            on=day,
        )
        wallet_of = {wallet.id: wallet for wallet in self}
        company = invoice.company_id._subscription_wallet_accounting()
        for wallet_id, amount in shares:
            wallet = wallet_of[wallet_id]
            receivable = invoice.line_ids.filtered(
                lambda line: (
                    line.account_type == "asset_receivable" and not line.reconciled
                )
            )
            if not receivable:
                break
            label = self.env._(
                "Prepaid credit applied to %(invoice)s (wallet %(wallet)s)",
                invoice=invoice.name,
                wallet=wallet.name,
            )
            entry = wallet._post_entry(
                day,
                label,
                debit=(company.subscription_wallet_account_id, wallet.partner_id),
                credit=(receivable[0].account_id, invoice.commercial_partner_id),
                amount=amount,
            )
            (
                entry.line_ids.filtered(
                    lambda line, acc=receivable[0].account_id: line.account_id == acc
                )
                | receivable
            ).reconcile()
            rows |= wallet._add_transaction(
                "consumption", -amount, invoice=invoice, move=entry, date=day
            )
            before = balances.get(wallet.id, Decimal(0))
            threshold = exact_decimal(wallet.low_balance_threshold)
            if threshold > 0 and before >= threshold > before - amount:
                fallen |= wallet
        return rows, fallen

    @api.model
    def _refund_invoices(self, invoices):
        """Give back the credit that paid ``invoices`` (cancelled): each
        consumption entry reversed, a refund row, once per wallet and invoice."""
        Transaction = self.env["subscription.wallet.transaction"].sudo()
        consumed = Transaction.search(
            [("invoice_id", "in", invoices.ids), ("kind", "=", "consumption")]
        )
        if not consumed:
            return Transaction
        refunded = Transaction.search(
            [("invoice_id", "in", invoices.ids), ("kind", "=", "refund")]
        )
        done = {(row.wallet_id.id, row.invoice_id.id) for row in refunded}
        rows = Transaction
        consumed.wallet_id._lock()
        for row in consumed:
            if (row.wallet_id.id, row.invoice_id.id) in done:
                continue
            reversal = row.move_id._reverse_moves(
                [
                    {
                        "ref": self.env._(
                            "Prepaid credit given back: %(invoice)s cancelled",
                            invoice=row.invoice_id.name,
                        ),
                        "date": fields.Date.context_today(self),
                    }
                ],
                cancel=True,
            )
            rows |= row.wallet_id._add_transaction(
                "refund",
                -exact_decimal(row.amount),
                invoice=row.invoice_id,
                move=reversal,
            )
        return rows

    # === LOW BALANCE === #

    def _low_balance_reached(self):
        """These wallets just fell under their threshold: tell the customer,
        buy the automatic top-up."""
        template = self.env.ref(
            "subscription_billing.mail_template_wallet_low_balance",
            raise_if_not_found=False,
        )
        for wallet in self.sudo():
            if template:
                template.send_mail(wallet.id)
            if wallet.auto_topup:
                wallet._auto_topup()

    def _auto_topup(self):
        """Buy the top-up amount and charge it to the saved payment method
        (queued, sent by the payment scheduled action)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                if not self._topup_token_usable():
                    raise UserError(
                        self.env._(
                            "the saved payment method cannot be charged any more."
                        )
                    )
                invoice = self._create_topup_invoice(self.topup_amount)
                self.env["subscription.dunning.event"].sudo()._create_charge(
                    invoice, self.payment_token_id
                )
        except UserError as error:
            self.message_post(
                body=self.env._("Automatic top-up not done: %(error)s", error=error)
            )
            return
        cron = self.env.ref("subscription_billing.ir_cron_dunning", False)
        if cron:
            cron.sudo()._trigger()
