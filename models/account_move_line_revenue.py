# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from ..core import recognition
from ..tools import exact_decimal


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    subscription_income_account_id = fields.Many2one(
        "account.account",
        string="Income Account (deferred)",
        readonly=True,
        index="btree_not_null",
        help="The income account that the deferred revenue of this line is "
        "recognised on, month by month.",
    )
    subscription_recognition_ids = fields.One2many(
        "subscription.revenue.recognition",
        "move_line_id",
        string="Revenue Recognition",
        readonly=True,
    )

    def _subscription_recognition_method(self):
        """``days``, ``months`` or ``none``: the product's override, else the
        plan's."""
        self.ensure_one()
        method = self.product_id.product_tmpl_id.subscription_revenue_recognition
        if not method:
            method = self.subscription_id.plan_id.revenue_recognition or "none"
        return method

    def _subscription_recognition_shares(self):
        """The recognition shares ``[(month, balance share, amount_currency
        share)]`` of this invoice line, or ``[]`` when nothing is deferred: no
        service period, a plan (or product) that recognises at once, or a
        period that ends in the invoice's month or before (usage billed in
        arrears, a month billed in advance: all earned by the invoice's month
        end)."""
        self.ensure_one()
        move = self.move_id
        start, end = self.subscription_period_start, self.subscription_period_end
        if (
            self.display_type != "product"
            or not move.is_sale_document(include_receipts=False)
            or not (start and end)
            or end < start
            or (
                self.company_currency_id.is_zero(self.balance)
                and not self.amount_currency
            )
        ):
            return []
        method = self._subscription_recognition_method()
        if method not in recognition.METHODS:
            return []
        if recognition.month_start(end) <= recognition.month_start(move.date):
            return []
        balances = recognition.schedule(
            exact_decimal(self.balance),
            start,
            end,
            method,
            exact_decimal(self.company_currency_id.rounding),
        )
        currencies = recognition.schedule(
            exact_decimal(self.amount_currency),
            start,
            end,
            method,
            exact_decimal(self.currency_id.rounding),
        )
        return [
            (share.month, share.amount, other.amount)
            for share, other in zip(balances, currencies, strict=True)
        ]

    def _subscription_credited_rows(self, shares):
        """The planned rows of the invoice line this credit note line credits,
        when the credit is exactly their total: the credit then mirrors them,
        month by month (it reverses exactly the part not yet recognised).
        Empty otherwise: the credit is spread over its own service period."""
        self.ensure_one()
        move = self.move_id
        if move.move_type != "out_refund" or not shares:
            return self.env["subscription.revenue.recognition"]
        domain = [
            ("state", "=", "planned"),
            ("month", ">=", shares[0][0]),
            ("move_line_id.move_id.move_type", "=", "out_invoice"),
            ("move_line_id.product_id", "=", self.product_id.id),
            ("move_line_id.subscription_id", "=", self.subscription_id.id),
            (
                "move_line_id.subscription_period_start",
                "<=",
                self.subscription_period_start,
            ),
            (
                "move_line_id.subscription_period_end",
                ">=",
                self.subscription_period_end,
            ),
            ("company_id", "=", self.company_id.id),
        ]
        if move.reversed_entry_id:
            domain.append(("invoice_id", "=", move.reversed_entry_id.id))
        rows = self.env["subscription.revenue.recognition"].sudo().search(domain)
        balance = exact_decimal(self.balance)
        amount_currency = exact_decimal(self.amount_currency)
        for __, candidate in rows.grouped("move_line_id").items():
            if (
                sum(exact_decimal(r.amount) for r in candidate) == balance
                and sum(exact_decimal(r.amount_currency) for r in candidate)
                == amount_currency
            ):
                return candidate
        return self.env["subscription.revenue.recognition"]

    def _copy_data_extend_business_fields(self, values):
        # A reversal (credit note) of a deferred line is deferred over the same
        # service period: it reverses the recognised and the deferred parts.
        result = super()._copy_data_extend_business_fields(values)
        if self.subscription_recognition_ids:
            values.update(
                subscription_id=self.subscription_id.id,
                subscription_period_start=self.subscription_period_start,
                subscription_period_end=self.subscription_period_end,
                subscription_billed_days=self.subscription_billed_days,
                subscription_period_days=self.subscription_period_days,
                subscription_income_account_id=self.subscription_income_account_id.id,
            )
        return result
