# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The customer's subscriptions in the portal: pages and access."""

from freezegun import freeze_time

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestSubscriptionPortal(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        income = company.income_account_id or cls.env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        product = cls.env["product.product"].create(
            {
                "name": "Portal Pro",
                "type": "service",
                "lst_price": 30.0,
                "property_account_income_id": income.id,
                "taxes_id": [Command.clear()],
            }
        )
        cls.plan = cls.env["subscription.plan"].create(
            {
                "name": "Portal plan",
                "invoice_policy": "post",
                "line_ids": [
                    Command.create(
                        {"product_id": product.id, "quantity": 2, "price_unit": 15.0}
                    )
                ],
            }
        )
        cls.acme = cls.env["res.partner"].create(
            {"name": "Acme Portal", "is_company": True, "email": "acme@example.com"}
        )
        cls.alice = cls.env["res.partner"].create(
            {"name": "Alice", "parent_id": cls.acme.id, "email": "alice@example.com"}
        )
        cls.bob = cls.env["res.partner"].create(
            {"name": "Bob", "parent_id": cls.acme.id, "email": "bob@example.com"}
        )
        cls.globex = cls.env["res.partner"].create(
            {"name": "Globex Portal", "is_company": True, "email": "gx@example.com"}
        )
        for login, partner in (("alice", cls.alice), ("bob", cls.bob)):
            new_test_user(
                cls.env, login=login, groups="base.group_portal", partner_id=partner.id
            )
        new_test_user(
            cls.env,
            login="globex",
            groups="base.group_portal",
            partner_id=cls.globex.id,
        )
        with freeze_time("2026-05-01"):
            cls.sub = cls.env["subscription.subscription"].create(
                {
                    "partner_id": cls.alice.id,
                    "plan_id": cls.plan.id,
                    "date_start": "2026-05-01",
                }
            )
            cls.sub.action_start()
            cls.env["subscription.subscription"]._generate_due_invoices("2026-05-01")
            cls.other = cls.env["subscription.subscription"].create(
                {
                    "partner_id": cls.globex.id,
                    "plan_id": cls.plan.id,
                    "date_start": "2026-05-01",
                }
            )
            cls.other.action_start()
            cls.draft = cls.env["subscription.subscription"].create(
                {
                    "partner_id": cls.alice.id,
                    "plan_id": cls.plan.id,
                    "date_start": "2026-06-01",
                }
            )

    def _get(self, url):
        return self.url_open(url, allow_redirects=False)

    def test_list_and_page_of_the_customers_company(self):
        self.authenticate("bob", "bob")  # a colleague of the subscriber
        response = self._get("/my/subscriptions")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.sub.name, response.text)
        self.assertNotIn(self.other.name, response.text)
        self.assertNotIn(self.draft.name, response.text)
        response = self._get("/my/subscriptions?filterby=closed&sortby=name")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(self.sub.name, response.text)
        response = self._get(f"/my/subscriptions/{self.sub.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Portal plan", page)
        invoice = self.sub.invoice_ids
        self.assertEqual(invoice.amount_total, 30.0)
        self.assertIn(invoice.name, page)
        self.assertIn("report_type=pdf", page)
        self.assertIn("/my/payment_method", page)
        self.assertIn("o_portal_subscription_history", page)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["subscription_count"]}
        )
        self.assertEqual(counters["subscription_count"], 1)

    def test_another_customer_gets_403_or_404(self):
        self.authenticate("globex", "globex")
        self.assertEqual(self._get(f"/my/subscriptions/{self.sub.id}").status_code, 403)
        self.assertEqual(
            self._get(f"/my/subscriptions/{self.draft.id}").status_code, 403
        )
        self.assertEqual(self._get("/my/subscriptions/999999").status_code, 404)
        response = self._get("/my/subscriptions")
        self.assertNotIn(self.sub.name, response.text)
        self.assertIn(self.other.name, response.text)
        # A tampered token does not open the page either.
        url = f"/my/subscriptions/{self.sub.id}?access_token=tampered"
        self.assertEqual(self._get(url).status_code, 403)

    def test_shared_link_opens_one_subscription(self):
        self.authenticate(None, None)
        url = self.sub.get_portal_url()
        self.assertIn("access_token=", url)
        response = self._get(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.sub.name, response.text)
        other = (
            f"/my/subscriptions/{self.other.id}?access_token={self.sub.access_token}"
        )
        self.assertEqual(self._get(other).status_code, 403)
        self.assertEqual(self._get("/my/subscriptions").status_code, 303)

    def test_draft_subscription_is_not_found(self):
        self.authenticate("alice", "alice")
        self.assertEqual(
            self._get(f"/my/subscriptions/{self.draft.id}").status_code, 404
        )

    def test_invoice_and_portal_page_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["subscription_billing"], ["fr_FR"], overwrite=True
        )
        (self.acme | self.alice | self.bob).lang = "fr_FR"
        invoice = self.sub.invoice_ids
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.report_invoice", invoice.ids)[0]
            .decode()
        )
        self.assertIn("Arrêtée la présente facture à la somme de", html)
        self.assertIn("Trente", html, "30.00 in French words")
        self.assertIn(self.sub.name, html)
        self.assertIn("Abonnement", html)
        bob = self.env["res.users"].search([("login", "=", "bob")])
        bob.lang = "fr_FR"
        self.authenticate("bob", "bob")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        self.assertIn("Votre abonnement comprend", page)
        self.assertIn("Prix par période", page)
