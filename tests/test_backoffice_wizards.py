# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The back office's wizards, the traceability of billed invoices (chatter,
Invoice now, the PDF), the billed periods and the display of numbers."""

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from ..tools import format_quantity
from .common import UsageCommon


@tagged("post_install", "-at_install")
class TestBackofficeWizards(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_option = cls._create_product(
            name="Priority support", lst_price=15.0, type="service"
        )
        cls.plan_options = cls._create_plan("Pro with options", price=20.0)
        cls.plan_options.line_ids = [
            Command.create(
                {
                    "product_id": cls.product_option.id,
                    "name": "Priority support",
                    "quantity": 1,
                    "price_unit": 15.0,
                    "is_optional": True,
                }
            )
        ]
        cls.option = cls.plan_options.line_ids.filtered("is_optional")

    def _started(self, plan=None, start="2026-03-01", **values):
        with freeze_time(start):
            sub = self._create_subscription(plan=plan, start=start, **values)
            sub.action_start()
        return sub

    def _wizard(self, sub, operation, **values):
        return (
            self.env["subscription.change.wizard"]
            .with_user(self.billing_user)
            .create({"subscription_id": sub.id, "operation": operation, **values})
        )

    def _messages(self, record):
        return record.message_ids.mapped("body")

    # ------------------------------------------------------------------
    # The change wizards
    # ------------------------------------------------------------------

    def test_add_option_refused_on_a_plan_without_options(self):
        sub = self._started()
        self.assertFalse(sub.has_plan_options)
        with self.assertRaisesRegex(
            UserError, r"The plan Pro monthly offers no options: mark lines"
        ):
            sub.with_user(self.billing_user).action_add_option()
        # The API says so too, instead of "Nothing is not an option".
        with (
            freeze_time("2026-03-10"),
            self.assertRaisesRegex(UserError, "offers no options"),
        ):
            sub.add_option(self.option.id, simulate=True)
        with_options = self._started(plan=self.plan_options)
        self.assertTrue(with_options.has_plan_options)
        action = with_options.with_user(self.billing_user).action_add_option()
        self.assertEqual(action["name"], "Add an Option")
        self.assertEqual(action["context"]["default_operation"], "add_option")
        # The form's action menu runs the same method: it refuses too.
        server_action = self.env.ref(
            "subscription_billing.subscription_subscription_action_add_option"
        )
        with self.assertRaisesRegex(UserError, "offers no options"):
            server_action.with_user(self.billing_user).with_context(
                active_model=sub._name, active_id=sub.id, active_ids=sub.ids
            ).run()

    @freeze_time("2026-03-10")
    def test_add_option_wizard_waits_for_the_choice(self):
        sub = self._started(plan=self.plan_options)
        wizard = self._wizard(sub, "add_option")
        # Nothing chosen yet: no "Nothing is not an option" error, no amounts.
        self.assertFalse(wizard.error)
        self.assertFalse(wizard.effective_date)
        wizard.plan_line_id = self.option
        self.assertFalse(wizard.error)
        self.assertEqual(str(wizard.effective_date), "2026-03-10")

    @freeze_time("2026-03-10")
    def test_remove_option_lists_only_options(self):
        sub = self._started(plan=self.plan_options)
        with self.assertRaisesRegex(UserError, "has no option to remove"):
            sub.with_user(self.billing_user).action_remove_option()
        sub.add_option(self.option.id, policy="immediate")
        self.assertTrue(sub.has_option_lines)
        option_line = sub.line_ids.filtered(lambda line: line.plan_line_id.is_optional)
        base_line = sub.line_ids - option_line
        self.assertEqual(len(option_line), 1)
        self.assertEqual(len(base_line), 1)
        domain = self.env["subscription.change.wizard"]._fields["line_id"].domain
        Line = self.env["subscription.line"]
        removable = Line.search(
            safe_eval(domain, {"subscription_id": sub.id, "operation": "remove_option"})
        )
        self.assertEqual(removable, option_line)
        changeable = Line.search(
            safe_eval(
                domain, {"subscription_id": sub.id, "operation": "change_quantity"}
            )
        )
        self.assertEqual(changeable, option_line | base_line)
        action = sub.with_user(self.billing_user).action_remove_option()
        self.assertEqual(action["name"], "Remove an Option")

    @freeze_time("2026-03-10")
    def test_confirm_is_hidden_while_the_change_is_refused(self):
        sub = self._started()
        arch = etree.fromstring(
            self.env["subscription.change.wizard"].get_view(view_type="form")["arch"]
        )
        [confirm] = arch.xpath("//button[@name='action_confirm']")
        self.assertEqual(confirm.get("invisible"), "error")
        wizard = self._wizard(
            sub, "change_quantity", line_id=sub.line_ids.id, quantity=0.0
        )
        self.assertIn("must be positive", wizard.error)
        with self.assertRaisesRegex(UserError, "must be positive"):
            wizard.action_confirm()
        self.assertEqual(sub.line_ids.quantity, 1.0)
        wizard.quantity = 3
        self.assertFalse(wizard.error)

    @freeze_time("2026-03-10")
    def test_takes_effect_shows_the_policy_date(self):
        sub = self._started()
        line = sub.line_ids
        immediate = self._wizard(
            sub, "change_quantity", line_id=line.id, quantity=3, policy="immediate"
        )
        self.assertEqual(str(immediate.effective_date), "2026-03-10")
        self.assertEqual(immediate.effective_policy, "immediate")
        later = self._wizard(
            sub, "change_quantity", line_id=line.id, quantity=3, policy="end_of_period"
        )
        self.assertEqual(str(later.effective_date), "2026-04-01")
        self.assertEqual(later.effective_policy, "end_of_period")
        # Empty policy: the plan's (a downgrade here), shown as applied.
        self.plan_monthly.downgrade_policy = "end_of_period"
        plans = self._wizard(
            sub, "change_quantity", line_id=line.id, quantity=0.5, policy=False
        )
        self.assertEqual(plans.effective_policy, "end_of_period")
        self.assertEqual(str(plans.effective_date), "2026-04-01")
        arch = etree.fromstring(
            self.env["subscription.change.wizard"].get_view(view_type="form")["arch"]
        )
        [label] = arch.xpath("//label[@for='effective_date']")
        self.assertIsNotNone(label)
        self.assertEqual(
            self.env["subscription.change.wizard"]
            ._fields["effective_date"]
            ._description_string(self.env),
            "Takes Effect",
        )

    def test_every_wizard_action_has_a_title(self):
        sub = self._started(plan=self.plan_options)
        sub = sub.with_user(self.billing_user)
        titles = {
            "action_change_plan": "Change the Plan",
            "action_change_quantity": "Change a Quantity",
            "action_add_option": "Add an Option",
            "action_change_price": "Change a Price",
            "action_pause": "Pause the Subscription",
            "action_cancel_subscription": "Cancel the Subscription",
            "action_preview_next_invoice": "Preview of the Next Invoice",
        }
        for method, title in titles.items():
            with self.subTest(method=method):
                self.assertEqual(getattr(sub, method)()["name"], title)
        # Resume and Reactivate refuse on an active subscription, and have
        # their title where they apply.
        for method in ("action_resume", "action_reactivate"):
            with self.subTest(method=method), self.assertRaises(UserError):
                getattr(sub, method)()
        with freeze_time("2026-03-10"):
            sub.pause()
            self.assertEqual(sub.action_resume()["name"], "Resume the Subscription")
        cancelled = self._started(plan=self.plan_options).with_user(self.billing_user)
        with freeze_time("2026-03-10"):
            cancelled.cancel(policy="end_of_period")
            self.assertEqual(
                cancelled.action_reactivate()["name"], "Reactivate the Subscription"
            )
        action = self.env.ref("subscription_billing.subscription_invoice_wizard_action")
        self.assertEqual(action.name, "Generate Invoices")

    # ------------------------------------------------------------------
    # Traceability of the invoices
    # ------------------------------------------------------------------

    def test_chatter_of_the_invoice_and_the_subscription(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        sub = self._started(start="2026-01-01")
        with freeze_time("2026-01-01"):
            self.env["subscription.subscription"].with_context(
                lang="fr_FR"
            )._run_billing(sub.date_start, company_ids=self.env.companies.ids)
        invoice = self._invoices(sub)
        self.assertEqual(len(invoice), 1)
        # In the language of the billing's context (French here).
        [body] = [
            body
            for body in self._messages(invoice)
            if "Créée par la facturation de" in str(body)
        ]
        self.assertIn(
            f'data-oe-model="subscription.subscription" data-oe-id="{sub.id}"',
            str(body),
        )
        self.assertIn(f">{sub.name}</a>", str(body))
        self.assertIn("1 janv. 2026 – 31 janv. 2026", str(body))
        [logged] = [
            body
            for body in self._messages(sub)
            if 'data-oe-model="account.move"' in body
        ]
        self.assertIn(f'data-oe-id="{invoice.id}"', str(logged))
        self.assertIn(invoice.name, str(logged))
        self.assertIn("1 janv. 2026 – 31 janv. 2026", str(logged))
        # The invoice's total (20.00 and its tax), in the French number format.
        self.assertIn(
            f"créée&nbsp;: $&nbsp;{invoice.amount_total:.2f} pour".replace(".", ","),
            str(logged),
        )
        self.assertNotIn("2026-01-01", str(logged))

    def test_change_messages_show_localized_dates(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        sub = self._started(start="2026-01-01")
        sub = sub.with_context(lang="fr_FR")
        with freeze_time("2026-01-10"):
            sub.change_quantity(sub.line_ids.id, 3, policy="end_of_period")
        bodies = [str(body) for body in self._messages(sub)]
        self.assertTrue(
            # "Modification planifiée le 1 févr. 2026 : ..."
            any("le 1 févr. 2026" in body for body in bodies),
            bodies,
        )

    @freeze_time("2026-03-01")
    def test_invoice_now_says_what_it_did(self):
        sub = self._started()
        action = sub.with_user(self.billing_user).action_invoice_now()
        invoice = self._invoices(sub)
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(
            action["params"]["message"], f"1 invoice created: {invoice.name}"
        )
        self.assertEqual(action["params"]["next"]["res_id"], invoice.id)
        with self.assertRaisesRegex(
            UserError, "Nothing is due today on .*: its next invoice is on Apr 1, 2026"
        ):
            sub.action_invoice_now()
        # Due, but nothing to invoice: the first period of a usage-only plan
        # billed in advance.
        usage_only = self._create_plan("Usage only", price=0.0)
        usage_only.line_ids = [Command.clear(), self._usage_line()]
        metered = self._started(plan=usage_only)
        self.assertTrue(metered.is_invoice_due)
        action = metered.with_user(self.billing_user).action_invoice_now()
        self.assertFalse(self._invoices(metered))
        self.assertEqual(
            action["params"]["message"],
            "Nothing to invoice: next invoice on Apr 1, 2026.",
        )

    @freeze_time("2026-03-01")
    def test_invoice_pdf_prints_the_subscription_once(self):
        sub = self._started()
        sub.action_invoice_now()
        invoice = self._invoices(sub)
        self.assertEqual(invoice.invoice_origin, sub.name)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.report_invoice", invoice.ids)[0]
            .decode()
        )
        self.assertEqual(html.count(sub.name), 1)
        self.assertIn("subscription_reference", html)

    # ------------------------------------------------------------------
    # Billed periods
    # ------------------------------------------------------------------

    def test_period_kind_and_its_own_amount(self):
        sub = self._start()
        self._send(sub, [("e1", "2026-03-10T10:00:00", 1500)])
        self._bill("2026-04-01")
        invoice = sub.period_ids.filtered(
            lambda p: str(p.period_start) == "2026-04-01"
        ).invoice_id
        periods = invoice.subscription_period_ids
        self.assertEqual(sorted(periods.mapped("kind")), ["service", "usage"])
        service = periods.filtered(lambda p: p.kind == "service")
        usage = periods.filtered(lambda p: p.kind == "usage")
        self.assertEqual(str(usage.period_start), "2026-03-01")
        self.assertEqual(service.amount_period, 20.0)
        # Graduated: 1,000 x 0.10 + 500 x 0.05.
        self.assertEqual(usage.amount_period, 125.0)
        self.assertEqual(invoice.amount_untaxed, 145.0)
        self.assertEqual(service.amount_untaxed, 145.0)
        arch = etree.fromstring(
            self.env["subscription.period"].get_view(view_type="list")["arch"]
        )
        columns = [field.get("name") for field in arch.xpath("//field")]
        self.assertIn("kind", columns)
        [amount] = arch.xpath("//field[@name='amount_period']")
        self.assertEqual(amount.get("sum"), "Total")
        [invoice_total] = arch.xpath("//field[@name='amount_untaxed']")
        self.assertEqual(invoice_total.get("optional"), "hide")

    # ------------------------------------------------------------------
    # Numbers
    # ------------------------------------------------------------------

    def test_tiers_and_limits_read_as_numbers(self):
        line = self.plan_usage.line_ids.filtered(
            lambda plan_line: plan_line.line_type == "usage"
        )
        self.metric_api.quantity_decimals = 0
        self.assertEqual(
            line.tier_ids.mapped("range_display"),
            ["0 to 1,000", "1,000 to 10,000", "10,000 and above"],
        )
        # The metric's precision, without meaningless zeros.
        self.assertEqual(format_quantity(self.env, 1000.5, 2), "1,000.5")
        self.assertEqual(format_quantity(self.env, 1000.5, 0), "1,001")
        self.assertEqual(format_quantity(self.env, 1000.0), "1,000")
        # Prices keep their 8 decimals but show at least 2, not 0.00200000.
        tier_fields = self.env["subscription.pricing.tier"].fields_get(
            ["unit_price", "flat_fee"]
        )
        self.assertEqual(tier_fields["unit_price"]["min_display_digits"], 2)
        self.assertEqual(tier_fields["flat_fee"]["min_display_digits"], 2)
        arch = etree.fromstring(
            self.env["subscription.plan"].get_view(view_type="form")["arch"]
        )
        for name in ("included_units", "from_units", "to_units", "quantity"):
            with self.subTest(field=name):
                for node in arch.xpath(f"//field[@name='{name}']"):
                    self.assertIn("hide_trailing_zeros", node.get("options", ""))
        for name, text in (
            ("max_amount", "No maximum"),
            ("carry_over_cap", "No cap"),
            ("transaction_max_amount", "No maximum"),
        ):
            with self.subTest(field=name):
                [hint] = arch.xpath(f"//field[@name='{name}']/following-sibling::span")
                self.assertEqual(hint.text.strip(), text)
                self.assertEqual(hint.get("invisible"), name)

    @freeze_time("2026-03-10")
    def test_wizard_quantities_without_decimals(self):
        sub = self._started(plan=self.plan_options)
        with freeze_time("2026-03-01"):
            sub.action_invoice_now()
        wizard = self._wizard(sub, "add_option", plan_line_id=self.option.id)
        self.assertIn(">1<", str(wizard.summary).replace(" ", ""))
        self.assertNotIn("1.00<", str(wizard.summary))
        # The Form of the wizard opens and computes without a choice.
        form = Form(
            self.env["subscription.change.wizard"]
            .with_user(self.billing_user)
            .with_context(
                default_subscription_id=sub.id, default_operation="add_option"
            )
        )
        self.assertFalse(form.error)
