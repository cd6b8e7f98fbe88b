# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prepaid credit of a customer, in money: a wallet.

The balance is never stored: it is the sum of the wallet's ledger rows
(``subscription.wallet.transaction``), summed by the database. Credit comes
in bought (:meth:`action_top_up`: an invoice of the prepaid credit product,
counted when paid) or granted (:meth:`grant_credit`: an entry Dr free credit
expense / Cr prepaid credit liability). It pays subscription invoices like a
payment, after tax (``subscription_wallet_consumption.py``), and what is left
past the expiry date goes to income (``subscription_wallet_expiry.py``).
"""

from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..core.rating.base import to_decimal
from ..tools import MAX_LINE_VALUE, check_number_values, exact_decimal

POLICIES = [("any", "Any line"), ("usage", "Usage lines only")]


class SubscriptionWallet(models.Model):
    _name = "subscription.wallet"
    _description = "Prepaid Credit Wallet"
    _inherit = ["mail.thread"]
    _order = "priority, expiry_date, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        domain="[('is_company', '=', True)]",
        help="The customer's commercial entity: its contacts' invoices use it.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        tracking=True,
        help="The credit pays the invoices of this currency only.",
    )
    priority = fields.Integer(
        default=10,
        tracking=True,
        help="Several wallets pay an invoice by priority (lower first), then "
        "the soonest expiry.",
    )
    expiry_date = fields.Date(
        tracking=True,
        help="Last day the credit pays invoices; what is left after it goes to "
        "the expired credit income.",
    )
    policy = fields.Selection(
        POLICIES,
        string="Pays",
        required=True,
        default="any",
        help="Any line: the credit pays the whole invoice. Usage lines only: it "
        "pays the usage lines and their taxes, never the recurring fee.",
    )
    low_balance_threshold = fields.Monetary(
        help="When an invoice brings the balance under this amount, the customer "
        "is told by email (once per crossing). 0: no alert."
    )
    auto_topup = fields.Boolean(
        string="Automatic Top-up",
        help="When the balance falls under the threshold, buy the top-up amount "
        "and charge it to the saved payment method.",
    )
    topup_amount = fields.Monetary(string="Top-up Amount")
    payment_token_id = fields.Many2one(
        "payment.token",
        string="Payment Method",
        check_company=True,
        domain="[('partner_id', 'child_of', partner_id)]",
        help="The saved payment method charged by the automatic top-up.",
    )
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("active", "Active"), ("empty", "Empty"), ("expired", "Expired")],
        compute="_compute_state",
    )
    balance = fields.Monetary(compute="_compute_balance")
    transaction_ids = fields.One2many(
        "subscription.wallet.transaction",
        "wallet_id",
        string="Movements",
        readonly=True,
    )
    transaction_count = fields.Integer(compute="_compute_transaction_count")
    topup_invoice_ids = fields.One2many(
        "account.move",
        "subscription_wallet_purchase_id",
        string="Top-up Invoices",
        readonly=True,
    )
    topup_invoice_count = fields.Integer(compute="_compute_topup_invoice_count")

    # === COMPUTE METHODS === #

    @api.depends("transaction_ids.amount")
    def _compute_balance(self):
        balances = self._balances()
        for wallet in self:
            wallet.balance = float(balances.get(wallet.id, Decimal(0)))

    @api.depends("balance", "expiry_date", "transaction_ids.kind")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for wallet in self:
            if (wallet.expiry_date and wallet.expiry_date < today) or (
                "expiry" in wallet.transaction_ids.mapped("kind")
            ):
                wallet.state = "expired"
            elif wallet.currency_id.compare_amounts(wallet.balance, 0) <= 0:
                wallet.state = "empty"
            else:
                wallet.state = "active"

    @api.depends("transaction_ids")
    def _compute_transaction_count(self):
        for wallet in self:
            wallet.transaction_count = len(wallet.transaction_ids)

    @api.depends("topup_invoice_ids")
    def _compute_topup_invoice_count(self):
        for wallet in self:
            wallet.topup_invoice_count = len(wallet.topup_invoice_ids)

    def _balances(self):
        """``{wallet id: Decimal balance}``: the sum of the ledger rows
        (``_read_group``), rounded with the wallet's currency."""
        ids = [wallet_id for wallet_id in self.ids if wallet_id]
        if not ids:
            return {}
        groups = (
            self.env["subscription.wallet.transaction"]
            .sudo()
            ._read_group([("wallet_id", "in", ids)], ["wallet_id"], ["amount:sum"])
        )
        result = {}
        for wallet, total in groups:
            places = Decimal(1).scaleb(-wallet.currency_id.decimal_places)
            result[wallet.id] = exact_decimal(total).quantize(places)
        return result

    # === CONSTRAINT METHODS === #

    @api.constrains("auto_topup", "topup_amount", "payment_token_id", "partner_id")
    def _check_auto_topup(self):
        for wallet in self.filtered("auto_topup"):
            if not wallet._topup_token_usable():
                raise ValidationError(
                    self.env._(
                        "Wallet %(wallet)s: the automatic top-up needs a saved "
                        "payment method of %(customer)s whose provider is enabled.",
                        wallet=wallet.display_name,
                        customer=wallet.partner_id.display_name,
                    )
                )
            if wallet.currency_id.compare_amounts(wallet.topup_amount, 0) <= 0:
                raise ValidationError(
                    self.env._(
                        "Wallet %(wallet)s: the automatic top-up needs a top-up "
                        "amount above zero.",
                        wallet=wallet.display_name,
                    )
                )

    def _topup_token_usable(self):
        self.ensure_one()
        token = self.payment_token_id.sudo()
        return bool(
            token
            and token.active
            and token.partner_id.commercial_partner_id == self.partner_id
            and token.company_id in (self.company_id, self.env["res.company"])
            and token.provider_id.state in ("enabled", "test")
        )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        Partner = self.env["res.partner"]
        for vals in vals_list:
            check_number_values(self, vals)
            if vals.get("partner_id"):
                vals["partner_id"] = Partner.browse(
                    vals["partner_id"]
                ).commercial_partner_id.id
        return super().create(vals_list)

    def write(self, vals):
        check_number_values(self, vals)
        if vals.get("partner_id"):
            vals["partner_id"] = (
                self.env["res.partner"]
                .browse(vals["partner_id"])
                .commercial_partner_id.id
            )
        for key in ("currency_id", "company_id", "partner_id"):
            if key not in vals:
                continue
            moved = self.filtered(
                lambda w, key=key: w.transaction_ids and w[key].id != vals[key]
            )
            if moved:
                raise UserError(
                    self.env._(
                        "Wallet %(wallet)s has movements: its customer, currency "
                        "and company cannot change. Create another wallet.",
                        wallet=moved[0].display_name,
                    )
                )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_movements(self):
        if self.transaction_ids:
            raise UserError(
                self.env._(
                    "A wallet with movements cannot be deleted: archive it instead."
                )
            )

    # === ACTION METHODS === #

    def _wizard_action(self, mode):
        self.ensure_one()
        if mode == "grant":
            name = self.env._("Grant Credit")
        else:
            name = self.env._("Top Up")
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "subscription.wallet.credit.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_wallet_id": self.id, "default_mode": mode},
        }

    def action_open_top_up(self):
        return self._wizard_action("top_up")

    def action_open_grant(self):
        return self._wizard_action("grant")

    def action_view_transactions(self):
        self.ensure_one()
        name = self.env._("Movements")
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "subscription.wallet.transaction",
            "view_mode": "list",
            "domain": [("wallet_id", "=", self.id)],
        }

    def action_view_topup_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("subscription_wallet_purchase_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # === BUSINESS METHODS (API) === #

    def action_top_up(self, amount):
        """Buy ``amount`` of credit: a posted invoice of the prepaid credit
        product (no tax), counted in the wallet once paid. Returns the invoice."""
        self.ensure_one()
        self.check_access("write")
        return self._create_topup_invoice(amount).with_env(self.env)

    def grant_credit(self, amount, note=None):
        """Give ``amount`` of credit for free (managers): an entry Dr free
        credit expense / Cr prepaid credit liability, and its ledger row,
        which is returned."""
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
        wallet = self.sudo()
        company = wallet.company_id._subscription_wallet_accounting()
        today = fields.Date.context_today(self)
        label = self.env._(
            "Prepaid credit granted (wallet %(wallet)s)", wallet=self.name
        )
        entry = wallet._post_entry(
            today,
            label,
            debit=(company.subscription_wallet_grant_account_id, False),
            credit=(company.subscription_wallet_account_id, wallet.partner_id),
            amount=value,
        )
        return wallet._add_transaction(
            "grant", value, move=entry, note=note or False
        ).with_env(self.env)

    # === BUSINESS METHODS (internal) === #

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
                    max=format(MAX_LINE_VALUE, ","),
                    decimals=decimals,
                )
            )
        return exact_decimal(number)

    def _create_topup_invoice(self, amount, partner=None):
        """A posted invoice of ``amount`` of the prepaid credit product (as
        superuser: the caller checked the rights or the ownership)."""
        self.ensure_one()
        value = self._clean_amount(amount)
        wallet = self.sudo()
        company = wallet.company_id._subscription_wallet_accounting()
        invoice = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": (partner or wallet.partner_id).id,
                    "company_id": company.id,
                    "currency_id": wallet.currency_id.id,
                    "subscription_wallet_purchase_id": wallet.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": company.subscription_wallet_product_id.id,
                                "name": self.env._(
                                    "Prepaid credit (wallet %(wallet)s)",
                                    wallet=wallet.name,
                                ),
                                "quantity": 1,
                                "price_unit": float(value),
                                "account_id": company.subscription_wallet_account_id.id,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        wallet.message_post(
            body=self.env._(
                "Top-up invoice %(invoice)s: the credit counts once it is paid.",
                invoice=invoice._get_html_link(),
            )
        )
        return invoice

    def _record_purchase(self, invoice):
        """The credit of a paid top-up ``invoice``, once (the unique key)."""
        self.ensure_one()
        Transaction = self.env["subscription.wallet.transaction"].sudo()
        done = Transaction.search_count(
            [
                ("wallet_id", "=", self.id),
                ("invoice_id", "=", invoice.id),
                ("kind", "=", "purchase"),
            ],
            limit=1,
        )
        if done:
            return Transaction
        self._lock()
        return self._add_transaction(
            "purchase",
            exact_decimal(invoice.amount_total),
            invoice=invoice,
            move=invoice,
        )

    def _lock(self):
        """Lock these wallets' rows until the end of the transaction: two
        workers moving the same wallet's credit wait for each other."""
        if self.ids:
            self.env.flush_all()
            self.env.execute_query(
                SQL(
                    "SELECT id FROM subscription_wallet WHERE id IN %s ORDER BY id "
                    "FOR NO KEY UPDATE",
                    tuple(self.ids),
                )
            )

    def _add_transaction(
        self, kind, amount, invoice=None, move=None, note=None, date=None
    ):
        """A ledger row. The wallet's row is written too: a worker that read
        the balance in an older snapshot then fails to lock the wallet
        (serialization failure) instead of moving credit already spent."""
        self.ensure_one()
        row = (
            self.env["subscription.wallet.transaction"]
            .sudo()
            .create(
                {
                    "wallet_id": self.id,
                    "kind": kind,
                    "amount": float(amount),
                    "invoice_id": invoice.id if invoice else False,
                    "move_id": move.id if move else False,
                    "note": note or False,
                    "date": date or fields.Date.context_today(self),
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
        self.invalidate_recordset(["balance", "transaction_ids"])
        return row

    def _post_entry(self, date, label, debit, credit, amount):
        """A posted entry of the prepaid credit journal: ``amount`` (in the
        wallet's currency) debited on ``debit`` and credited on ``credit``,
        each an ``(account, partner)``. Returns the entry."""
        self.ensure_one()
        company = self.company_id
        currency = self.currency_id
        value = float(amount)
        balance = (
            value
            if currency == company.currency_id
            else currency._convert(value, company.currency_id, company, date)
        )

        def line(account_partner, sign):
            account, partner = account_partner
            return Command.create(
                {
                    "name": label,
                    "account_id": account.id,
                    "partner_id": partner.id if partner else self.partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": sign * value,
                    "balance": sign * balance,
                }
            )

        entry = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": company.subscription_wallet_journal_id.id,
                    "company_id": company.id,
                    "date": date,
                    "ref": label,
                    "partner_id": self.partner_id.id,
                    "line_ids": [line(debit, 1), line(credit, -1)],
                }
            )
        )
        entry.action_post()
        return entry
