# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prepaid credit: wallets, their ledger, and the credit applied by the
billing run. Worked examples: a plan of 30.00 a month, no tax."""

from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import SubscriptionCommon, UsageCommon


@tagged("post_install", "-at_install")
class TestWallets(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_flat = cls._create_product(
            name="Flat plan", lst_price=30.0, type="service", taxes_id=[Command.clear()]
        )
        cls.plan_30 = cls._create_plan("Flat 30", price=30.0, product=cls.product_flat)
        cls.Wallet = cls.env["subscription.wallet"]
        cls.other_currency = cls.setup_other_currency("EUR")

    def _wallet(self, amount=None, partner=None, **values):
        wallet = self.Wallet.create(
            {"name": "Launch", "partner_id": (partner or self.customer).id, **values}
        )
        if amount:
            wallet.grant(amount, "Welcome")
        return wallet

    def _start(self, plan=None, **values):
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan or self.plan_30, **values)
            sub.action_start()
        return sub

    def _bill(self, day):
        with freeze_time(day):
            self._run_billing()

    def _credit_lines(self, invoice):
        return invoice.invoice_line_ids.filtered("subscription_wallet_id")

    def test_wallet_covers_an_invoice_then_part_of_the_next(self):
        """50.00 of credit; March: 30.00 due, 30.00 applied → 0.00, 20.00
        left; April: 30.00 due, 20.00 applied → 10.00 due, 0.00 left."""
        wallet = self._wallet(50)
        sub = self._start()
        self._bill("2026-03-01")
        march = self._invoices(sub)

        self.assertEqual(march.state, "posted")
        self.assertEqual(march.amount_total, 0.0)
        line = self._credit_lines(march)
        self.assertEqual(line.price_unit, -30.0)
        self.assertIn("Prepaid credit applied (wallet Launch)", line.name)
        self.assertIn("20.00", line.name, "the line shows the balance left")
        self.assertFalse(line.tax_ids)
        self.assertEqual(wallet.balance, 20.0)
        self.assertFalse(march.subscription_to_charge)

        self._bill("2026-04-01")
        april = self._invoices(sub) - march
        self.assertEqual(self._credit_lines(april).price_unit, -20.0)
        self.assertEqual(april.amount_total, 10.0)
        self.assertEqual(april.amount_residual, 10.0)
        self.assertEqual(wallet.balance, 0.0)
        self.assertEqual(
            sorted(wallet.movement_ids.mapped(lambda m: (m.kind, m.amount))),
            [("applied", -30.0), ("applied", -20.0), ("grant", 50.0)],
        )
        # May: nothing left, nothing applied.
        self._bill("2026-05-01")
        may = self._invoices(sub) - march - april
        self.assertEqual(may.amount_total, 30.0)
        self.assertFalse(self._credit_lines(may))

    def test_retry_never_applies_twice(self):
        """A draft invoice run through the application again keeps one credit
        line and one movement (unique wallet and invoice)."""
        plan = self._create_plan(
            "Draft 30", price=30.0, product=self.product_flat, invoice_policy="draft"
        )
        wallet = self._wallet(50)
        sub = self._start(plan=plan)
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        self.assertEqual(invoice.state, "draft")
        self.Wallet._apply_to_invoices(invoice)
        self.assertEqual(len(self._credit_lines(invoice)), 1)
        self.assertEqual(
            len(wallet.movement_ids.filtered(lambda m: m.kind == "applied")), 1
        )
        self.assertEqual(wallet.balance, 20.0)

    def test_expired_wallet_is_not_used_and_expires_once(self):
        """Expires 28 February, invoice of 1 March: 30.00 due, nothing
        applied; the expiry step writes -50.00 once (balance 0.00)."""
        wallet = self._wallet(50, expiry_date="2026-02-28")
        sub = self._start()
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        self.assertEqual(invoice.amount_total, 30.0)
        self.assertFalse(self._credit_lines(invoice))
        self.assertEqual(self.Wallet._expire_due(self._date("2026-03-01")), wallet)
        expiry = wallet.movement_ids.filtered(lambda m: m.kind == "expiry")
        self.assertEqual(expiry.amount, -50.0)
        self.assertEqual(wallet.balance, 0.0)
        self.assertFalse(self.Wallet._expire_due(self._date("2026-03-02")))
        self.assertEqual(len(wallet.movement_ids), 2)

    def test_wallets_by_priority_then_expiry(self):
        """Priority 1 (10.00) pays first, then of the priority-5 wallets the
        one expiring first (15.00), then 5.00 of the one never expiring; a
        wallet in another currency is not used."""
        first = self._wallet(10, name="First", priority=1)
        never = self._wallet(100, name="Never", priority=5)
        soon = self._wallet(15, name="Soon", priority=5, expiry_date="2026-12-31")
        other = self._wallet(
            100, name="Dollars", priority=0, currency_id=self.other_currency.id
        )
        sub = self._start()
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        self.assertEqual(
            self._credit_lines(invoice).mapped(
                lambda line: (line.subscription_wallet_id, line.price_unit)
            ),
            [(first, -10.0), (soon, -15.0), (never, -5.0)],
        )
        self.assertEqual(invoice.amount_total, 0.0)
        self.assertEqual((first.balance, soon.balance, never.balance), (0, 0, 95.0))
        self.assertEqual(other.balance, 100.0)

    def test_bought_credit_is_recorded_when_paid(self):
        """Buying 40.00: a posted invoice of 40.00, no credit until it is
        paid; paid: one purchase movement of 40.00."""
        wallet = self._wallet()
        invoice = wallet.with_user(self.billing_user).action_buy_credit("40.00")
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 40.0)
        self.assertEqual(invoice.subscription_wallet_purchase_id, wallet)
        self.assertEqual(wallet.balance, 0.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(wallet.balance, 40.0)
        invoice._invoice_paid_hook()
        self.assertEqual(wallet.movement_ids.mapped("kind"), ["purchase"])
        self.assertEqual(wallet.balance, 40.0)

    def test_cancelled_invoice_gives_the_credit_back(self):
        """30.00 applied, then the invoice cancelled: +30.00 given back
        (balance 50.00), once; reset to draft, it loses its credit line."""
        wallet = self._wallet(50)
        sub = self._start()
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(wallet.balance, 50.0)
        invoice.button_draft()
        self.assertFalse(self._credit_lines(invoice))
        self.assertEqual(invoice.amount_total, 30.0)
        self.assertEqual(wallet.balance, 50.0)

    def test_low_balance_alert_once_per_crossing(self):
        """Threshold 25.00: 50.00 - 30.00 = 20.00 → one mail; April (20.00
        applied, 0.00 left) → no second mail; a grant back above the
        threshold re-arms the alert."""
        self.customer.email = "acme@example.com"
        wallet = self._wallet(50, low_balance_threshold=25)
        self._start()
        mails = self.env["mail.mail"].search

        def alerts():
            return mails(
                [
                    ("model", "=", "subscription.wallet"),
                    ("res_id", "=", wallet.id),
                    ("subject", "ilike", "running low"),
                ]
            )

        self._bill("2026-03-01")
        self.assertEqual(len(alerts()), 1)
        self.assertIn(self.customer, alerts().recipient_ids)
        self.assertTrue(wallet.low_balance_notified)
        self._bill("2026-04-01")
        self.assertEqual(len(alerts()), 1)
        wallet.grant(100)
        self.assertFalse(wallet.low_balance_notified)

    def test_bad_input_changes_nothing(self):
        wallet = self._wallet(10)
        for bad in (-5, 0, float("nan"), float("inf"), 10**13, "abc", "1.005", True):
            with self.subTest(bad=bad), self.assertRaisesRegex(UserError, "Launch"):
                wallet.grant(bad)
        self.assertEqual(len(wallet.movement_ids), 1)
        self.assertEqual(wallet.balance, 10.0)
        with self.assertRaisesRegex(UserError, "not a valid amount"):
            wallet.action_buy_credit(-1)
        sub = self._start()
        with self.assertRaisesRegex(UserError, "billed in"):
            sub.grant_wallet_credit(10, currency=self.other_currency)
        self.assertEqual(self.Wallet.search_count([]), 1)
        # A billing user buys credit, only a manager grants it.
        with self.assertRaises(AccessError):
            wallet.with_user(self.billing_user).grant(10)
        self.assertEqual(len(wallet.movement_ids), 1)

    def test_grant_through_the_subscription(self):
        """No wallet yet: one is created in the subscription's currency."""
        sub = self._start()
        movement = sub.grant_wallet_credit("12.50", "Goodwill", currency="USD")
        self.assertEqual(movement.amount, 12.5)
        self.assertEqual(sub.wallet_ids.balance, 12.5)
        self.assertEqual(sub.wallet_ids.currency_id, sub.currency_id)

    @mute_logger("odoo.sql_db")
    def test_ledger_rows_are_unique(self):
        """The database refuses a second application on one invoice."""
        from psycopg2 import IntegrityError

        wallet = self._wallet(50)
        sub = self._start()
        self._bill("2026-03-01")
        invoice = self._invoices(sub)
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            wallet._add_movement("applied", -1, invoice=invoice)
            self.env.flush_all()


@tagged("post_install", "-at_install")
class TestWalletPortal(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme = cls.env["res.partner"].create({"name": "Acme W", "is_company": True})
        cls.globex = cls.env["res.partner"].create(
            {"name": "Globex W", "is_company": True}
        )
        new_test_user(
            cls.env, login="acme_w", groups="base.group_portal", partner_id=cls.acme.id
        )
        new_test_user(
            cls.env,
            login="globex_w",
            groups="base.group_portal",
            partner_id=cls.globex.id,
        )
        wallet = cls.env["subscription.wallet"].create(
            {"name": "Acme credit", "partner_id": cls.acme.id}
        )
        wallet.grant("42.50", "Welcome")

    def test_customer_sees_own_wallet_only(self):
        self.authenticate("acme_w", "acme_w")
        page = self.url_open("/my/wallets")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Acme credit", page.text)
        self.assertIn("42.50", page.text)
        self.assertIn("Granted", page.text)
        self.authenticate("globex_w", "globex_w")
        page = self.url_open("/my/wallets")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("Acme credit", page.text)
        self.assertIn("You have no prepaid credit", page.text)


@tagged("post_install", "-at_install")
class TestWalletTopUp(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = (
            cls.env["payment.provider"]
            .sudo()
            .search([("code", "=", "demo"), ("company_id", "=", cls.env.company.id)])
        )
        cls.provider.write(
            {"state": "test", "journal_id": cls.company_data["default_journal_bank"].id}
        )
        cls.product_flat = cls._create_product(
            name="Flat plan", lst_price=30.0, type="service", taxes_id=[Command.clear()]
        )
        cls.plan_30 = cls._create_plan("Flat 30", price=30.0, product=cls.product_flat)
        cls.customer.email = "acme@example.com"

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

    def _charge(self, day):
        with (
            freeze_time(day),
            patch.object(
                type(self.env["ir.cron"]),
                "_commit_progress",
                return_value=float("inf"),
            ),
        ):
            self.env["subscription.dunning"]._cron_process()

    def test_top_up_without_payment_method_is_refused(self):
        with freeze_time("2026-03-01"):
            self._create_subscription(plan=self.plan_30).action_start()
        wallet = self.env["subscription.wallet"].create(
            {"name": "Launch", "partner_id": self.customer.id}
        )
        # assertRaises (not ...Regex) rolls the failed write back (savepoint).
        with self.assertRaises(ValidationError) as refused:
            wallet.write({"low_balance_threshold": 25, "auto_top_up_amount": 100})
        self.assertIn("needs a saved payment method", str(refused.exception))
        wallet.invalidate_recordset()
        self.assertFalse(wallet.auto_top_up_amount, "nothing written")
        with self.assertRaisesRegex(UserError, "cannot be topped up"):
            wallet.action_top_up(100)
        with self.assertRaisesRegex(ValidationError, "not a number"):
            wallet.write({"low_balance_threshold": float("nan")})
        self.assertFalse(
            self.env["account.move"].search_count(
                [("subscription_wallet_purchase_id", "=", wallet.id)]
            )
        )

    def test_automatic_top_up_charges_the_saved_card(self):
        """50.00, threshold 25.00, top-up 100.00: March's 30.00 leaves 20.00
        → a top-up invoice of 100.00 charged to the card → paid → 120.00."""
        token = self._token()
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=self.plan_30)
            sub.payment_token_id = token
            sub.action_start()
        wallet = self.env["subscription.wallet"].create(
            {
                "name": "Launch",
                "partner_id": self.customer.id,
                "low_balance_threshold": 25,
                "auto_top_up_amount": 100,
            }
        )
        wallet.grant(50)
        with freeze_time("2026-03-01"):
            self._run_billing()
        self.assertEqual(self._invoices(sub).amount_total, 0.0)
        top_up = self.env["account.move"].search(
            [("subscription_wallet_purchase_id", "=", wallet.id)]
        )
        self.assertEqual(top_up.amount_total, 100.0)
        self.assertTrue(top_up.subscription_to_charge)
        self.assertEqual(wallet.balance, 20.0)
        self._charge("2026-03-01")
        self.assertIn(top_up.payment_state, ("paid", "in_payment"))
        self.assertEqual(wallet.balance, 120.0)
        self.assertFalse(wallet.low_balance_notified, "back above the threshold")


@tagged("post_install", "-at_install")
class TestWalletUsagePolicy(UsageCommon):
    def test_usage_wallet_pays_the_usage_lines_only(self):
        """Plan: 20.00 fixed + graduated usage (0.10 a unit up to 1,000), 15 %
        tax. 500 calls in March → usage 50.00 + 7.50 tax = 57.50; fixed 20.00 +
        3.00 = 23.00; total 80.50. A usage-only wallet of 100.00 pays 57.50:
        23.00 due, 42.50 left."""
        sub = self._start()
        wallet = self.env["subscription.wallet"].create(
            {
                "name": "Usage",
                "partner_id": self.customer.id,
                "application_policy": "usage",
            }
        )
        wallet.grant(100)
        self._send(sub, [("e1", "2026-03-10 10:00:00", 500)])
        self._bill("2026-04-01")
        invoice = self._invoices(sub).filtered(
            lambda m: m.invoice_line_ids.subscription_line_id.filtered(
                lambda line: line.line_type == "usage"
            )
        )
        self.assertEqual(
            invoice.amount_total, 23.0, "April fixed 23.00 + March usage 57.50 - 57.50"
        )
        credit = invoice.invoice_line_ids.filtered("subscription_wallet_id")
        self.assertEqual(credit.price_unit, -57.5)
        self.assertEqual(wallet.balance, 42.5)
