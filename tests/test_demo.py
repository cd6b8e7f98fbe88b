# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The demo data shows every feature out of the box: a French company in
euros with its VAT, French customers in French, late payers at each reminder
of the follow-up (one suspended), usage over the allowance, a salesperson
and a portal login."""

from odoo.tests import TransactionCase, tagged
from odoo.tools import convert_file


@tagged("post_install", "-at_install")
class TestDemo(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        convert_file(
            cls.env,
            "subscription_billing",
            "demo/subscription_billing_demo.xml",
            {},
            mode="init",
            noupdate=True,
        )
        cls.company = cls.env.ref("subscription_billing.demo_company")

    def _ref(self, name):
        return self.env.ref(f"subscription_billing.{name}")

    def test_company_in_france_in_euros(self):
        self.assertEqual(self.company.currency_id.name, "EUR")
        self.assertEqual(self.company.country_id.code, "FR")
        self.assertEqual(self.company.account_fiscal_country_id.code, "FR")
        self.assertEqual(self.company.city, "Paris")
        admin = self.env.ref("base.user_admin")
        self.assertEqual(admin.company_id, self.company)
        subscriptions = self.env["subscription.subscription"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertGreaterEqual(len(subscriptions), 12)
        self.assertEqual(subscriptions.invoice_ids.currency_id.mapped("name"), ["EUR"])

    def test_taxes_have_their_groups(self):
        taxes = {
            tax.name: (tax.amount, tax.tax_group_id.name)
            for tax in (
                self._ref("demo_tax_vat_20")
                | self._ref("demo_tax_reverse_charge")
                | self._ref("demo_tax_export")
            )
        }
        self.assertEqual(
            taxes,
            {
                "TVA 20 %": (20.0, "TVA 20 %"),
                "TVA 0 % intracommunautaire": (0.0, "TVA 0 % (intra-UE)"),
                "TVA 0 % export": (0.0, "TVA 0 % (export)"),
            },
        )
        self.assertFalse(
            self.env["account.tax"].search(
                [("company_id", "=", self.company.id), ("name", "like", "15%")]
            ),
            "the generic chart's taxes are not used",
        )

        def groups(sub):
            invoice = sub.invoice_ids.filtered(lambda m: m.state == "posted")[:1]
            return [
                group["group_name"]
                for subtotal in invoice.tax_totals["subtotals"]
                for group in subtotal["tax_groups"]
            ]

        self.assertEqual(groups(self._ref("demo_sub_fr_pro")), ["TVA 20 %"])
        self.assertEqual(
            groups(self._ref("demo_sub_de_enterprise")), ["TVA 0 % (intra-UE)"]
        )
        self.assertEqual(groups(self._ref("demo_sub_us_pro")), ["TVA 0 % (export)"])

    def test_french_installed_and_used_by_french_customers(self):
        self.assertTrue(self.env["res.lang"]._lang_get("fr_FR").active)
        french = self.env["res.partner"].search(
            [
                ("country_id.code", "=", "FR"),
                ("id", "!=", self.company.partner_id.id),
                (
                    "id",
                    "in",
                    self.env["subscription.subscription"].search([]).partner_id.ids,
                ),
            ]
        )
        self.assertGreaterEqual(len(french), 5)
        self.assertEqual(set(french.mapped("lang")), {"fr_FR"})
        self.assertEqual(self._ref("demo_partner_de").lang, "en_US")
        # The module's and Odoo's own terms are loaded: the invoice is French.
        invoice = self._ref("demo_sub_late_7").invoice_ids
        html = (
            self.env["ir.actions.report"]
            .with_context(lang="fr_FR")
            ._render_qweb_html("account.report_invoice", invoice.ids)[0]
            .decode()
        )
        self.assertIn("Facture", html)
        self.assertIn("TVA 20 %", html)
        self.assertEqual(
            self._ref("demo_plan_pro_monthly").with_context(lang="fr_FR").name,
            "Pro, mensuel",
        )
        self.assertEqual(self._ref("demo_plan_pro_monthly").name, "Pro, monthly")
        self.assertIn("Date de facturation", html)
        self.assertIn("Échéance", html)

    def test_one_overdue_follow_up_per_reminder(self):
        policy = self.env.ref("subscription_billing.dunning_policy_default")
        reminders = policy.step_ids.filtered(lambda s: s.action == "reminder")
        dunnings = self.env["subscription.dunning"].search(
            [("company_id", "=", self.company.id), ("state", "=", "open")]
        )
        self.assertEqual(len(dunnings), len(reminders))
        last_sent = {
            dunning.partner_id.name: dunning.event_ids.filtered(
                lambda e: e.kind == "reminder" and e.result == "sent"
            ).step_id.day
            for dunning in dunnings
        }
        self.assertEqual(
            last_sent,
            {"Café des Arts": 7, "Librairie Papillon": 14, "Garage Lefèvre": 21},
        )
        for dunning in dunnings:
            self.assertEqual(dunning.invoice_id.payment_state, "not_paid")
            self.assertEqual(dunning.amount_residual, 80.4)  # (49 + 2 x 9) x 1.2
        # Paid after the first reminder: the recovery report has a line.
        recovered = self.env["subscription.dunning"].search(
            [("company_id", "=", self.company.id), ("state", "=", "recovered")]
        )
        self.assertEqual(recovered.partner_id.name, "Fleuriste Rose et Lys")
        self.assertEqual(recovered.amount_recovered, 80.4)
        self.assertEqual(
            (recovered.recovered_step_id.day, recovered.recovered_step_id.action),
            (7, "reminder"),
        )

    def test_suspended_for_non_payment(self):
        sub = self._ref("demo_sub_late_21")
        self.assertEqual(sub.state, "suspended")
        suspended = self.env["subscription.subscription"].search(
            [("company_id", "=", self.company.id), ("state", "=", "suspended")]
        )
        self.assertEqual(suspended, sub)
        self.assertEqual(self._ref("demo_sub_fr2_paused").state, "paused")

    def test_usage_over_the_allowance(self):
        sub = self._ref("demo_sub_us_api")
        charges = sub.usage_charge_ids
        self.assertTrue(charges)
        self.assertTrue(all(c.quantity > c.included for c in charges))
        self.assertTrue(all(c.amount > 0 for c in charges))
        (usage,) = sub._portal_preview()["usage"]
        self.assertGreater(usage["quantity"], usage["included"])

    def test_salesperson_and_portal_user(self):
        sales = self._ref("demo_user_sales")
        self.assertNotEqual(sales, self.env.ref("base.user_root"))
        self.assertTrue(
            sales.has_group("subscription_billing.group_subscription_manager")
        )
        subscriptions = self.env["subscription.subscription"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(subscriptions.user_id, sales)
        self.assertEqual(subscriptions.invoice_ids.invoice_user_id, sales)
        portal = self.env["res.users"].search([("login", "=", "claire")])
        self.assertTrue(portal._is_portal())
        self.assertEqual(portal.lang, "fr_FR")
        self.assertEqual(portal.commercial_partner_id, self._ref("demo_partner_fr"))
        portal_subscriptions = (
            self.env["subscription.subscription"]
            .with_user(portal)
            .search([("state", "!=", "draft")])
        )
        self.assertEqual(
            portal_subscriptions,
            self._ref("demo_sub_fr_pro") | self._ref("demo_sub_fr_support"),
        )
        # Unpaid but not yet due: the portal offers to pay it.
        due = self._ref("demo_sub_fr_pro").invoice_ids.filtered(
            lambda m: m.payment_state == "not_paid"
        )
        self.assertTrue(due)
        self.assertFalse(
            self.env["subscription.dunning"].search([("invoice_id", "in", due.ids)])
        )
