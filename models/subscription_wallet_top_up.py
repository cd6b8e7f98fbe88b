# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Automatic top-up of a wallet with a saved payment method.

When an invoice brings a wallet's balance under its low-balance threshold,
a wallet with an *Automatic Top-up* buys that amount: an invoice of the
credit product on the subscription billed, posted, so that the automatic
payment (``account.move._post``: ``subscription_to_charge``) charges the
subscription's saved payment method; once paid, the credit is recorded
(``_record_purchase``). A failed payment follows the subscription's
payment follow-up, as any subscription invoice.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import check_number_values


class SubscriptionWallet(models.Model):
    _inherit = "subscription.wallet"

    auto_top_up_amount = fields.Monetary(
        string="Automatic Top-up",
        help="Bought and charged to the saved payment method of the customer's "
        "subscription when an invoice brings the balance under the low-balance "
        "threshold. Needs a threshold and a subscription with a saved payment "
        "method.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_number_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_number_values(self, vals)
        return super().write(vals)

    def _top_up_subscription(self):
        """A subscription of this wallet's customer, company and currency
        whose saved payment method can be charged (empty when none)."""
        self.ensure_one()
        subs = (
            self.env["subscription.subscription"]
            .sudo()
            .search(
                [
                    (
                        "partner_invoice_id.commercial_partner_id",
                        "=",
                        self.commercial_partner_id.id,
                    ),
                    ("company_id", "=", self.company_id.id),
                    ("currency_id", "=", self.currency_id.id),
                    ("payment_token_id", "!=", False),
                ],
                order="id",
            )
        )
        return subs.filtered(lambda s: s._payment_token_is_usable(s.payment_token_id))[
            :1
        ]

    @api.constrains("auto_top_up_amount", "low_balance_threshold", "partner_id")
    def _check_auto_top_up(self):
        for wallet in self.filtered("auto_top_up_amount"):
            if wallet.auto_top_up_amount < 0 or wallet.low_balance_threshold <= 0:
                raise ValidationError(
                    self.env._(
                        "Wallet %(wallet)s: an automatic top-up is a positive "
                        "amount, bought when the balance falls under the "
                        "low-balance threshold: set a threshold above zero.",
                        wallet=wallet.display_name,
                    )
                )
            wallet._clean_amount(wallet.auto_top_up_amount)
            if not wallet._top_up_subscription():
                raise ValidationError(
                    self.env._(
                        "Wallet %(wallet)s: an automatic top-up needs a saved "
                        "payment method. Save one on a subscription of "
                        "%(customer)s in %(currency)s first.",
                        wallet=wallet.display_name,
                        customer=wallet.commercial_partner_id.display_name,
                        currency=wallet.currency_id.name,
                    )
                )

    def action_top_up(self, amount=None):
        """Buy ``amount`` (default: the automatic top-up) now, charged to the
        saved payment method; returns the invoice."""
        self.ensure_one()
        self.check_access("write")
        sub = self._top_up_subscription()
        if not sub:
            raise UserError(
                self.env._(
                    "Wallet %(wallet)s cannot be topped up automatically: "
                    "%(customer)s has no subscription in %(currency)s with a "
                    "saved payment method. Use Buy credit instead.",
                    wallet=self.display_name,
                    customer=self.commercial_partner_id.display_name,
                    currency=self.currency_id.name,
                )
            )
        value = self._clean_amount(amount or self.auto_top_up_amount)
        product = self.env.ref("subscription_billing.product_prepaid_credit")
        invoice = (
            self.env["account.move"]
            .sudo()
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": sub.partner_invoice_id.id,
                    "company_id": self.company_id.id,
                    "currency_id": self.currency_id.id,
                    "subscription_wallet_purchase_id": self.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": self.env._(
                                    "Prepaid credit, automatic top-up (wallet "
                                    "%(wallet)s)",
                                    wallet=self.name,
                                ),
                                "quantity": 1,
                                "price_unit": float(value),
                                "tax_ids": [Command.clear()],
                                # The saved payment method of this subscription
                                # pays it (account.move._post).
                                "subscription_id": sub.id,
                            }
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        self.message_post(
            body=self.env._(
                "Automatic top-up: invoice %(invoice)s, charged to the saved "
                "payment method of %(sub)s, credited when paid.",
                invoice=invoice._get_html_link(),
                sub=sub.display_name,
            )
        )
        return invoice

    def _send_low_balance_alert(self):
        """Wallets under their threshold with an automatic top-up buy it."""
        result = super()._send_low_balance_alert()
        for wallet in self.filtered("auto_top_up_amount"):
            try:
                with self.env.cr.savepoint():
                    wallet.sudo().action_top_up()
            except UserError as error:
                wallet.message_post(
                    body=self.env._(
                        "Automatic top-up not done: %(error)s", error=str(error)
                    )
                )
        return result
