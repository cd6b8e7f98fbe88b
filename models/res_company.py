# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, fields, models

INVOICE_POLICIES = [
    ("draft", "Leave as draft"),
    ("post", "Post"),
    ("send", "Post and send by email"),
]


class ResCompany(models.Model):
    """The company's defaults of the Subscriptions app (Settings): new plans
    start from them, follow-ups without a customer's or plan's policy use the
    dunning policy."""

    _inherit = "res.company"

    subscription_dunning_policy_id = fields.Many2one(
        "subscription.dunning.policy",
        string="Default Dunning Policy",
        help="How unpaid subscription invoices are followed up when neither the "
        "customer nor the plan names a policy. Empty: the shipped default.",
    )
    subscription_invoice_policy = fields.Selection(
        INVOICE_POLICIES,
        string="Default Invoice Policy",
        required=True,
        default="post",
        help="What the billing run does with the invoices of a new plan.",
    )
    subscription_trial_reminder_days = fields.Integer(
        string="Default Trial Reminder (days before)",
        default=3,
        help="New plans: days before the end of a trial that the customer is "
        "reminded; 0: no reminder.",
    )
    subscription_renewal_reminder_days = fields.Integer(
        string="Default Renewal Reminder (days)",
        default=30,
        help="New plans: days before the end of a fixed term that renews when "
        "the customer is told of the renewal; 0: no reminder.",
    )
    subscription_portal_change_quantity = fields.Boolean(
        string="Customers Change Quantities", default=True
    )
    subscription_portal_manage_options = fields.Boolean(
        string="Customers Add and Remove Options", default=True
    )
    subscription_portal_change_plan = fields.Boolean(string="Customers Change Plan")
    subscription_portal_cancel = fields.Boolean(string="Customers Cancel", default=True)

    # Prepaid credit (wallets): created on demand by
    # ``_subscription_wallet_accounting`` when empty.
    subscription_wallet_journal_id = fields.Many2one(
        "account.journal",
        string="Prepaid Credit Journal",
        domain="[('type', '=', 'general'), ('company_id', '=', id)]",
        help="The journal of the entries that grant, apply and expire prepaid "
        "credit. Empty: created when first needed.",
    )
    subscription_wallet_account_id = fields.Many2one(
        "account.account",
        string="Customer Prepaid Credit Account",
        domain="[('account_type', '=', 'liability_current')]",
        help="The liability that holds the customers' prepaid credit: bought "
        "or granted credit is credited to it, applied or expired credit debited.",
    )
    subscription_wallet_grant_account_id = fields.Many2one(
        "account.account",
        string="Free Credit Expense Account",
        domain="[('account_type', 'in', ('expense', 'expense_other'))]",
        help="The expense debited when credit is granted for free.",
    )
    subscription_wallet_expiry_account_id = fields.Many2one(
        "account.account",
        string="Expired Credit Income Account",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="The income (breakage) credited with the credit left on an expired "
        "wallet.",
    )
    subscription_wallet_product_id = fields.Many2one(
        "product.product",
        string="Prepaid Credit Product",
        help="The product of the invoices that buy credit: no taxes (the credit "
        "is taxed when it pays an invoice), its income account the prepaid "
        "credit liability.",
    )

    def _subscription_wallet_accounting(self):
        """This company's journal, accounts and product of the prepaid
        credit, each created when empty (as Odoo creates its default
        accounts); returns the company."""
        self.ensure_one()
        company = self.sudo()
        Account = company.env["account.account"].with_company(company)
        vals = {}

        def account(code, name, account_type):
            return Account.create(
                {
                    "code": Account._search_new_account_code(code),
                    "name": name,
                    "account_type": account_type,
                    "company_ids": [Command.set(company.ids)],
                }
            ).id

        if not company.subscription_wallet_account_id:
            vals["subscription_wallet_account_id"] = account(
                "2890", company.env._("Customer prepaid credit"), "liability_current"
            )
        if not company.subscription_wallet_grant_account_id:
            vals["subscription_wallet_grant_account_id"] = account(
                "6890", company.env._("Free prepaid credit granted"), "expense"
            )
        if not company.subscription_wallet_expiry_account_id:
            vals["subscription_wallet_expiry_account_id"] = account(
                "7890", company.env._("Expired prepaid credit"), "income_other"
            )
        if not company.subscription_wallet_journal_id:
            Journal = company.env["account.journal"]
            code = "WLT"
            number = 1
            while Journal.search_count(
                [("code", "=", code), ("company_id", "=", company.id)], limit=1
            ):
                number += 1
                code = f"WLT{number}"
            vals["subscription_wallet_journal_id"] = Journal.create(
                {
                    "name": company.env._("Prepaid Credit"),
                    "code": code,
                    "type": "general",
                    "company_id": company.id,
                }
            ).id
        if vals:
            company.write(vals)
        if not company.subscription_wallet_product_id:
            product = (
                company.env["product.product"]
                .with_company(company)
                .create(
                    {
                        "name": company.env._("Prepaid Credit"),
                        "type": "service",
                        "list_price": 0.0,
                        "sale_ok": False,
                        "purchase_ok": False,
                        "taxes_id": [Command.clear()],
                        "company_id": company.id,
                        "property_account_income_id": (
                            company.subscription_wallet_account_id.id
                        ),
                    }
                )
            )
            company.subscription_wallet_product_id = product
        return self
