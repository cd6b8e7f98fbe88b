# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Customer documents in the customer's language: the invoice lines (the
usage computation and the service dates, once), the emails (the billing
period as a phrase), the statement (a paused subscription, credit notes)."""

import re

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import UsageCommon

NBSP = "\xa0"


def _text(html):
    """Rendered HTML with its spaces and line breaks collapsed (non-breaking
    spaces kept: they are part of the French number and date formats)."""
    if isinstance(html, bytes):
        html = html.decode()
    return re.sub(r"[ \t\r\n]+", " ", html.replace("&nbsp;", NBSP))


@tagged("post_install", "-at_install")
class TestDocuments(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            ["subscription_billing"], ["fr_FR"], overwrite=True
        )
        cls.customer_fr = cls.env["res.partner"].create(
            {"name": "Dupont SA", "is_company": True, "lang": "fr_FR"}
        )
        cls.customer.lang = "en_US"
        cls.plan_allowance = cls._create_usage_plan(
            "Allowance plan",
            lines=[
                cls._usage_line(
                    charge_model="standard",
                    tier_ids=[],
                    usage_unit_price=0.002,
                    included_units=2500,
                )
            ],
        )

    # ------------------------------------------------------------------
    # Invoice
    # ------------------------------------------------------------------

    def _usage_invoice(self, partner):
        sub = self._start(self.plan_allowance, partner=partner)
        with freeze_time("2026-03-31 12:00:00"):
            self._send(sub, [("e1", "2026-03-10T08:00:00Z", 12500)])
        self._bill("2026-04-01")
        invoice = self._invoices(sub)[-1]
        line = invoice.invoice_line_ids.filtered("subscription_usage_details")
        html = self.env["ir.actions.report"]._render_qweb_html(
            "account.account_invoices", invoice.ids
        )[0]
        return sub, invoice, line, _text(html)

    def test_french_invoice_line_in_french_once(self):
        sub, invoice, line, html = self._usage_invoice(self.customer_fr)
        expected = (
            f"API calls — 01/03/2026 → 31/03/2026{NBSP}: 12{NBSP}500 — "
            f"2{NBSP}500 inclus + 10{NBSP}000 × 0,002"
        )
        self.assertEqual(line.name, expected)
        self.assertEqual(line.price_unit, 20.0)
        self.assertEqual(html.count(expected), 1, "the computation is shown once")
        self.assertNotIn("2026-03-01", html, "no ISO date on a French invoice")
        self.assertNotIn("included", html)
        self.assertNotIn("12,500", html)
        # The allowance, in French, with French numbers.
        self.assertIn(f"Inclus{NBSP}: 2{NBSP}500,00", html)
        # The service line too: French dates.
        fixed = invoice.invoice_line_ids - line
        self.assertEqual(fixed.name, "Pro plan — 01/04/2026 → 30/04/2026")
        self.assertEqual(sub.usage_charge_ids.explanation, expected.split(" — ", 2)[2])

    def test_english_invoice_line_stays_english(self):
        __, invoice, line, html = self._usage_invoice(self.customer)
        expected = (
            "API calls — 03/01/2026 → 03/31/2026: 12,500 — "
            "2,500 included + 10,000 × 0.002"
        )
        self.assertEqual(line.name, expected)
        self.assertEqual(html.count(expected), 1)
        self.assertIn("Included: 2,500.00", html)
        self.assertNotIn("inclus ", html)

    def test_french_explanation_of_every_phrase(self):
        """The phrases of a computation (package notes, per-transaction
        notes, period minimum) are in French with French numbers."""
        from ..core import rating
        from ..tools import DocumentFormat

        fmt = DocumentFormat(self.env, "fr_FR")
        package = rating.rate(
            "package",
            2501,
            {"package_size": 1000, "package_price": "5.5", "free_units": 500},
        )
        self.assertEqual(
            fmt.explanation(package.explain_terms()),
            f"3 × 5,50 (paquets de 1{NBSP}000, 500 gratuits)",
        )
        percentage = rating.rate(
            "percentage",
            "10000",
            {"rate": "1", "fixed_fee": "0.30"},
            transactions=3,
        )
        self.assertEqual(
            fmt.explanation(percentage.explain_terms()),
            f"10{NBSP}000,00 × 1% + 3 × 0,30 (par transaction)",
        )
        english = DocumentFormat(self.env, "en_US")
        self.assertEqual(
            english.explanation(percentage.explain_terms()), percentage.explain()
        )
        self.assertEqual(
            english.explanation(package.explain_terms()), package.explain()
        )

    # ------------------------------------------------------------------
    # Emails
    # ------------------------------------------------------------------

    def _render(self, xmlid, sub, field="body_html"):
        template = self.env.ref(f"subscription_billing.{xmlid}")
        return _text(template._render_field(field, sub.ids, compute_lang=True)[sub.id])

    def test_email_period_phrases_in_both_languages(self):
        cases = [
            ("month", 1, "per month", "par mois"),
            ("month", 3, "every 3 months", "tous les 3 mois"),
            ("year", 1, "per year", "par an"),
            ("week", 2, "every 2 weeks", "toutes les 2 semaines"),
        ]
        for unit, interval, english, french in cases:
            plan = self._create_plan(
                f"Plan {interval} {unit}",
                price=49.0,
                billing_unit=unit,
                billing_interval=interval,
            )
            for partner, phrase, amount, taxes in (
                (self.customer, english, f"${NBSP}49.00", "(before taxes)"),
                (self.customer_fr, french, f"${NBSP}49,00", "(hors taxes)"),
            ):
                with self.subTest(plan=plan.name, lang=partner.lang):
                    with freeze_time("2026-05-01"):
                        sub = self._create_subscription(
                            plan=plan, partner=partner, start="2026-05-01"
                        )
                    self.assertEqual(sub._get_period_phrase(), phrase)
                    body = self._render("mail_template_welcome", sub)
                    self.assertIn(f"{amount} {phrase} {taxes}", body)
                    self.assertNotIn("Monthly", body)
                    self.assertNotIn("Mensuel", body)

    def test_every_template_renders_in_french_with_french_dates(self):
        plan = self._create_plan(
            "Yearly term",
            price=49.0,
            term_type="fixed",
            term_interval=12,
            term_unit="month",
            auto_renew=True,
            trial_interval=14,
            trial_unit="day",
            trial_conversion="automatic",
        )
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(
                plan=plan, partner=self.customer_fr, start="2026-05-01"
            )
            sub.action_start()
        self.assertTrue(sub.date_end and sub.trial_end_date)
        expected = {
            "mail_template_welcome": (sub.date_start, "par mois"),
            "mail_template_trial_ending": (sub.trial_end_date, "par mois"),
            "mail_template_renewal_upcoming": (sub._next_renewal_date(), "par mois"),
            "mail_template_cancellation_confirmed": (sub.date_end, "Bonjour"),
        }
        for xmlid, (day, phrase) in expected.items():
            with self.subTest(template=xmlid):
                day = day.strftime("%d/%m/%Y")
                body = self._render(xmlid, sub)
                self.assertIn("Bonjour", body)
                self.assertIn(day, body)
                self.assertIn(phrase, body)
                self.assertNotRegex(body, r"\d{4}-\d{2}-\d{2}", "no ISO date")
                subject = self._render(xmlid, sub, "subject")
                self.assertNotRegex(subject, r"\d{4}-\d{2}-\d{2}")
        self.assertIn(
            sub._next_renewal_date().strftime("%d/%m/%Y"),
            self._render("mail_template_renewal_upcoming", sub, "subject"),
        )

    # ------------------------------------------------------------------
    # Statement
    # ------------------------------------------------------------------

    def _statement(self, sub):
        return _text(
            self.env["ir.actions.report"]._render_qweb_html(
                "subscription_billing.action_report_subscription_statement", sub.ids
            )[0]
        )

    def test_statement_of_paused_subscription_lists_its_lines(self):
        plan = self._create_plan("Pausable", price=30.0)
        plan.line_ids = [
            Command.create(
                {"product_id": self.product_seat.id, "quantity": 2, "price_unit": 5}
            )
        ]
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan, start="2026-03-01")
            sub.action_start()
            self._run_billing()
        with freeze_time("2026-03-10"):
            sub.pause(date="2026-03-10")
            self.assertEqual(sub.state, "paused")
            self.assertFalse(sub.line_ids.filtered("is_current"))
            self.assertEqual(
                sub._statement_lines().mapped("name"), ["Pro plan", "Extra seat"]
            )
            html = self._statement(sub)
        self.assertIn("Pro plan", html)
        self.assertIn("Extra seat", html)
        self.assertIn("Paused", html)
        invoice = sub.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        refund = sub.invoice_ids - invoice
        self.assertIn(invoice.name, html)
        # The pause credits the unused days: a credit note, not a payment.
        self.assertEqual(refund.move_type, "out_refund")
        rows = {row["document"]: row for row in sub._statement_rows()}
        self.assertEqual(rows[refund.name]["credited"], -refund.amount_total)
        self.assertEqual(rows[refund.name]["paid"], 0.0)
        self.assertEqual(
            sub._statement_balance(),
            invoice.currency_id.round(invoice.amount_total - refund.amount_total),
        )

    def test_credit_note_listed_as_credit_note_with_right_balance(self):
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(start="2026-03-01")
            sub.action_start()
            self._run_billing()
        invoice = sub.invoice_ids
        total = invoice.amount_total
        self.assertTrue(total)
        with freeze_time("2026-03-05"):
            wizard = (
                self.env["account.move.reversal"]
                .with_context(active_model="account.move", active_ids=invoice.ids)
                .create({"journal_id": invoice.journal_id.id, "date": "2026-03-05"})
            )
            wizard.refund_moves()
            credit_note = invoice.reversal_move_ids
            credit_note.invoice_line_ids.price_unit = 5.0
            credit_note.action_post()
            (invoice | credit_note).line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            ).reconcile()
        credit = credit_note.amount_total
        self.assertTrue(0 < credit < total)
        rest = invoice.currency_id.round(total - credit)
        self.assertEqual(invoice.amount_residual, rest)
        sub.invalidate_recordset()
        rows = sub._statement_rows()
        self.assertEqual(
            [
                (row["document"], row["invoiced"], row["credited"], row["paid"])
                for row in rows
            ],
            [(invoice.name, total, 0.0, 0.0), (credit_note.name, 0.0, -credit, 0.0)],
            "the credit note once, as a credit note, never as a payment",
        )
        self.assertEqual([row["balance"] for row in rows], [total, rest])
        self.assertEqual(sub._statement_balance(), rest)
        html = self._statement(sub)
        self.assertIn("Credit Notes", html)
        self.assertEqual(html.count(credit_note.name), 1)
        # (Odoo writes a zero-width no-break space after a minus sign.)
        self.assertIn(
            f"-{credit:.2f}", html.replace("\ufeff", ""), "a credit note is negative"
        )
        # Paid: the rest, by a payment.
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": "2026-03-20"})._create_payments()
        sub.invalidate_recordset()
        rows = sub._statement_rows()
        self.assertEqual(rows[-1]["paid"], rest)
        self.assertEqual(rows[-1]["balance"], 0.0)
        self.assertEqual(sub._statement_balance(), 0.0)
