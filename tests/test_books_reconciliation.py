# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Books that agree: billed, recognised, deferred and MRR of a month, and
the differences explained, as a read-only accountant sees them."""

from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import UsageCommon


@tagged("post_install", "-at_install")
class TestBooksReconciliation(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_setup = cls._create_product(
            name="Setup fee", lst_price=50.0, type="service"
        )
        (cls.product_pro | cls.product_api | cls.product_setup).taxes_id = False
        cls.plan_metered = cls._create_usage_plan(
            "Monthly metered",
            lines=[
                cls._usage_line(
                    charge_model="standard", tier_ids=[], usage_unit_price=0.10
                )
            ],
        )
        cls.plan_metered.line_ids.filtered(
            lambda line: line.line_type == "fixed"
        ).price_unit = 30.0
        cls.plan_yearly = cls._create_plan(
            "Yearly by months",
            price=1200.0,
            billing_unit="year",
            revenue_recognition="months",
        )
        cls.accountant = cls.env["res.users"].create(
            {
                "name": "Books Accountant",
                "login": "books_accountant",
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

    def _cron(self, model, method, on_date):
        with (
            freeze_time(on_date),
            patch.object(
                type(self.env["ir.cron"]),
                "_commit_progress",
                return_value=float("inf"),
            ),
        ):
            getattr(self.env[model], method)()

    def _books(self, month):
        return (
            self.env["subscription.books.reconciliation"]
            .with_user(self.accountant)
            .create({"month": month})
        )

    def test_worked_example_april(self):
        """A monthly plan 30.00 billed in advance with metered API calls
        billed in arrears (0.10 a call), from 1 March 2026; a setup fee
        50.00 added in March; a yearly plan 1,200.00 from 1 April 2026,
        recognised by months (100.00 a month).

        The 1 April invoices: 30.00 (April) + 7.50 (75 calls of March) +
        50.00 (setup fee) and 1,200.00 (April 2026 - March 2027).

        April: billed = recurring 1,230.00 + usage 7.50 + one-time 50.00 =
        1,287.50. Recognised = 30.00 + 100.00 (the yearly plan's April) +
        7.50 + 50.00 = 187.50. Deferred: 0.00 + 1,200.00 in − 100.00 out =
        1,100.00 at 30 April; 1,287.50 − 187.50 = 1,100.00. MRR at 30 April
        = 30.00 + 100.00 = 130.00; recurring recognised 130.00 − MRR 130.00
        = 0.00; + usage 7.50 + one-time 50.00 = 187.50: unexplained 0.00.
        """
        sub = self._start(self.plan_metered, start="2026-03-01")
        self._bill("2026-03-01")
        with freeze_time("2026-03-20 12:00:00"):
            self._send(sub, [("e1", "2026-03-10T08:00:00Z", 75)])
            self.env["subscription.charge"].with_user(self.billing_user).create(
                {
                    "subscription_id": sub.id,
                    "product_id": self.product_setup.id,
                    "price_unit": 50.0,
                }
            )
        self._start(self.plan_yearly, start="2026-04-01")
        self._bill("2026-04-01")
        self._cron("subscription.revenue.recognition", "_cron_recognize", "2026-04-30")
        self._cron("subscription.mrr.snapshot", "_cron_take_snapshots", "2026-05-01")

        books = self._books("2026-04-15")
        self.assertEqual(
            (
                books.billed,
                books.recognized,
                books.deferred_balance,
                books.mrr,
                books.unexplained,
            ),
            (1287.5, 187.5, 1100.0, 130.0, 0.0),
        )
        self.assertFalse(books.snapshot_missing)
        start, end = books._bounds()
        self.assertEqual(
            books._billed_by_kind(start, end),
            {"recurring": 1230.0, "usage": 7.5, "one_time": 50.0},
        )
        self.assertEqual(
            books._recognized_by_kind(start, end),
            {"recurring": 130.0, "usage": 7.5, "one_time": 50.0},
        )
        self.assertEqual(
            tuple(books._deferred_movements(start, end)),
            (0.0, 1200.0, 100.0, 1100.0),
        )
        html = str(books.books_html)
        for text in ("1,287.50", "187.50", "1,100.00", "130.00", "7.50", "50.00"):
            self.assertIn(text, html)

        march = self._books("2026-03-31")
        self.assertEqual(
            (march.billed, march.recognized, march.mrr, march.unexplained),
            (30.0, 30.0, 30.0, 0.0),
        )

    def test_missing_snapshot_and_other_company(self):
        """Without snapshots the MRR is 0.00 and says so: the recurring
        revenue shows as without MRR, nothing unexplained; a company the
        user may not see is refused."""
        self._start(self.plan_metered, start="2026-03-01")
        self._bill("2026-03-01")
        books = self._books("2026-03-01")
        self.assertTrue(books.snapshot_missing)
        self.assertEqual((books.billed, books.mrr, books.unexplained), (30.0, 0.0, 0.0))
        other = self.env["res.company"].create({"name": "Other books company"})
        with self.assertRaisesRegex(UserError, "no access to the company"):
            books = (
                self.env["subscription.books.reconciliation"]
                .with_user(self.accountant)
                .create({"month": "2026-03-01", "company_id": other.id})
            )
            self.assertFalse(books.books_html)

    def test_yearly_plan_recognised_at_once(self):
        """A yearly plan 1,200.00 recognised at once, from 1 April 2026: its
        MRR is 100.00 a month.

        April: billed and recognised 1,200.00; MRR 100.00; recurring above
        MRR 1,200.00 − 100.00 = 1,100.00; unexplained 0.00. May: nothing
        billed nor recognised; MRR 100.00, not recognised in the month
        −100.00; unexplained 0.00.
        """
        plan = self._create_plan(
            "Yearly at once",
            price=1200.0,
            billing_unit="year",
            revenue_recognition="none",
        )
        self._start(plan, start="2026-04-01")
        self._bill("2026-04-01")
        self._cron("subscription.mrr.snapshot", "_cron_take_snapshots", "2026-06-01")
        april = self._books("2026-04-01")
        self.assertEqual(
            (april.billed, april.recognized, april.mrr, april.unexplained),
            (1200.0, 1200.0, 100.0, 0.0),
        )
        start, end = april._bounds()
        self.assertEqual(
            tuple(april._mrr_differences(start, end)), (1, 100.0, 0.0, 0.0, 1100.0, 0.0)
        )
        may = self._books("2026-05-31")
        self.assertEqual(
            (may.billed, may.recognized, may.mrr, may.unexplained),
            (0.0, 0.0, 100.0, 0.0),
        )
        start, end = may._bounds()
        self.assertEqual(
            tuple(may._mrr_differences(start, end)), (1, 100.0, -100.0, 0.0, 0.0, 0.0)
        )

    def test_prorated_start(self):
        """A monthly plan 20.00 aligned on the 1st, from 11 May 2026: May is
        billed 21/31 days, R(20 × 21/31) = 13.55 (proration). MRR at 31 May
        20.00; no whole period recognised: −20.00; proration 13.55; MRR
        20.00 − 20.00 + 13.55 = 13.55 recognised: unexplained 0.00."""
        plan = self._create_plan(
            "Calendar", price=20.0, alignment="calendar", alignment_day=1
        )
        self._start(plan, start="2026-05-11")
        self._bill("2026-05-11")
        self._cron("subscription.mrr.snapshot", "_cron_take_snapshots", "2026-06-01")
        books = self._books("2026-05-01")
        start, end = books._bounds()
        self.assertEqual(books._billed_by_kind(start, end), {"proration": 13.55})
        self.assertEqual(books._recognized_by_kind(start, end), {"proration": 13.55})
        self.assertEqual(
            (books.billed, books.recognized, books.mrr, books.unexplained),
            (13.55, 13.55, 20.0, 0.0),
        )
        self.assertEqual(
            tuple(books._mrr_differences(start, end)), (1, 20.0, -20.0, 0.0, 0.0, 0.0)
        )

    def test_discount_is_in_mrr(self):
        """A monthly plan 30.00 from 1 March 2026 with a staff discount of
        10 % for 2 periods: March billed 30.00 recurring − 3.00 discount =
        27.00, recognised 27.00. The MRR is net of the discount running:
        27.00; recurring less discounts 27.00 − MRR 27.00 = 0.00;
        unexplained 0.00."""
        plan = self._create_plan("Pro 30", price=30.0)
        sub = self._start(plan, start="2026-03-01")
        with freeze_time("2026-03-01"):
            self.env["subscription.discount"].with_user(self.billing_user).create(
                {
                    "subscription_id": sub.id,
                    "value": 10.0,
                    "duration": "periods",
                    "period_count": 2,
                    "date_start": "2026-03-01",
                }
            )
        self._bill("2026-03-01")
        self._cron("subscription.mrr.snapshot", "_cron_take_snapshots", "2026-04-01")
        books = self._books("2026-03-01")
        start, end = books._bounds()
        self.assertEqual(
            books._recognized_by_kind(start, end),
            {"recurring": 30.0, "discount": -3.0},
        )
        self.assertEqual(
            (books.billed, books.recognized, books.mrr, books.unexplained),
            (27.0, 27.0, 27.0, 0.0),
        )
        self.assertEqual(
            tuple(books._mrr_differences(start, end)), (1, 27.0, 0.0, 0.0, 0.0, 0.0)
        )
