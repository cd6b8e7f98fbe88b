# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prepaid credit wallets of a customer.

The balance is never stored: it is the sum of the wallet's movements
(``subscription.wallet.movement``, the ledger), summed in SQL as exact
``NUMERIC``. Credit comes in granted (:meth:`grant`) or bought
(:meth:`action_buy_credit`: an invoice of the credit product, recorded when
paid); the billing run applies it to the customer's invoices
(:meth:`_apply_to_invoices`); what is left of an expired wallet expires once
(:meth:`_cron_expire`).
"""

import logging
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, formatLang

from ..core import wallets as core_wallets
from ..core.rating.base import to_decimal
from ..tools import MAX_LINE_VALUE, claim_ids, claimed_batches, exact_decimal

_logger = logging.getLogger(__name__)


class SubscriptionWallet(models.Model):
    _name = "subscription.wallet"
    _description = "Prepaid Credit Wallet"
    _inherit = ["mail.thread"]
    _order = "priority, expiry_date, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        tracking=True,
    )
    priority = fields.Integer(
        default=10, help="Wallets with a lower priority are used first."
    )
    expiry_date = fields.Date(
        tracking=True,
        help="Last day the credit can be used; what is left after it expires.",
    )
    application_policy = fields.Selection(
        [("any", "Any line"), ("usage", "Usage lines only")],
        required=True,
        default="any",
        help="Any line: the credit pays the whole invoice. Usage lines only: "
        "it pays the metered usage lines, never the recurring fee.",
    )
    active = fields.Boolean(default=True)
    low_balance_threshold = fields.Monetary(
        help="When an invoice brings the balance under this amount, the customer "
        "is told by email (once, until the balance goes back above it)."
    )
    low_balance_notified = fields.Boolean(readonly=True, copy=False)
    movement_ids = fields.One2many(
        "subscription.wallet.movement", "wallet_id", string="Movements", readonly=True
    )
    balance = fields.Monetary(compute="_compute_balance")

    @api.depends("movement_ids.amount")
    def _compute_balance(self):
        balances = self._balances()
        for wallet in self:
            wallet.balance = float(balances.get(wallet.id, 0))

    def _balances(self):
        """``{wallet id: Decimal balance}``: the exact sum of the movements."""
        ids = [wallet_id for wallet_id in self.ids if wallet_id]
        if not ids:
            return {}
        self.env["subscription.wallet.movement"].flush_model(["wallet_id", "amount"])
        rows = self.env.execute_query(
            SQL(
                "SELECT wallet_id, SUM(amount)::text FROM subscription_wallet_movement "
                "WHERE wallet_id IN %s GROUP BY wallet_id",
                tuple(ids),
            )
        )
        return {wallet_id: Decimal(total) for wallet_id, total in rows}

    def _lock(self):
        """Lock these wallets' rows until the end of the transaction (two
        workers applying the same wallet wait for each other)."""
        if self.ids:
            self.env.execute_query(
                SQL(
                    "SELECT id FROM subscription_wallet WHERE id IN %s ORDER BY id "
                    "FOR NO KEY UPDATE",
                    tuple(self.ids),
                )
            )

    # ------------------------------------------------------------------
    # Credit in
    # ------------------------------------------------------------------

    def _clean_amount(self, amount):
        """``amount`` as an exact Decimal of this wallet's currency, or a
        UserError naming the wallet."""
        self.ensure_one()
        number = None
        if not isinstance(amount, bool):
            try:
                number = to_decimal(amount)
            except (TypeError, ValueError, ArithmeticError):
                number = None
        decimals = self.currency_id.decimal_places
        if (
            number is None
            or not number.is_finite()
            or number <= 0
            or number > MAX_LINE_VALUE
            or number != round(number, decimals)
        ):
            raise UserError(
                self.env._(
                    "Wallet %(wallet)s: %(amount)s is not a valid amount of credit. "
                    "Enter a positive amount in %(currency)s, at most %(max)s, "
                    "with at most %(decimals)s decimals.",
                    wallet=self.display_name,
                    amount=repr(amount)[:40],
                    currency=self.currency_id.name,
                    max=f"{MAX_LINE_VALUE:,}",
                    decimals=decimals,
                )
            )
        return exact_decimal(number)

    def grant(self, amount, note=None):
        """Give ``amount`` of credit for free (API); returns the movement."""
        self.ensure_one()
        self.check_access("write")
        if not self.env.su and not self.env.user.has_group(
            "subscription_billing.group_subscription_manager"
        ):
            raise AccessError(
                self.env._(
                    "Wallet %(wallet)s: only subscription managers grant credit "
                    "for free.",
                    wallet=self.display_name,
                )
            )
        value = self._clean_amount(amount)
        movement = self._add_movement("grant", value, note=note)
        self._reset_low_balance()
        return movement

    def action_buy_credit(self, amount):
        """A posted invoice of ``amount`` of the credit product; the credit is
        recorded when it is paid (``account.move._invoice_paid_hook``)."""
        self.ensure_one()
        self.check_access("write")
        value = self._clean_amount(amount)
        product = self.env.ref("subscription_billing.product_prepaid_credit")
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "currency_id": self.currency_id.id,
                "subscription_wallet_purchase_id": self.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": self.env._(
                                "Prepaid credit (wallet %(wallet)s)",
                                wallet=self.name,
                            ),
                            "quantity": 1,
                            "price_unit": float(value),
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        self.message_post(
            body=self.env._(
                "Credit bought: invoice %(invoice)s, credited when paid.",
                invoice=invoice._get_html_link(),
            )
        )
        return invoice

    def _record_purchase(self, invoice):
        """The credit of a paid purchase ``invoice``, once."""
        self.ensure_one()
        Movement = self.env["subscription.wallet.movement"].sudo()
        if Movement.search_count(
            [
                ("wallet_id", "=", self.id),
                ("invoice_id", "=", invoice.id),
                ("kind", "=", "purchase"),
            ],
            limit=1,
        ):
            return Movement
        movement = self._add_movement(
            "purchase", exact_decimal(invoice.amount_total), invoice=invoice
        )
        self._reset_low_balance()
        return movement

    def _add_movement(self, kind, amount, invoice=None, note=None):
        """A row of the ledger. The wallet's row is touched too: a worker
        that read the balance from an older snapshot then fails to lock the
        wallet (serialization failure, retried) instead of moving credit
        that is no longer there."""
        self.ensure_one()
        movement = (
            self.env["subscription.wallet.movement"]
            .sudo()
            .create(
                {
                    "wallet_id": self.id,
                    "kind": kind,
                    "amount": float(amount),
                    "invoice_id": invoice.id if invoice else False,
                    "note": note or False,
                }
            )
        )
        self.env.execute_query(
            SQL(
                "UPDATE subscription_wallet SET write_date = now() AT TIME ZONE "
                "'UTC' WHERE id = %s",
                self.id,
            )
        )
        return movement

    def _reset_low_balance(self):
        """A balance back above its threshold may alert again."""
        balances = self._balances()
        for wallet in self.filtered("low_balance_notified"):
            threshold = exact_decimal(wallet.low_balance_threshold)
            if balances.get(wallet.id, 0) >= threshold:
                wallet.sudo().low_balance_notified = False

    # ------------------------------------------------------------------
    # Credit applied to invoices
    # ------------------------------------------------------------------

    @api.model
    def _apply_to_invoices(self, moves):
        """Before posting: a negative line per wallet paying each of ``moves``
        (draft customer invoices), and its movement."""
        moves = moves.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "draft"
        )
        if not moves:
            return
        Wallet = self.sudo()
        partners = moves.commercial_partner_id
        wallets = Wallet.search(
            [("commercial_partner_id", "in", partners.ids), ("active", "=", True)]
        )
        if not wallets:
            return
        wallets._lock()
        applied = (
            self.env["subscription.wallet.movement"]
            .sudo()
            .search([("invoice_id", "in", moves.ids), ("kind", "=", "applied")])
        )
        alerted = Wallet.browse()
        for move in moves:
            candidates = (
                wallets.filtered(
                    lambda w, m=move: (
                        w.commercial_partner_id == m.commercial_partner_id
                        and w.company_id == m.company_id
                        and w.currency_id == m.currency_id
                    )
                )
                - applied.filtered(lambda a, m=move: a.invoice_id == m).wallet_id
            )
            if candidates:
                alerted |= candidates._apply_to_invoice(move)
        alerted._send_low_balance_alert()

    def _apply_to_invoice(self, move):
        """Apply these wallets (candidates of ``move``); return the wallets
        that fell under their threshold."""
        balances = self._balances()
        currency = move.currency_id
        due = exact_decimal(currency.round(move.amount_total))
        usage_due = exact_decimal(
            currency.round(
                sum(
                    move.invoice_line_ids.filtered(
                        lambda line: line.subscription_line_id.line_type == "usage"
                    ).mapped("price_total")
                )
            )
        )
        if due <= 0:
            return self.browse()
        wallet_of = {wallet.id: wallet for wallet in self}
        shares = core_wallets.allocate(
            due,
            [
                core_wallets.Wallet(
                    wallet.id,
                    max(balances.get(wallet.id, Decimal(0)), Decimal(0)),
                    wallet.priority,
                    wallet.expiry_date or None,
                    wallet.application_policy,
                )
                for wallet in self
            ],
            usage_due=min(max(usage_due, Decimal(0)), due),
            on=move.invoice_date or fields.Date.context_today(self),
        )
        if not shares:
            return self.browse()
        product = self.env.ref("subscription_billing.product_prepaid_credit")
        lines = []
        fallen = self.browse()
        for wallet_id, amount in shares:
            wallet = wallet_of[wallet_id]
            before = balances.get(wallet_id, Decimal(0))
            left = before - amount
            lines.append(
                Command.create(
                    {
                        "product_id": product.id,
                        "name": self.env._(
                            "Prepaid credit applied (wallet %(wallet)s), balance "
                            "left: %(balance)s",
                            wallet=wallet.name,
                            balance=formatLang(
                                self.env, float(left), currency_obj=currency
                            ),
                        ),
                        "quantity": 1,
                        "price_unit": -float(amount),
                        "tax_ids": [Command.clear()],
                        "subscription_wallet_id": wallet.id,
                        "sequence": 10000,
                    }
                )
            )
            wallet._add_movement("applied", -amount, invoice=move)
            threshold = exact_decimal(wallet.low_balance_threshold)
            if threshold > 0 and left < threshold and not wallet.low_balance_notified:
                fallen |= wallet
        move.write({"invoice_line_ids": lines})
        return fallen

    def _send_low_balance_alert(self):
        """Tell each customer once that a wallet's balance fell under its
        threshold."""
        if not self:
            return
        template = self.env.ref(
            "subscription_billing.mail_template_wallet_low_balance",
            raise_if_not_found=False,
        )
        self.sudo().low_balance_notified = True
        if not template:
            return
        for wallet in self:
            template.sudo().send_mail(wallet.id)

    def _reverse_invoice(self, moves):
        """Give back the credit applied to ``moves`` (cancelled or deleted),
        once per wallet and invoice."""
        Movement = self.env["subscription.wallet.movement"].sudo()
        applied = Movement.search(
            [("invoice_id", "in", moves.ids), ("kind", "=", "applied")]
        )
        reversed_ = Movement.search(
            [("invoice_id", "in", moves.ids), ("kind", "=", "reversal")]
        )
        done = {(m.wallet_id.id, m.invoice_id.id) for m in reversed_}
        for movement in applied:
            if (movement.wallet_id.id, movement.invoice_id.id) in done:
                continue
            movement.wallet_id._add_movement(
                "reversal",
                -exact_decimal(movement.amount),
                invoice=movement.invoice_id,
            )
        applied.wallet_id._reset_low_balance()

    # ------------------------------------------------------------------
    # Expiry
    # ------------------------------------------------------------------

    @api.model
    def _cron_expire(self, batch_size=200):
        self._expire_due(fields.Date.context_today(self), batch_size, commit=True)

    @api.model
    def _expire_due(self, today, batch_size=200, commit=False):
        """One expiry movement for what is left of each wallet expired
        before ``today``, in claimed batches."""
        select = SQL(
            "SELECT w.id FROM subscription_wallet w WHERE w.expiry_date < %s "
            "AND NOT EXISTS (SELECT 1 FROM subscription_wallet_movement m "
            "WHERE m.wallet_id = w.id AND m.kind = 'expiry') ORDER BY w.id",
            today,
        )
        done = self.browse()

        def claim(retry):
            return self.sudo().browse(
                claim_ids(self.env, select, limit=batch_size, commit=retry)
            )

        for batch in claimed_batches(self.env, claim, commit=commit):
            balances = batch._balances()
            for wallet in batch:
                left = balances.get(wallet.id, Decimal(0))
                wallet._add_movement(
                    "expiry",
                    -left,
                    note=self.env._("Expired on %(date)s.", date=wallet.expiry_date),
                )
            done |= batch
        return done

    def write(self, vals):
        if "currency_id" in vals or "company_id" in vals:
            for wallet in self:
                if wallet.movement_ids and (
                    vals.get("currency_id", wallet.currency_id.id)
                    != wallet.currency_id.id
                    or vals.get("company_id", wallet.company_id.id)
                    != wallet.company_id.id
                ):
                    raise UserError(
                        self.env._(
                            "Wallet %(wallet)s has movements: its currency and "
                            "company cannot change. Create another wallet.",
                            wallet=wallet.display_name,
                        )
                    )
        return super().write(vals)
