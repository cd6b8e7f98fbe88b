# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResCompany(models.Model):
    """Deferred revenue of subscription invoices: where the deferred part goes,
    which journal recognises it, and when."""

    _inherit = "res.company"

    subscription_deferred_account_id = fields.Many2one(
        "account.account",
        string="Deferred Revenue Account",
        check_company=True,
        domain="[('account_type', '=', 'liability_current')]",
        help="Where posted subscription invoices put the revenue of the months "
        "still to come. Empty: a current liability account Deferred Revenue is "
        "created when first needed.",
    )
    subscription_recognition_journal_id = fields.Many2one(
        "account.journal",
        string="Revenue Recognition Journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
        help="Journal of the entries that move each month's share from deferred "
        "revenue to income. Empty: the first miscellaneous journal.",
    )
    subscription_recognition_mode = fields.Selection(
        [
            ("month_end", "At each month end (scheduled action)"),
            ("on_post", "All at once when the invoice is posted"),
        ],
        string="Revenue Recognition Entries",
        required=True,
        default="month_end",
        help="At each month end: the scheduled action posts the month's entry "
        "once the month has ended. All at once: the entries of every month are "
        "posted with the invoice, each dated at its month end.",
    )

    def _subscription_deferred_account(self):
        """The deferred revenue account, created on first use."""
        self.ensure_one()
        if self.subscription_deferred_account_id:
            return self.subscription_deferred_account_id
        Account = self.env["account.account"].sudo().with_company(self)
        account = Account.search(
            [
                *Account._check_company_domain(self),
                ("account_type", "=", "liability_current"),
                ("name", "=", "Deferred Revenue"),
            ],
            limit=1,
        )
        if not account:
            code = Account._search_new_account_code("2851")
            account = Account.create(
                {
                    "name": "Deferred Revenue",
                    "code": code,
                    "account_type": "liability_current",
                    "company_ids": [(6, 0, self.ids)],
                }
            )
        self.sudo().subscription_deferred_account_id = account
        return account

    def _subscription_recognition_journal(self):
        self.ensure_one()
        if self.subscription_recognition_journal_id:
            return self.subscription_recognition_journal_id
        Journal = self.env["account.journal"].sudo()
        journal = Journal.search(
            [*Journal._check_company_domain(self), ("type", "=", "general")],
            limit=1,
        )
        if journal:
            self.sudo().subscription_recognition_journal_id = journal
        return journal
