# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Deferred revenue: deferral at posting, month-end recognition, credit
notes, lock dates, multi-currency, the schedule beside the ledger."""

import threading
from contextlib import contextmanager
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command, fields, sql_db
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CommittedCase, SubscriptionCommon, committed_env, db_name


@tagged("post_install", "-at_install")
class TestRevenueRecognition(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.income = cls.company_data["default_account_revenue"]
        cls.plan_days = cls._create_plan(
            "Two months by days",
            price=120.0,
            billing_interval=2,
            revenue_recognition="days",
        )
        cls.product_pro.taxes_id = False
        cls.plan_months = cls._create_plan(
            "Two months by months",
            price=120.0,
            billing_interval=2,
            revenue_recognition="months",
        )
        cls.accountant = cls.env["res.users"].create(
            {
                "name": "Accountant",
                "login": "deferred_accountant",
                "group_ids": [
                    Command.set(
                        [
                            cls.env.ref("account.group_account_readonly").id,
                            cls.env.ref("base.group_user").id,
                        ]
                    )
                ],
                "company_id": cls.env.company.id,
                "company_ids": [Command.set(cls.env.company.ids)],
            }
        )

    # === HELPERS === #

    def _recognize(self, on_date):
        with (
            freeze_time(on_date),
            patch.object(
                type(self.env["ir.cron"]),
                "_commit_progress",
                return_value=float("inf"),
            ),
        ):
            self.env["subscription.revenue.recognition"]._cron_recognize()

    def _billed(self, plan, start="2026-01-15"):
        """A subscription of ``plan`` started on ``start``, first invoice posted."""
        with freeze_time(start):
            sub = self._create_subscription(plan=plan, start=start)
            sub.action_start()
            self._run_billing()
        return sub, self._invoices(sub)

    def _deferred(self):
        return self.env.company._subscription_deferred_account()

    def _balance(self, account, up_to="2099-12-31"):
        lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", account.id),
                ("parent_state", "=", "posted"),
                ("date", "<=", up_to),
            ]
        )
        return round(sum(lines.mapped("balance")), 2)

    def _rows(self, invoice):
        return [
            (str(r.month), str(r.date), r.amount, r.state)
            for r in invoice.subscription_recognition_ids.sorted("month")
        ]

    # === ACCEPTANCE: THE WORKED EXAMPLES === #

    def test_three_months_by_days(self):
        """120.00 for 15 Jan - 14 Mar 2026 (59 days: 17 + 28 + 14), by days.

        January R(120 × 17/59) = 34.58; through February R(120 × 45/59) =
        91.53, so February 56.95; March 120.00 − 91.53 = 28.47. The invoice
        credits Deferred Revenue 120.00; each month end: Dr Deferred Revenue
        / Cr Income, 34.58 on 31 Jan, 56.95 on 28 Feb, 28.47 on 31 Mar.
        """
        sub, invoice = self._billed(self.plan_days)
        line = invoice.invoice_line_ids
        self.assertEqual(
            (str(line.subscription_period_start), str(line.subscription_period_end)),
            ("2026-01-15", "2026-03-14"),
        )
        deferred = self._deferred()
        self.assertEqual(deferred.account_type, "liability_current")
        self.assertEqual(line.account_id, deferred)
        self.assertEqual(line.subscription_income_account_id, self.income)
        self.assertEqual(
            self._rows(invoice),
            [
                ("2026-01-01", "2026-01-31", 34.58, "planned"),
                ("2026-02-01", "2026-02-28", 56.95, "planned"),
                ("2026-03-01", "2026-03-31", 28.47, "planned"),
            ],
        )
        self.assertEqual(self._balance(deferred), -120.0)
        self.assertEqual(self._balance(self.income), 0.0)

        self._recognize("2026-01-30")
        self.assertEqual(self._balance(self.income), 0.0, "January not ended")
        self._recognize("2026-01-31")
        entry = invoice.subscription_recognition_ids[:1].recognition_move_id
        self.assertEqual(entry.state, "posted")
        self.assertEqual(str(entry.date), "2026-01-31")
        self.assertEqual(entry.ref, "Revenue recognition January 2026")
        self.assertEqual(
            sorted((ml.account_id, ml.balance) for ml in entry.line_ids),
            sorted([(deferred, 34.58), (self.income, -34.58)]),
        )
        self.assertEqual(self._balance(self.income), -34.58)

        # Idempotent: the same month end again posts nothing more.
        moves_before = self.env["account.move"].search_count([])
        self._recognize("2026-01-31")
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)

        self._recognize("2026-04-02")
        self.assertEqual(
            [r[3] for r in self._rows(invoice)], ["posted"] * 3, "all recognised"
        )
        self.assertEqual(
            invoice.subscription_recognition_ids.recognition_move_id.mapped("date"),
            [self._date(d) for d in ("2026-01-31", "2026-02-28", "2026-03-31")],
        )
        self.assertEqual(self._balance(deferred), 0.0)
        self.assertEqual(self._balance(self.income), -120.0)
        self.assertEqual(self._balance(self.income, "2026-02-28"), -91.53)

    def test_three_months_by_equal_months(self):
        """Same invoice, by equal months: weights January 17/31, February 1,
        March 14/31 (2 in all). January R(120 × 17/62) = 32.90; through
        February R(120 × 48/62) = 92.90, so February 60.00; March 27.10."""
        __, invoice = self._billed(self.plan_months)
        self.assertEqual([r[2] for r in self._rows(invoice)], [32.90, 60.00, 27.10])
        self._recognize("2026-03-31")
        self.assertEqual(self._balance(self._deferred()), 0.0)
        self.assertEqual(self._balance(self.income, "2026-02-28"), -92.90)

    def test_a_plan_that_opts_out_defers_nothing(self):
        """The monthly plan (recognition at once) and a month billed in
        advance: the invoice stays on income, no row."""
        __, invoice = self._billed(self.plan_monthly, start="2026-03-01")
        self.assertEqual(invoice.invoice_line_ids.account_id, self.income)
        self.assertFalse(invoice.subscription_recognition_ids)
        # A product override on an opted-out plan: a monthly period in one
        # month still has nothing to defer.
        self.product_pro.subscription_revenue_recognition = "days"
        __, invoice = self._billed(self.plan_monthly, start="2026-03-01")
        self.assertFalse(invoice.subscription_recognition_ids)
        # The product opts out of a deferring plan.
        self.product_pro.subscription_revenue_recognition = "none"
        __, invoice = self._billed(self.plan_days)
        self.assertEqual(invoice.invoice_line_ids.account_id, self.income)
        self.assertFalse(invoice.subscription_recognition_ids)

    def test_yearly_plan_downgraded_mid_term(self):
        """Yearly plan, 1,200.00 for 2026, by days; downgraded on 1 July to a
        600.00 plan, credited at once.

        Earned to 30 June: R(1,200 × 181/365) = R(595.068) = 595.07; not yet
        recognised (July - December): 1,200.00 − 595.07 = 604.93, which is
        the credit of the old line (its 184 days). The new plan's 184 days
        are charged R(600) − R(600 × 181/365) = 600.00 − 297.53 = 302.47;
        net credit note 302.46. The credit mirrors the old line's July -
        December rows: each month nets to zero, and the income of the year
        is 595.07 + 302.47 = 897.54, with nothing left deferred; to 31 July
        595.07 + R(302.47 × 31/184) = 595.07 + 50.96 = 646.03.
        """
        yearly = self._create_plan(
            "Yearly", price=1200.0, billing_unit="year", revenue_recognition="days"
        )
        yearly.downgrade_policy = "immediate"
        small = self._create_plan(
            "Yearly small",
            price=600.0,
            billing_unit="year",
            revenue_recognition="days",
        )
        sub, invoice = self._billed(yearly, start="2026-01-01")
        self.assertEqual(len(invoice.subscription_recognition_ids), 12)
        self._recognize("2026-06-30")
        self.assertEqual(self._balance(self.income), -595.07)
        with freeze_time("2026-07-01"):
            result = sub.change_plan(small.id, policy="immediate")
        self.assertEqual((result["credit"], result["charge"]), (-604.93, 302.47))
        refund = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(refund.reversed_entry_id, invoice)
        self.assertEqual(refund.amount_untaxed, 302.46)
        credit = refund.invoice_line_ids.filtered(lambda line: line.balance > 0)
        self.assertEqual(credit.account_id, self._deferred())
        original = {
            r.month: r.amount
            for r in invoice.subscription_recognition_ids
            if r.state == "planned"
        }
        mirrored = {r.month: r.amount for r in credit.subscription_recognition_ids}
        self.assertEqual(mirrored, {m: -a for m, a in original.items()})
        self.assertEqual(round(sum(mirrored.values()), 2), -604.93)
        self._recognize("2027-01-01")
        self.assertEqual(self._balance(self._deferred()), 0.0)
        self.assertEqual(self._balance(self.income), -897.54)
        self.assertEqual(self._balance(self.income, "2026-07-31"), -646.03)

    def test_a_locked_month_goes_to_the_first_open_month(self):
        """January is locked (31 Jan) before its entry is posted: its 34.58
        is posted with February's 56.95 on 28 Feb (91.53), and the entry
        says so."""
        __, invoice = self._billed(self.plan_days)
        self.env.company.fiscalyear_lock_date = "2026-01-31"
        self._recognize("2026-02-28")
        rows = invoice.subscription_recognition_ids.sorted("month")
        entry = rows[0].recognition_move_id
        self.assertEqual(rows[1].recognition_move_id, entry, "one entry")
        self.assertEqual(str(entry.date), "2026-02-28")
        self.assertEqual(
            entry.ref,
            "Revenue recognition February 2026 (includes locked month(s) January 2026)",
        )
        self.assertEqual(self._balance(self.income, "2026-01-31"), 0.0)
        self.assertEqual(self._balance(self.income), -91.53)
        self.assertEqual(str(rows[0].date), "2026-02-28")

    def test_a_reversed_invoice_reverses_its_recognition(self):
        """January recognised (34.58), the invoice reversed on 10 Feb: the
        credit note debits Deferred Revenue 120.00, January's 34.58 is taken
        back from income on 10 Feb, and February and March net to zero with
        the credit's rows: income 0.00, deferred 0.00."""
        __, invoice = self._billed(self.plan_days)
        self._recognize("2026-01-31")
        with freeze_time("2026-02-10"):
            refund = invoice._reverse_moves(
                [
                    {
                        "date": fields.Date.to_date("2026-02-10"),
                        "invoice_date": "2026-02-10",
                    }
                ],
                cancel=True,
            )
        self.assertEqual(refund.state, "posted")
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertEqual(
            self._rows(refund),
            [
                ("2026-01-01", "2026-02-10", -34.58, "posted"),
                ("2026-02-01", "2026-02-28", -56.95, "planned"),
                ("2026-03-01", "2026-03-31", -28.47, "planned"),
            ],
        )
        self.assertEqual(self._balance(self.income), 0.0)
        self.assertEqual(self._balance(self._deferred()), 0.0)
        moves_before = self.env["account.move"].search_count([])
        self._recognize("2026-03-31")
        self.assertEqual(
            self.env["account.move"].search_count([]),
            moves_before,
            "February and March net to zero: no entry",
        )
        self.assertEqual(self._balance(self.income), 0.0)
        self.assertEqual(self._balance(self._deferred()), 0.0)
        with self.assertRaises(UserError):
            invoice.button_draft()

    # === SETTINGS, ANALYTIC, CURRENCY, REPORT === #

    def test_all_at_once_and_analytic(self):
        """Company setting "all at once": the three entries are posted with
        the invoice, each at its month end; they carry the line's analytic
        distribution on both lines."""
        self.env.company.subscription_recognition_mode = "on_post"
        analytic_plan = self.env["account.analytic.plan"].create({"name": "Teams"})
        analytic = self.env["account.analytic.account"].create(
            {"name": "Team A", "plan_id": analytic_plan.id}
        )
        with freeze_time("2026-01-15"):
            sub = self._create_subscription(plan=self.plan_days, start="2026-01-15")
            sub.action_start()
            sub.plan_id.invoice_policy = "draft"
            self._run_billing()
        invoice = self._invoices(sub)
        invoice.invoice_line_ids.analytic_distribution = {str(analytic.id): 100}
        invoice.action_post()
        entries = invoice.subscription_recognition_ids.recognition_move_id
        self.assertEqual(
            entries.mapped("date"),
            [self._date(d) for d in ("2026-01-31", "2026-02-28", "2026-03-31")],
        )
        self.assertTrue(all(e.state == "posted" for e in entries))
        for line in entries.line_ids:
            self.assertEqual(line.analytic_distribution, {str(analytic.id): 100})
        self.assertEqual(self._balance(self.income), -120.0)

    def test_foreign_currency_splits_the_company_balance(self):
        """An invoice of 120.00 EUR at 3 EUR per USD: 40.00 USD. Balance by
        days: R(40 × 17/59) = 11.53, through February R(40 × 45/59) = 30.51
        (18.98), March 9.49; in EUR 34.58, 56.95, 28.47 as above. No exchange
        difference: each entry says both amounts."""
        eur = self.setup_other_currency("EUR", rates=[("2026-01-01", 3.0)])
        with freeze_time("2026-01-15"):
            sub = self._create_subscription(plan=self.plan_days, start="2026-01-15")
            sub.action_start()
            invoice = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": "2026-01-15",
                    "currency_id": eur.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.product_pro.id,
                                "quantity": 1,
                                "price_unit": 120.0,
                                "tax_ids": [],
                                "subscription_id": sub.id,
                                "subscription_period_start": "2026-01-15",
                                "subscription_period_end": "2026-03-14",
                            }
                        )
                    ],
                }
            )
            invoice.action_post()
        self.assertEqual(invoice.invoice_line_ids.balance, -40.0)
        rows = invoice.subscription_recognition_ids.sorted("month")
        self.assertEqual(rows.mapped("amount"), [11.53, 18.98, 9.49])
        self.assertEqual(rows.mapped("amount_currency"), [34.58, 56.95, 28.47])
        exchange = self.env.company.currency_exchange_journal_id
        Move = self.env["account.move"]
        before = Move.search_count([("journal_id", "=", exchange.id)])
        self._recognize("2026-03-31")
        entry = rows[1].recognition_move_id
        deferred_line = entry.line_ids.filtered(lambda ml: ml.balance > 0)
        self.assertEqual(
            (deferred_line.balance, deferred_line.amount_currency),
            (18.98, 56.95),
        )
        self.assertEqual(deferred_line.currency_id, eur)
        self.assertEqual(
            entry.line_ids.mapped("amount_currency"),
            [56.95, -56.95],
        )
        self.assertEqual(
            self.env["account.move"].search_count([("journal_id", "=", exchange.id)]),
            before,
        )
        self.assertEqual(self._balance(self._deferred()), 0.0)

    def test_schedule_agrees_with_the_ledger(self):
        """At 15 Feb: January recognised (34.58), 85.42 still deferred, in the
        schedule and in the ledger; the accountant reads it."""
        __, invoice = self._billed(self.plan_days)
        self._recognize("2026-02-15")
        wizard = (
            self.env["subscription.revenue.schedule.wizard"]
            .with_user(self.accountant)
            .create({"date": "2026-02-15"})
        )
        self.assertEqual(wizard.ledger_balance, 85.42)
        self.assertEqual(wizard.schedule_balance, 85.42)
        self.assertEqual(wizard.difference, 0.0)
        self.assertEqual(wizard.recognized_total, 34.58)
        self.assertIn("January 2026", wizard.months_html)
        rows = (
            self.env["subscription.revenue.recognition"]
            .with_user(self.accountant)
            ._read_group([], ["plan_id", "state"], ["amount:sum"])
        )
        self.assertEqual(
            sorted((plan.name, state, amount) for plan, state, amount in rows),
            [
                ("Two months by days", "planned", 85.42),
                ("Two months by days", "posted", 34.58),
            ],
        )
        action = wizard.action_open_schedule()
        self.assertEqual(action["res_model"], "subscription.revenue.recognition")

    def test_one_row_per_line_and_month(self):
        __, invoice = self._billed(self.plan_days)
        row = invoice.subscription_recognition_ids[:1]
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                row.sudo().copy()

    def test_draft_with_planned_rows_only(self):
        """Reset to draft before any recognition: the rows go, the line stays
        on deferred revenue and is planned again when posted again."""
        __, invoice = self._billed(self.plan_days)
        invoice.button_draft()
        self.assertFalse(invoice.subscription_recognition_ids)
        invoice.action_post()
        self.assertEqual(len(invoice.subscription_recognition_ids), 3)
        self.assertEqual(invoice.invoice_line_ids.account_id, self._deferred())

    def _income_of(self, moves, account):
        """Income of ``moves`` and of their recognition entries on ``account``."""
        lines = (
            moves.line_ids
            | moves.subscription_recognition_ids.recognition_move_id.line_ids
        )
        return round(
            sum(line.balance for line in lines if line.account_id == account), 2
        )

    def _cancel_yearly(self, day):
        """A yearly 1,200.00 plan for 2026 by days, recognised to March,
        cancelled at once with credit on ``day``; returns (invoice, refund)."""
        product = self._create_product(
            name=f"Yearly {day}", lst_price=1200.0, type="service"
        )
        product.taxes_id = False
        yearly = self._create_plan(
            f"Yearly {day}",
            price=1200.0,
            product=product,
            billing_unit="year",
            revenue_recognition="days",
        )
        sub, invoice = self._billed(yearly, start="2026-01-01")
        self._recognize("2026-03-31")
        with freeze_time(day):
            result = sub.cancel(policy="immediate")
        refund = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(result["credit"], -refund.amount_untaxed)
        return invoice, refund

    def test_cancellation_on_a_month_start_mirrors_the_shares_left(self):
        """Yearly 1,200.00 for 2026 by days, cancelled on 1 April: earned
        R(1,200 × 90/365) = R(295.890) = 295.89; credit 1,200.00 − 295.89 =
        904.11, exactly the April - December shares, which it mirrors."""
        invoice, refund = self._cancel_yearly("2026-04-01")
        self.assertEqual(refund.amount_untaxed, 904.11)
        left = invoice.subscription_recognition_ids.filtered(
            lambda r: r.state == "planned"
        )
        self.assertEqual(
            [(r.month, -r.amount) for r in left.sorted("month")],
            [
                (r.month, r.amount)
                for r in refund.subscription_recognition_ids.sorted("month")
            ],
        )
        self._recognize("2027-01-01")
        self.assertEqual(self._income_of(invoice | refund, self.income), -295.89)
        self.assertEqual(self._balance(self._deferred()), 0.0)

    def test_cancellation_mid_month_spreads_the_credit_over_its_days(self):
        """Cancelled on 16 April: earned R(1,200 × 105/365) = R(345.205) =
        345.21, credit 854.79 spread over its own 260 days by days (April
        R(854.79 × 15/260) = 49.31 of April's 98.63); at the year end income
        is 345.21 and nothing is left deferred."""
        invoice, refund = self._cancel_yearly("2026-04-16")
        self.assertEqual(refund.amount_untaxed, 854.79)
        rows = refund.subscription_recognition_ids.sorted("month")
        self.assertEqual(rows[0].amount, -49.31)
        self.assertEqual(round(sum(rows.mapped("amount")), 2), -854.79)
        self._recognize("2027-01-01")
        self.assertEqual(self._income_of(invoice | refund, self.income), -345.21)
        self.assertEqual(self._balance(self._deferred()), 0.0)

    def test_each_company_recognises_its_own(self):
        """A second company's invoice goes to its own deferred account and
        journal; a user of the first company does not see its schedule."""
        company_2 = self.setup_other_company(name="Deferred Co 2")["company"]
        env2 = self.env(
            context=dict(self.env.context, allowed_company_ids=[company_2.id])
        )
        product = self._create_product(
            name="Co 2 service",
            lst_price=120.0,
            type="service",
            company_id=company_2.id,
        )
        product.taxes_id = False
        with freeze_time("2026-01-15"):
            plan = env2["subscription.plan"].create(
                {
                    "name": "Co 2 plan",
                    "company_id": company_2.id,
                    "billing_interval": 2,
                    "billing_unit": "month",
                    "invoice_policy": "post",
                    "revenue_recognition": "days",
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": 1,
                                "price_unit": 120.0,
                            }
                        )
                    ],
                }
            )
            sub = env2["subscription.subscription"].create(
                {
                    "partner_id": self.customer.id,
                    "plan_id": plan.id,
                    "date_start": "2026-01-15",
                    "company_id": company_2.id,
                }
            )
            sub.action_start()
            self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(invoice.company_id, company_2)
        deferred_2 = company_2.subscription_deferred_account_id
        self.assertEqual(invoice.invoice_line_ids.account_id, deferred_2)
        self.assertNotEqual(
            deferred_2, self.env.company.subscription_deferred_account_id
        )
        self._recognize("2026-01-31")
        entry = invoice.subscription_recognition_ids.recognition_move_id
        self.assertEqual(entry.company_id, company_2)
        self.assertEqual(entry.journal_id.company_id, company_2)
        self.assertEqual(entry.amount_total, 34.58)
        Rows = self.env["subscription.revenue.recognition"].with_user(self.billing_user)
        self.assertFalse(Rows.search([("company_id", "=", company_2.id)]))


# === SEVERAL WORKERS (committed transactions) === #


@contextmanager
def _deferred_invoices(count=12):
    """``count`` posted invoices of one 120.00 line over 15 Jan - 14 Mar 2026,
    by days, committed; removed afterwards."""
    with committed_env() as env:
        product = env["product.product"].create(
            {"name": "Concurrent deferred", "type": "service", "taxes_id": False}
        )
        plan = env["subscription.plan"].create(
            {
                "name": "Concurrent deferred",
                "billing_interval": 2,
                "revenue_recognition": "days",
                "line_ids": [Command.create({"product_id": product.id})],
            }
        )
        partner = env["res.partner"].create({"name": "Concurrent deferred"})
        sub = env["subscription.subscription"].create(
            {"partner_id": partner.id, "plan_id": plan.id, "date_start": "2026-01-15"}
        )
        invoices = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": "2026-01-15",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "price_unit": 120.0,
                                "tax_ids": [],
                                "subscription_id": sub.id,
                                "subscription_period_start": "2026-01-15",
                                "subscription_period_end": "2026-03-14",
                            }
                        )
                    ],
                }
                for __ in range(count)
            ]
        )
        invoices.action_post()
        ids = {
            "invoices": invoices.ids,
            "sub": sub.id,
            "plan": plan.id,
            "product": product.id,
            "partner": partner.id,
        }
    try:
        yield ids
    finally:
        with committed_env() as env:
            invoices = env["account.move"].browse(ids["invoices"])
            rows = invoices.subscription_recognition_ids
            entries = rows.recognition_move_id
            rows.unlink()
            (entries | invoices).button_draft()
            (entries | invoices).with_context(force_delete=True).unlink()
            env["subscription.subscription"].browse(ids["sub"]).unlink()
            env["subscription.plan"].browse(ids["plan"]).unlink()
            env["product.product"].browse(ids["product"]).unlink()
            env["res.partner"].browse(ids["partner"]).unlink()


def _assert_recognised_once(invoice_ids):
    with committed_env() as env:
        rows = env["account.move"].browse(invoice_ids).subscription_recognition_ids
        assert len(rows) == 3 * len(invoice_ids)
        assert set(rows.mapped("state")) == {"posted"}
        entries = rows.recognition_move_id
        income = sum(
            line.balance
            for line in entries.line_ids
            if line.account_id == rows.account_id
        )
        assert round(income, 2) == -120.0 * len(invoice_ids), income


@tagged("post_install", "-at_install")
class TestConcurrentRecognition(CommittedCase):
    def setUp(self):
        super().setUp()
        self.invoices = self.enterContext(_deferred_invoices())

    def test_two_workers_recognise_each_share_once(self):
        barrier = threading.Barrier(2)
        errors = []

        def worker():
            try:
                with committed_env() as env:
                    barrier.wait(timeout=30)
                    env["subscription.revenue.recognition"]._recognize_due(
                        date(2026, 3, 31), batch_size=5, commit=True
                    )
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=worker) for __ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not errors, errors
        _assert_recognised_once(self.invoices["invoices"])

    def test_held_rows_are_skipped_then_recognised(self):
        """A worker skips the rows another one holds, and posts them later."""
        held = self.invoices["invoices"][:3]
        with sql_db.db_connect(db_name()).cursor() as holder:
            holder.execute(
                "SELECT r.id FROM subscription_revenue_recognition r"
                " JOIN account_move_line l ON l.id = r.move_line_id"
                " WHERE l.move_id = ANY(%s) FOR UPDATE",
                [held],
            )
            with committed_env() as env:
                env["subscription.revenue.recognition"]._recognize_due(
                    date(2026, 3, 31), batch_size=7, commit=True
                )
                left = env["subscription.revenue.recognition"].search_count(
                    [
                        ("invoice_id", "in", self.invoices["invoices"]),
                        ("state", "=", "planned"),
                    ]
                )
                assert left == 9, left
            holder.rollback()
        with committed_env() as env:
            env["subscription.revenue.recognition"]._recognize_due(
                date(2026, 3, 31), batch_size=7, commit=True
            )
        _assert_recognised_once(self.invoices["invoices"])
