# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The customer's subscriptions in the portal: pages, access, self-service."""

import re

from freezegun import freeze_time

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged


class PortalCase(HttpCase):
    """A customer (Acme, users Alice and Bob) with a running subscription and
    its unpaid first invoice; another customer (Globex) and a draft."""

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
        cls.plan_plus = cls.env["subscription.plan"].create(
            {
                "name": "Portal plus",
                "invoice_policy": "post",
                "line_ids": [
                    Command.create(
                        {"product_id": product.id, "quantity": 2, "price_unit": 25.0}
                    )
                ],
            }
        )
        cls.plan_hidden = cls.plan_plus.copy({"name": "Not offered"})
        cls.plan = cls.env["subscription.plan"].create(
            {
                "name": "Portal plan",
                "invoice_policy": "post",
                "portal_change_plan": True,
                "portal_plan_ids": [Command.set(cls.plan_plus.ids)],
                "line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 2,
                            "price_unit": 15.0,
                            "min_quantity": 1,
                            "max_quantity": 5,
                        }
                    ),
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": "Priority support",
                            "quantity": 1,
                            "price_unit": 10.0,
                            "is_optional": True,
                        }
                    ),
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

    def _run_portal_tour(self):
        """The portal tour (which checks that the pages fit the window), then
        its changes in the database."""
        with freeze_time("2026-05-16"):
            self.start_tour("/my", "subscription_portal_tour", login="alice")
        self.env.invalidate_all()
        self.assertEqual(
            self.sub.line_ids.filtered("is_current").mapped("quantity"), [3.0]
        )
        self.assertEqual(str(self.sub.date_end), "2026-05-31")
        self.assertEqual(
            self.sub.close_reason_id,
            self.env.ref("subscription_billing.close_reason_too_expensive"),
        )


@tagged("post_install", "-at_install")
class TestSubscriptionPortal(PortalCase):
    def _post(self, sub, **data):
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.url_open(
            f"/my/subscriptions/{sub.id}/change",
            data={"csrf_token": token, **data},
            allow_redirects=False,
        )

    def _state(self):
        self.env.invalidate_all()
        lines = self.sub.line_ids.filtered("is_current").sorted("id")
        return (
            [(line.name, line.quantity) for line in lines],
            self.sub.plan_id.name,
            str(self.sub.date_end),
            len(self.sub.change_ids),
            self.env["account.move"].search_count([]),
        )

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
        pdf = f"/my/subscriptions/{self.sub.id}?report_type=pdf&download=true"
        self.assertEqual(self._get(pdf).status_code, 403)
        page = self.url_open(f"/my/subscriptions/{self.other.id}").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        for route, data in (
            ("change", {"operation": "cancel", "reason_id": "1", "confirm": "1"}),
            ("payment_method", {"token_id": "1"}),
        ):
            response = self.url_open(
                f"/my/subscriptions/{self.sub.id}/{route}",
                data={"csrf_token": csrf, **data},
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 403, route)
        self.assertFalse(self.sub.date_end)
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

    def test_quantity_change_shows_the_amount_then_applies(self):
        self.authenticate("alice", "alice")
        line = self.sub.line_ids.filtered(lambda line: line.quantity == 2)
        before = self._state()
        with freeze_time("2026-05-16"):
            response = self._post(
                self.sub, operation="change_quantity", line_id=line.id, quantity="3"
            )
            self.assertEqual(response.status_code, 200)
            self.assertIn("o_portal_change_confirm", response.text)
            self.assertIn("7.74", response.text, "15.00 × 16/31 days")
            self.assertEqual(self._state(), before, "a preview writes nothing")
            response = self._post(
                self.sub,
                operation="change_quantity",
                line_id=line.id,
                quantity="3",
                confirm="1",
            )
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(
            self.sub.line_ids.filtered("is_current").mapped("quantity"), [3.0]
        )
        proration = self.sub.change_ids.move_id
        self.assertEqual(proration.amount_untaxed, 7.74)
        self.assertEqual(self.sub.change_ids.create_uid.login, "alice")

    def test_portal_bad_input_changes_nothing(self):
        self.authenticate("alice", "alice")
        line = self.sub.line_ids.filtered(lambda line: line.quantity == 2)
        other_line = self.other.line_ids[:1]
        before = self._state()
        with freeze_time("2026-05-16"):
            cases = [
                (
                    {
                        "operation": "change_quantity",
                        "line_id": line.id,
                        "quantity": "9",
                    },
                    "between",
                ),
                (
                    {
                        "operation": "change_quantity",
                        "line_id": line.id,
                        "quantity": "0",
                    },
                    "between",
                ),
                (
                    {
                        "operation": "change_quantity",
                        "line_id": line.id,
                        "quantity": "abc",
                    },
                    "quantity",
                ),
                (
                    {
                        "operation": "change_quantity",
                        "line_id": other_line.id,
                        "quantity": "3",
                    },
                    "not part of your subscription",
                ),
                (
                    {"operation": "change_plan", "plan_id": self.plan_hidden.id},
                    "plans offered",
                ),
                ({"operation": "cancel", "reason_id": ""}, "why you cancel"),
                ({"operation": "pause"}, "not available"),
                ({"operation": "reactivate"}, "not available"),
            ]
            for data, message in cases:
                with self.subTest(data=data):
                    response = self._post(self.sub, confirm="1", **data)
                    self.assertEqual(response.status_code, 200)
                    self.assertIn("o_portal_change_error", response.text)
                    self.assertIn(message, response.text)
            response = self._post(self.other, operation="reactivate", confirm="1")
            self.assertEqual(response.status_code, 403)
        self.assertEqual(self._state(), before)
        # A shared link does not allow changes.
        self.authenticate(None, None)
        response = self.url_open(
            f"/my/subscriptions/{self.sub.id}/change",
            data={"operation": "cancel", "csrf_token": "x"},
            allow_redirects=False,
        )
        self.assertIn(response.status_code, (303, 400))
        self.assertEqual(self._state(), before)

    def test_cancel_at_period_end_then_reactivate_and_options(self):
        self.authenticate("alice", "alice")
        reason = self.env.ref("subscription_billing.close_reason_too_expensive")
        with freeze_time("2026-05-16"):
            self._post(self.sub, operation="cancel", reason_id=reason.id, confirm="1")
            self.env.invalidate_all()
            self.assertEqual(str(self.sub.date_end), "2026-05-31")
            self.assertEqual(self.sub.close_reason_id, reason)
            page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
            self.assertIn("Keep my subscription", page)
            self._post(self.sub, operation="reactivate", confirm="1")
            self.env.invalidate_all()
            self.assertFalse(self.sub.date_end)
        option = self.plan.line_ids.filtered("is_optional")
        with freeze_time("2026-05-17"):  # one change a day
            response = self._post(
                self.sub, operation="add_option", plan_line_id=option.id, confirm="1"
            )
            self.assertEqual(response.status_code, 303)
            self.env.invalidate_all()
            self.assertIn(
                "Priority support",
                self.sub.line_ids.filtered("is_current").mapped("name"),
            )
        with freeze_time("2026-05-18"):
            self._post(
                self.sub,
                operation="change_plan",
                plan_id=self.plan_plus.id,
                confirm="1",
            )
            self.env.invalidate_all()
            self.assertEqual(self.sub.plan_id, self.plan_plus)

    def test_invoice_and_statement_pdf_downloads(self):
        invoice = self.sub.invoice_ids
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "subscription_billing.action_report_subscription_statement",
                self.sub.ids,
            )[0]
            .decode()
        )
        self.assertIn(invoice.name, html)
        self.assertIn("Balance due", html)
        self.assertEqual(self.sub._statement_balance(), 30.0)
        self.assertEqual(
            [(row["document"], row["balance"]) for row in self.sub._statement_rows()],
            [(invoice.name, 30.0)],
        )
        self.authenticate("alice", "alice")
        # Odoo renders reports as HTML under test (wkhtmltopdf is exercised
        # by the demo); the download itself is checked here.
        for url, name in (
            (invoice.get_portal_url(report_type="pdf", download=True), invoice.name),
            (self.sub.get_portal_url(report_type="pdf", download=True), "Statement"),
        ):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.headers["Content-Type"], "application/pdf")
                self.assertIn("attachment", response.headers["Content-Disposition"])
                self.assertIn(name.encode(), response.content)

    def test_portal_tour_list_detail_change_and_cancel(self):
        self._run_portal_tour()

    def test_choose_the_saved_method_for_automatic_payment(self):
        provider = (
            self.env["payment.provider"]
            .sudo()
            .search([("code", "=", "demo"), ("company_id", "=", self.env.company.id)])
        )
        provider.state = "test"

        def token(partner):
            return (
                self.env["payment.token"]
                .sudo()
                .create(
                    {
                        "provider_id": provider.id,
                        "payment_method_id": provider.payment_method_ids[:1].id,
                        "payment_details": "4242",
                        "partner_id": partner.id,
                        "provider_ref": "portal",
                    }
                )
            )

        mine, theirs = token(self.alice), token(self.globex)
        self.authenticate("bob", "bob")  # a colleague chooses Alice's card
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        self.assertIn("o_portal_token_form", page)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        url = f"/my/subscriptions/{self.sub.id}/payment_method"
        response = self.url_open(
            url, data={"csrf_token": csrf, "token_id": theirs.id}, allow_redirects=False
        )
        self.assertIn("Choose one of your saved payment methods", response.text)
        self.assertFalse(self.sub.payment_token_id)
        response = self.url_open(
            url, data={"csrf_token": csrf, "token_id": mine.id}, allow_redirects=False
        )
        self.assertEqual(response.status_code, 303)
        self.sub.invalidate_recordset()
        self.assertEqual(self.sub.payment_token_id, mine)
