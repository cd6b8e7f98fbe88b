# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The portal on a phone and on a desktop: the pages fit the window (no
sideways scroll), the invoice's status, PDF and Pay stay in view, dates are
written in the customer's language."""

import re

from freezegun import freeze_time
from lxml import html

from odoo.tests import tagged

from .test_portal import PortalCase


@tagged("post_install", "-at_install")
class TestPortalPhone(PortalCase):
    browser_size = "390x844"
    touch_enabled = True

    def test_portal_tour_on_a_phone(self):
        self._run_portal_tour()


@tagged("post_install", "-at_install")
class TestPortalDesktop(PortalCase):
    browser_size = "1440x900"

    def test_portal_tour_on_a_desktop(self):
        self._run_portal_tour()

    def _page(self, url):
        return html.fromstring(self.url_open(url).text)

    def test_secondary_columns_hide_on_small_screens(self):
        self.authenticate("alice", "alice")
        page = self._page(f"/my/subscriptions/{self.sub.id}")
        table = page.xpath(
            "//table[contains(@class, 'o_portal_subscription_invoices')]"
        )[0]
        headers = {
            th.text_content().strip(): th.get("class") or ""
            for th in table.xpath("./thead/tr/th")
        }
        for secondary in ("Date", "Due Date", "Amount"):
            self.assertIn("d-none d-md-table-cell", headers[secondary])
        for kept in ("Invoice", "Due", "Status", ""):
            self.assertNotIn("d-none", headers[kept])
        row = table.xpath("./tbody/tr")[0]
        self.assertEqual(len(row.xpath("./td")), len(headers))
        self.assertTrue(
            row.xpath(".//span[contains(@class, 'o_portal_invoice_status')]")
        )
        self.assertTrue(row.xpath(".//a[contains(@class, 'o_download_pdf')]"))
        self.assertTrue(row.xpath(".//a[contains(@class, 'o_portal_invoice_pay')]"))
        for cell in row.xpath("./td")[-3:]:
            self.assertNotIn("d-none", cell.get("class") or "")
        # On a phone the invoice's date moves under its number.
        self.assertEqual(
            row.xpath("./td[1]/div[contains(@class, 'd-md-none')]")[0]
            .text_content()
            .strip(),
            "05/01/2026",
        )
        lines = page.xpath("//table[contains(@class, 'o_portal_subscription_lines')]")[
            0
        ]
        unit = [
            th for th in lines.xpath("./thead/tr/th") if "Unit" in th.text_content()
        ]
        self.assertIn("d-none d-md-table-cell", unit[0].get("class"))
        listing = self._page("/my/subscriptions")
        headers = {
            th.text_content().strip(): th.get("class") or ""
            for th in listing.xpath("//thead/tr/th")
        }
        self.assertIn("d-none d-md-table-cell", headers["Plan"])
        self.assertIn("d-none d-md-table-cell", headers["Next Invoice"])
        self.assertNotIn("d-none", headers["Status"])
        # The self-service forms wrap instead of widening the page.
        for form in ("o_portal_cancel_form", "o_portal_plan_form"):
            classes = page.xpath(f"//form[contains(@class, '{form}')]")[0].get("class")
            self.assertIn("flex-wrap", classes)

    def test_period_phrase_in_the_customers_language(self):
        """The price per period reads "per month", not "/ Monthly"."""
        self.assertEqual(self.sub.plan_id._get_period_phrase(lang="en_US"), "per month")
        self.authenticate("alice", "alice")
        for url in ("/my/subscriptions", f"/my/subscriptions/{self.sub.id}"):
            page = self.url_open(url).text
            self.assertIn("per month", page)
            self.assertNotIn("/ Monthly", page)
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["subscription_billing"], ["fr_FR"], overwrite=True
        )
        (self.acme | self.alice).lang = "fr_FR"
        self.authenticate("alice", "alice")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        self.assertIn("par mois", page)
        self.assertNotIn("Mensuel", page)
        # The quantity's button is a verb ("Modifier"), not the noun of a
        # change record ("Modification").
        self.assertIn('btn-secondary">Modifier</button>', page)
        self.assertNotIn(">Modification</button>", page)

    def test_dates_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        (self.acme | self.alice).lang = "fr_FR"
        self.authenticate("alice", "alice")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.assertIn("01/05/2026", page)
        self.assertNotIn("2026-05-01", page)
        line = self.sub.line_ids.filtered(lambda line: line.quantity == 2)
        with freeze_time("2026-05-16"):
            response = self.url_open(
                f"/my/subscriptions/{self.sub.id}/change",
                data={
                    "csrf_token": token,
                    "operation": "change_quantity",
                    "line_id": line.id,
                    "quantity": 3,
                },
            )
        effective = html.fromstring(response.text).xpath(
            "//div[contains(@class, 'o_portal_change_confirm')]//dd"
        )[0]
        self.assertEqual(effective.text_content().strip(), "16/05/2026")
