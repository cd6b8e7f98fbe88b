# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prepaid credit (wallets): the credit pays subscription invoices like a
payment, after tax; every movement is a ledger row and a journal entry.

Worked examples on a plan of 10.00 a month with the company's 15 % sales
tax: each invoice is 10.00 untaxed + 1.50 tax = 11.50.
"""

import re
import threading
from unittest.mock import patch

import psycopg2
from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import (
    CommittedCase,
    SubscriptionCommon,
    UsageCommon,
    committed_env,
    create_plan,
)

START = "2026-01-01"


class WalletCase(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_10 = cls._create_plan("Pro 10", price=10.0)
        cls.Wallet = cls.env["subscription.wallet"]
        cls.customer.email = "acme@example.com"

    def _wallet(self, amount=None, **values):
        wallet = self.Wallet.create(
            {"name": "Launch", "partner_id": self.customer.id, **values}
        )
        if amount:
            wallet.grant_credit(amount, "Welcome")
        return wallet

    def _start(self, start="2026-03-01", plan=None, **values):
        with freeze_time(start):
            sub = self._create_subscription(
                plan=plan or self.plan_10, start=start, **values
            )
            sub.action_start()
        return sub

    def _bill(self, day):
        with freeze_time(day):
            self._run_billing()

    def _token(self):
        return (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.provider.payment_method_ids[:1].id,
                    "payment_details": "4242",
                    "partner_id": self.customer.id,
                    "provider_ref": "demo",
                    "demo_simulated_state": "done",
                }
            )
        )

    @staticmethod
    def _ledger(wallet):
        return [(row.kind, row.amount) for row in wallet.transaction_ids]

    @staticmethod
    def _entry_lines(entry):
        """``{account type: (debit, credit)}`` of a two-line entry."""
        return {
            line.account_id.account_type: (line.debit, line.credit)
            for line in entry.line_ids
        }


@tagged("post_install", "-at_install")
class TestWallet(WalletCase):
    def test_wallet_covers_an_invoice(self):
        """Worked example 1. Granted 50.00 (entry Dr free credit expense
        50.00 / Cr prepaid credit liability 50.00). March's invoice: untaxed
        10.00, tax 15 % = 1.50, total 11.50. The wallet pays 11.50 (entry Dr
        liability 11.50 / Cr receivable 11.50, reconciled): residual 0.00,
        paid. Ledger: +50.00, -11.50; balance 50.00 - 11.50 = 38.50. The
        saved card is not charged: nothing is due."""
        self._enable_demo_provider()
        token = self._token()
        wallet = self._wallet(50)
        grant = wallet.transaction_ids
        self.assertEqual(
            self._entry_lines(grant.move_id),
            {"expense": (50.0, 0.0), "liability_current": (0.0, 50.0)},
        )
        sub = self._start(payment_token_id=token.id)
        self._bill("2026-03-01")
        invoice = self._invoices(sub)

        self.assertEqual(invoice.amount_untaxed, 10.0)
        self.assertEqual(invoice.amount_tax, 1.5)
        self.assertEqual(invoice.amount_total, 11.5)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(
            self._ledger(wallet), [("grant", 50.0), ("consumption", -11.5)]
        )
        self.assertEqual(wallet.balance, 38.5)
        consumption = wallet.transaction_ids[1]
        self.assertEqual(consumption.invoice_id, invoice)
        self.assertEqual(consumption.balance_after, 38.5)
        self.assertEqual(
            self._entry_lines(consumption.move_id),
            {"liability_current": (11.5, 0.0), "asset_receivable": (0.0, 11.5)},
        )
        self.assertFalse(invoice.subscription_to_charge)
        self.assertFalse(invoice.subscription_dunning_event_ids)
        self.assertEqual(sub.wallet_balance, 38.5)
        self.assertEqual(self.customer.subscription_wallet_balance, 38.5)
        # The invoice document shows the credit applied and the balance left.
        html = str(
            self.env["ir.actions.report"]._render_qweb_html(
                "account.account_invoices", invoice.ids
            )[0]
        )
        self.assertIn("Prepaid credit applied (Launch)", html)
        self.assertIn("Credit balance left", html)
        self.assertIn("38.50", html)

    def test_expiring_wallet(self):
        """Worked example 2. 20.00 usable until 2026-03-31; the invoice of
        2026-04-01 (11.50) does not use it: 11.50 due. The expiry run of
        2026-04-01 moves the 20.00 left to income (Dr prepaid credit
        liability 20.00 / Cr expired credit income 20.00): balance 0.00; a
        second run expires nothing."""
        wallet = self._wallet(20, expiry_date="2026-03-31")
        sub = self._start("2026-04-01")
        self._bill("2026-04-01")
        invoice = self._invoices(sub)
        self.assertEqual(invoice.amount_total, 11.5)
        self.assertEqual(invoice.amount_residual, 11.5)
        self.assertFalse(invoice.subscription_wallet_transaction_ids)

        expired = self.Wallet._expire_due(self._date("2026-04-01"))
        self.assertEqual(expired, wallet)
        self.assertEqual(self._ledger(wallet), [("grant", 20.0), ("expiry", -20.0)])
        self.assertEqual(wallet.balance, 0.0)
        self.assertEqual(
            self._entry_lines(wallet.transaction_ids[1].move_id),
            {"liability_current": (20.0, 0.0), "income_other": (0.0, 20.0)},
        )
        self.assertFalse(self.Wallet._expire_due(self._date("2026-04-02")))
        self.assertEqual(len(wallet.transaction_ids), 2)

    def test_two_wallets_by_priority(self):
        """Worked example 3. Priority 1 holds 5.00, priority 2 holds 100.00;
        the invoice of 11.50: 5.00 from the first, 11.50 - 5.00 = 6.50 from
        the second (balances 0.00 and 93.50), residual 0.00."""
        second = self._wallet(100, name="Second", priority=2)
        first = self._wallet(5, name="First", priority=1)
        sub = self._start()
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        rows = invoice.subscription_wallet_transaction_ids.sorted("id")
        self.assertEqual(
            [(row.wallet_id, row.amount) for row in rows],
            [(first, -5.0), (second, -6.5)],
        )
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual((first.balance, second.balance), (0.0, 93.5))

    def test_partly_covered_invoice_charges_the_rest(self):
        """5.00 of credit, 11.50 due: the wallet pays 5.00, 6.50 is left to
        the automatic payment of the saved card."""
        self._enable_demo_provider()
        token = self._token()
        self._wallet(5)
        sub = self._start(payment_token_id=token.id)
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        self.assertEqual(invoice.amount_residual, 6.5)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertTrue(invoice.subscription_to_charge)

    def test_other_currency_and_customer_not_used(self):
        """A wallet in another currency, or of another customer, pays nothing."""
        other_currency = self.setup_other_currency("EUR")
        euros = self._wallet(100, currency_id=other_currency.id)
        globex = self._wallet(100, partner_id=self.customer_b.id)
        sub = self._start()
        self._bill("2026-03-01")
        self.assertEqual(self._invoices(sub).amount_residual, 11.5)
        self.assertEqual((euros.balance, globex.balance), (100.0, 100.0))

    def test_wallets_are_locked_before_reading_balances(self):
        """The consumption locks the wallets' rows (FOR NO KEY UPDATE) before
        it reads their balances: a second worker waits, then fails to lock
        the wallet the first one wrote, instead of spending the same credit."""
        wallet = self._wallet(50)
        sub = self._start()
        Wallet = type(self.Wallet)
        queries = []
        original = Wallet._lock

        def spy(records):
            queries.append(set(records.ids))
            return original(records)

        with patch.object(Wallet, "_lock", spy):
            self._bill("2026-03-01")
        self.assertIn({wallet.id}, queries)
        self.assertEqual(self._invoices(sub).amount_residual, 0.0)

    def test_cancelled_invoice_gets_its_credit_back(self):
        """11.50 applied, then the invoice cancelled: the consumption entry
        is reversed and a refund row of +11.50 written, once (balance 50.00)."""
        wallet = self._wallet(50)
        sub = self._start()
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        invoice.button_cancel()
        self.assertEqual(
            self._ledger(wallet),
            [("grant", 50.0), ("consumption", -11.5), ("refund", 11.5)],
        )
        self.assertEqual(wallet.balance, 50.0)
        refund = wallet.transaction_ids[2]
        self.assertEqual(
            refund.move_id.reversed_entry_id, wallet.transaction_ids[1].move_id
        )
        self.Wallet._refund_invoices(invoice)
        self.assertEqual(len(wallet.transaction_ids), 3)

    def test_reset_to_draft_and_posted_again_pays_once(self):
        """Reset to draft, the invoice keeps its reconciliation with the
        credit (Odoo 19 keeps a draft's matched payments); posted again, it
        is still paid by the same 11.50, not charged a second time:
        ledger +50.00, -11.50; balance 38.50."""
        wallet = self._wallet(50)
        sub = self._start()
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        invoice.button_draft()
        invoice.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(
            self._ledger(wallet), [("grant", 50.0), ("consumption", -11.5)]
        )
        self.assertEqual(wallet.balance, 38.5)

    def test_wallet_form_and_company_isolation(self):
        """A billing user creates a wallet in the form (a contact becomes its
        company); a user of another company does not see it. The accounting
        is created once, on first use."""
        contact = self.env["res.partner"].create(
            {"name": "Ann", "parent_id": self.customer.id}
        )
        with Form(self.Wallet.with_user(self.billing_user)) as form:
            form.name = "Form credit"
            form.partner_id = contact
            form.priority = 3
        wallet = form.record
        self.assertEqual(wallet.partner_id, self.customer)
        self.assertEqual(wallet.state, "empty")
        company_b = self.env["res.company"].create({"name": "Wallet Company B"})
        user_b = new_test_user(
            self.env,
            login="wallet_b",
            groups="subscription_billing.group_subscription_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        self.assertFalse(self.Wallet.with_user(user_b).search([("id", "=", wallet.id)]))
        company = self.env.company
        company._subscription_wallet_accounting()
        journal = company.subscription_wallet_journal_id
        product = company.subscription_wallet_product_id
        company._subscription_wallet_accounting()
        self.assertEqual(company.subscription_wallet_journal_id, journal)
        self.assertEqual(company.subscription_wallet_product_id, product)
        self.assertFalse(product.taxes_id)
        self.assertEqual(
            product.property_account_income_id, company.subscription_wallet_account_id
        )

    def test_bought_credit_is_counted_when_paid(self):
        """Top up 40.00: a posted invoice of 40.00 without tax (income on the
        prepaid credit liability); nothing counted until it is paid; paid:
        one purchase row of +40.00, however often the paid hook runs."""
        wallet = self._wallet()
        invoice = wallet.with_user(self.billing_user).action_top_up("40.00")
        invoice = invoice.sudo()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 40.0)
        self.assertEqual(invoice.amount_tax, 0.0)
        self.assertEqual(
            invoice.invoice_line_ids.account_id.account_type, "liability_current"
        )
        self.assertEqual(wallet.balance, 0.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        invoice._invoice_paid_hook()
        self.assertEqual(self._ledger(wallet), [("purchase", 40.0)])
        self.assertEqual(wallet.balance, 40.0)

    def test_low_balance_alert_once_per_crossing(self):
        """Threshold 20.00, 30.00 granted: March 30.00 - 11.50 = 18.50 crosses
        it (one mail); April 18.50 - 11.50 = 7.00 stays under (no mail)."""
        wallet = self._wallet(30, low_balance_threshold=20)
        self._start()

        def alerts():
            return self.env["mail.mail"].search(
                [
                    ("model", "=", "subscription.wallet"),
                    ("res_id", "=", wallet.id),
                    ("subject", "ilike", "running low"),
                ]
            )

        self._bill("2026-03-01")
        self.assertEqual(len(alerts()), 1)
        self.assertIn(self.customer, alerts().recipient_ids)
        self.assertIn("18.50", alerts().body_html)
        self._bill("2026-04-01")
        self.assertEqual(wallet.balance, 7.0)
        self.assertEqual(len(alerts()), 1)

    def test_covered_invoice_not_sent_when_the_plan_says_so(self):
        """Post and send, Send Invoices Covered by Credit off: the covered
        invoice (0.00 due) is posted, not queued for sending; on: queued."""
        plan = self._create_plan(
            "Send 10", price=10.0, invoice_policy="send", send_covered_invoices=False
        )
        self._wallet(50)
        sub = self._start(plan=plan)
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        self.assertEqual((invoice.state, invoice.amount_residual), ("posted", 0.0))
        self.assertFalse(invoice.sending_data)
        plan.send_covered_invoices = True
        self._bill("2026-04-01")
        april = self._invoices(sub) - invoice
        self.assertEqual(april.amount_residual, 0.0)
        self.assertTrue(april.sending_data)

    def test_bad_input_changes_nothing(self):
        """Amounts that are not credit, and a grant by a billing user, are
        refused with the wallet's name; the ledger is unchanged."""
        wallet = self._wallet(10)
        for bad in (-5, 0, float("nan"), float("inf"), 10**13, "abc", "1.005", True):
            with self.subTest(bad=bad), self.assertRaisesRegex(UserError, "Launch"):
                wallet.grant_credit(bad)
        with self.assertRaisesRegex(UserError, "not a valid amount"):
            wallet.action_top_up(-1)
        with self.assertRaises(AccessError):
            wallet.with_user(self.billing_user).grant_credit(10)
        self.assertEqual(self._ledger(wallet), [("grant", 10.0)])
        self.assertFalse(wallet.topup_invoice_ids)
        with self.assertRaisesRegex(UserError, "has movements"):
            wallet.write({"currency_id": self.setup_other_currency("EUR").id})

    def test_top_up_without_payment_method_is_refused(self):
        """Automatic top-up without a saved payment method: a clear error,
        nothing written."""
        wallet = self._wallet(10)
        with self.assertRaises(ValidationError) as refused:
            wallet.write(
                {"auto_topup": True, "topup_amount": 100, "low_balance_threshold": 5}
            )
        self.assertIn("needs a saved payment method", str(refused.exception))
        wallet.invalidate_recordset()
        self.assertFalse(wallet.auto_topup)
        self.assertFalse(wallet.topup_amount)
        self.assertFalse(wallet.low_balance_threshold)

    @mute_logger("odoo.sql_db")
    def test_ledger_rows_are_unique(self):
        """The database refuses a second consumption of one invoice by one
        wallet, and a second expiry."""
        wallet = self._wallet(50)
        sub = self._start()
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            wallet._add_transaction("consumption", -1, invoice=invoice)
            self.env.flush_all()
        wallet._add_transaction("expiry", 0)
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            wallet._add_transaction("expiry", 0)
            self.env.flush_all()

    def test_wizards_top_up_and_grant(self):
        """The form's buttons: Top Up opens the invoice of 25.00; Grant
        Credit adds 5.00."""
        wallet = self._wallet()
        Wizard = self.env["subscription.wallet.credit.wizard"]
        action = Wizard.create(
            {"wallet_id": wallet.id, "mode": "top_up", "amount": 25}
        ).action_confirm()
        self.assertEqual(
            self.env["account.move"].browse(action["res_id"]).amount_total, 25.0
        )
        Wizard.create(
            {"wallet_id": wallet.id, "mode": "grant", "amount": 5, "note": "Sorry"}
        ).action_confirm()
        self.assertEqual(self._ledger(wallet), [("grant", 5.0)])


@tagged("post_install", "-at_install")
class TestWalletTopUp(WalletCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_demo_provider()

    def test_automatic_top_up_charges_the_saved_card(self):
        """30.00 granted, threshold 20.00, top-up 100.00: March's 11.50
        leaves 18.50 → an invoice of 100.00 charged to the saved card
        (payment_demo) → paid → balance 18.50 + 100.00 = 118.50."""
        token = self._token()
        wallet = self._wallet(
            30,
            low_balance_threshold=20,
            auto_topup=True,
            topup_amount=100,
            payment_token_id=token.id,
        )
        self._start()
        self._bill("2026-03-01")
        top_up = wallet.topup_invoice_ids
        self.assertEqual(top_up.amount_total, 100.0)
        self.assertEqual(wallet.balance, 18.5)
        self.assertEqual(top_up.subscription_dunning_event_ids.result, "queued")
        with (
            freeze_time("2026-03-01"),
            patch.object(
                type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
            ),
        ):
            self.env["subscription.dunning"]._cron_process()
        self.assertIn(top_up.payment_state, ("paid", "in_payment"))
        self.assertEqual(
            self._ledger(wallet),
            [("grant", 30.0), ("consumption", -11.5), ("purchase", 100.0)],
        )
        self.assertEqual(wallet.balance, 118.5)

    def test_declined_top_up_leaves_its_invoice_open(self):
        """The saved card declines the top-up of 100.00: the top-up invoice
        stays open (100.00 due) under a payment follow-up, no credit is
        counted (balance 18.50)."""
        token = self._token()
        token.demo_simulated_state = "error"
        wallet = self._wallet(
            30,
            low_balance_threshold=20,
            auto_topup=True,
            topup_amount=100,
            payment_token_id=token.id,
        )
        self._start()
        self._bill("2026-03-01")
        top_up = wallet.topup_invoice_ids
        with (
            freeze_time("2026-03-01"),
            patch.object(
                type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
            ),
            mute_logger(
                "odoo.addons.subscription_billing.models.subscription_dunning_event"
            ),
        ):
            self.env["subscription.dunning"]._cron_process()
        self.assertEqual(top_up.amount_residual, 100.0)
        self.assertEqual(wallet.balance, 18.5)
        self.assertNotIn("purchase", wallet.transaction_ids.mapped("kind"))
        self.assertEqual(top_up.subscription_dunning_ids.state, "open")


@tagged("post_install", "-at_install")
class TestWalletUsagePolicy(UsageCommon):
    def test_usage_wallet_pays_the_usage_lines_only(self):
        """Plan: 20.00 fixed + graduated usage (0.10 a call up to 1,000), 15 %
        tax. 500 calls in March: usage 50.00 + 7.50 tax = 57.50; April's fixed
        fee 20.00 + 3.00 = 23.00; invoice total 80.50. A usage-only wallet of
        100.00 pays 57.50: 23.00 due, 42.50 left."""
        sub = self._start()
        wallet = self.env["subscription.wallet"].create(
            {"name": "Usage", "partner_id": self.customer.id, "policy": "usage"}
        )
        wallet.grant_credit(100)
        self._send(sub, [("e1", "2026-03-10 10:00:00", 500)])
        self._bill("2026-04-01")
        invoice = sub.period_ids.invoice_id.filtered(
            lambda m: m.invoice_line_ids.subscription_line_id.filtered(
                lambda line: line.line_type == "usage"
            )
        )
        self.assertEqual(invoice.amount_total, 80.5)
        self.assertEqual(invoice.amount_residual, 23.0)
        self.assertEqual(
            invoice.subscription_wallet_transaction_ids.mapped("amount"), [-57.5]
        )
        self.assertEqual(wallet.balance, 42.5)


@tagged("post_install", "-at_install")
class TestWalletPortal(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme = cls.env["res.partner"].create(
            {"name": "Acme W", "is_company": True, "email": "acme-w@example.com"}
        )
        cls.globex = cls.env["res.partner"].create(
            {"name": "Globex W", "is_company": True}
        )
        cls.alice = cls.env["res.partner"].create(
            {
                "name": "Alice W",
                "parent_id": cls.acme.id,
                "email": "alice-w@example.com",
            }
        )
        new_test_user(
            cls.env,
            login="alice_w",
            groups="base.group_portal",
            partner_id=cls.alice.id,
        )
        new_test_user(
            cls.env,
            login="globex_w",
            groups="base.group_portal",
            partner_id=cls.globex.id,
        )
        cls.wallet = cls.env["subscription.wallet"].create(
            {"name": "Acme credit", "partner_id": cls.alice.id}
        )
        cls.wallet.grant_credit("42.50", "Welcome")
        product = cls.env["product.product"].create(
            {"name": "Wallet portal plan", "type": "service", "taxes_id": False}
        )
        plan = create_plan(cls.env, "Wallet portal", product, 10.0)
        with freeze_time("2026-05-01"):
            cls.sub = cls.env["subscription.subscription"].create(
                {
                    "partner_id": cls.alice.id,
                    "plan_id": plan.id,
                    "date_start": "2026-05-01",
                }
            )
            cls.sub.action_start()

    def _csrf(self, url):
        page = self.url_open(url).text
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def test_customer_sees_own_wallet_and_tops_it_up(self):
        """Alice (a contact of Acme) sees Acme's wallet: 42.50, one grant;
        Top Up 25.00 creates an invoice of 25.00 and opens its payment page."""
        self.assertEqual(self.wallet.partner_id, self.acme)
        self.authenticate("alice_w", "alice_w")
        page = self.url_open("/my/wallets")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Acme credit", page.text)
        self.assertIn("42.50", page.text)
        self.assertIn("Grant", page.text)
        response = self.url_open(
            f"/my/wallets/{self.wallet.id}/top_up",
            data={"amount": "25.00", "csrf_token": self._csrf("/my/wallets")},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        invoice = self.wallet.topup_invoice_ids
        self.assertEqual(invoice.amount_total, 25.0)
        self.assertIn(f"/my/invoices/{invoice.id}", response.headers["Location"])
        self.assertEqual(self.wallet.balance, 42.5, "counted once paid")

    def test_subscription_page_shows_the_balance(self):
        """The subscription's portal page shows the credit: 42.50."""
        self.authenticate("alice_w", "alice_w")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Prepaid credit", page.text)
        self.assertIn("42.50", page.text)
        self.assertIn('href="/my/wallets"', page.text)

    def test_other_customer_gets_404(self):
        """Globex sees no wallet, and Acme's wallet answers 404 (page and
        top-up): no invoice is created."""
        self.authenticate("globex_w", "globex_w")
        page = self.url_open("/my/wallets")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("Acme credit", page.text)
        self.assertIn("You have no prepaid credit", page.text)
        self.assertEqual(
            self.url_open(f"/my/wallets/{self.wallet.id}").status_code, 404
        )
        response = self.url_open(
            f"/my/wallets/{self.wallet.id}/top_up",
            data={"amount": "25.00", "csrf_token": self._csrf("/my/account")},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.wallet.topup_invoice_ids)


@tagged("post_install", "-at_install")
class TestWalletConcurrency(CommittedCase):
    """Two workers apply one wallet to two invoices of its customer at once,
    in committed transactions of their own."""

    def test_two_invoices_paid_at_once_cannot_overspend(self):
        """15.00 of credit, two posted invoices of 10.00 (no tax) paid by the
        wallet in two workers at once: one is paid 10.00, the other 15.00 - 10.00 = 5.00
        (the worker that read the balance too early fails to lock the wallet
        and retries); balance 0.00, never below."""
        with committed_env() as env:
            product = env["product.product"].create(
                {"name": "Wallet race", "type": "service", "taxes_id": False}
            )
            plan = create_plan(
                env, "Wallet race", product, 10.0, invoice_policy="draft"
            )
            partner = env["res.partner"].create(
                {"name": "Wallet race customer", "is_company": True}
            )
            subs = env["subscription.subscription"].create(
                [
                    {"partner_id": partner.id, "plan_id": plan.id, "date_start": START}
                    for __ in range(2)
                ]
            )
            subs.action_start()
            invoices = subs._generate_due_invoices(self._date(START))
            self.assertEqual(len(invoices), 2)
            # Posted before the wallet exists: the race is the wallet's alone
            # (not the sales journal's sequence).
            invoices.action_post()
            wallet = env["subscription.wallet"].create(
                {"name": "Race", "partner_id": partner.id}
            )
            wallet.grant_credit(15)
            ids = {
                "invoices": invoices.ids,
                "wallet": wallet.id,
                "subs": subs.ids,
                "plan": plan.id,
                "product": product.id,
                "partner": partner.id,
            }
        try:
            barrier = threading.Barrier(2)
            errors = []

            def worker(invoice_id):
                for attempt in range(5):
                    try:
                        with committed_env() as env:
                            if not attempt:
                                barrier.wait(timeout=30)
                            env["subscription.wallet"]._apply_to_invoices(
                                env["account.move"].browse(invoice_id)
                            )
                        return
                    except psycopg2.OperationalError:
                        continue
                    except Exception as error:  # noqa: BLE001 - reported below
                        errors.append(error)
                        return
                errors.append("no attempt succeeded")

            threads = [
                threading.Thread(target=worker, args=(invoice_id,))
                for invoice_id in ids["invoices"]
            ]
            with mute_logger("odoo.sql_db"):
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=300)
            self.assertFalse(errors)
            with committed_env() as env:
                invoices = env["account.move"].browse(ids["invoices"])
                wallet = env["subscription.wallet"].browse(ids["wallet"])
                self.assertEqual(set(invoices.mapped("state")), {"posted"})
                self.assertEqual(sorted(invoices.mapped("amount_residual")), [0.0, 5.0])
                self.assertEqual(
                    sorted(wallet.transaction_ids.mapped("amount")), [-10.0, -5.0, 15.0]
                )
                self.assertEqual(wallet.balance, 0.0)
        finally:
            with committed_env() as env:
                entries = (
                    env["subscription.wallet.transaction"]
                    .search([("wallet_id", "=", ids["wallet"])])
                    .move_id
                )
                env.cr.execute(
                    "DELETE FROM subscription_wallet_transaction WHERE wallet_id = %s",
                    [ids["wallet"]],
                )
                invoices = env["account.move"].browse(ids["invoices"])
                moves = (entries | invoices).filtered(lambda m: m.state == "posted")
                moves.line_ids.remove_move_reconcile()
                moves.button_draft()
                (entries | invoices).with_context(force_delete=True).unlink()
                env["subscription.wallet"].browse(ids["wallet"]).unlink()
                env["subscription.subscription"].browse(ids["subs"]).unlink()
                env["subscription.plan"].browse(ids["plan"]).unlink()
                env["product.product"].browse(ids["product"]).unlink()
                env["res.partner"].browse(ids["partner"]).unlink()

    @staticmethod
    def _date(value):
        return fields.Date.to_date(value)
