# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The back office of subscriptions: the form's header and action menu, the
views (list, kanban, pivot, graph, activity), the search filters, the kanban's
columns and quick create, the Settings, the onboarding help, and the Retry
Payment button shown exactly when a retry can happen."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import SubscriptionCommon

HEADER_FIELDS = ("state", "trial_converted", "is_invoice_due", "close_reason_id")


@tagged("post_install", "-at_install")
class TestBackOffice(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Sub = cls.env["subscription.subscription"]

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _arch(self, view_type, view=None):
        view_id = self.env.ref(view).id if view else None
        arch = self.Sub.with_user(self.billing_user).get_views([(view_id, view_type)])[
            "views"
        ][view_type]["arch"]
        return etree.fromstring(arch)

    def _visible_header_buttons(self, sub):
        """The header buttons of the form shown for ``sub`` (their
        ``invisible`` evaluated on its values)."""
        form = self._arch("form")
        values = {
            name: sub[name].id if name == "close_reason_id" else sub[name]
            for name in HEADER_FIELDS
        }
        return [
            button.get("name")
            for button in form.xpath("//header/button")
            if not safe_eval(button.get("invisible") or "False", values)
        ]

    def _in_state(self, state, **values):
        sub = self._create_subscription(**values)
        if state != "draft":
            sub._as_engine().state = state
        return sub

    def _filter_domain(self, name):
        search = self._arch("search")
        [node] = search.xpath(f"//filter[@name='{name}']")
        today = fields.Date.context_today(self.Sub)
        return safe_eval(
            node.get("domain"),
            {
                "context_today": lambda: today,
                "relativedelta": relativedelta,
                "uid": self.env.uid,
            },
        )

    def _filtered(self, name, subs):
        return self.Sub.search([("id", "in", subs.ids)] + self._filter_domain(name))

    # ------------------------------------------------------------------
    # Form: the statusbar, the primary action of each state, the action menu
    # ------------------------------------------------------------------

    def test_form_header_has_a_statusbar_of_the_lifecycle(self):
        [statusbar] = self._arch("form").xpath("//header/field[@name='state']")
        self.assertEqual(statusbar.get("widget"), "statusbar")
        self.assertEqual(
            statusbar.get("statusbar_visible"), "draft,trial,active,closed"
        )

    def test_header_buttons_per_state(self):
        reason = self.env.ref("subscription_billing.close_reason_other")
        cases = {
            "draft": (self._in_state("draft"), ["action_start"]),
            "trial": (
                self._in_state("trial"),
                ["action_convert_trial", "action_cancel_subscription"],
            ),
            "active": (self._in_state("active"), ["action_cancel_subscription"]),
            "paused": (
                self._in_state("paused"),
                ["action_resume", "action_cancel_subscription"],
            ),
            "suspended": (
                self._in_state("suspended"),
                ["action_cancel_subscription"],
            ),
            "closed": (self._in_state("closed"), []),
        }
        for state, (sub, expected) in cases.items():
            with self.subTest(state=state):
                self.assertEqual(self._visible_header_buttons(sub), expected)
        closed = cases["closed"][0]
        closed._as_engine().close_reason_id = reason
        self.assertEqual(self._visible_header_buttons(closed), ["action_reactivate"])
        # An active subscription with a period due: Invoice now comes first.
        with freeze_time("2026-03-01"):
            due = self._create_subscription(start="2026-03-01")
            due.action_start()
            self.assertTrue(due.is_invoice_due)
            self.assertEqual(
                self._visible_header_buttons(due),
                ["action_invoice_now", "action_cancel_subscription"],
            )

    def test_header_primary_actions_are_highlighted_and_few(self):
        buttons = self._arch("form").xpath("//header/button")
        primary = {
            b.get("name") for b in buttons if "btn-primary" in b.get("class", "")
        }
        self.assertEqual(
            primary,
            {
                "action_start",
                "action_convert_trial",
                "action_invoice_now",
                "action_resume",
                "action_reactivate",
            },
        )
        self.assertEqual(
            {b.get("name") for b in buttons} - primary, {"action_cancel_subscription"}
        )

    def test_secondary_changes_are_in_the_action_menu(self):
        bindings = self.Sub.with_user(self.billing_user).get_views(
            [(False, "form")], {"toolbar": True}
        )["views"]["form"]["toolbar"]["action"]
        names = [action["name"] for action in bindings]
        for name in (
            "Preview next invoice",
            "Change plan",
            "Change quantity",
            "Add an option",
            "Remove an option",
            "Change price",
            "Pause",
        ):
            self.assertIn(name, names)
        action = self.env.ref(
            "subscription_billing.subscription_subscription_action_pause"
        )
        sub = self._create_subscription().with_user(self.billing_user)
        run = action.with_user(self.billing_user).with_context(
            active_model=sub._name, active_id=sub.id, active_ids=sub.ids
        )
        with self.assertRaisesRegex(UserError, "not started"):
            run.run()
        sub.sudo()._as_engine().state = "active"
        result = run.run()
        self.assertEqual(result["res_model"], "subscription.change.wizard")
        self.assertEqual(result["context"]["default_operation"], "pause")
        sub.sudo()._as_engine().state = "suspended"
        with self.assertRaisesRegex(UserError, "suspended for non-payment"):
            sub.action_change_plan()
        with self.assertRaisesRegex(UserError, "no next invoice to preview"):
            sub.action_preview_next_invoice()

    # ------------------------------------------------------------------
    # Views
    # ------------------------------------------------------------------

    def test_action_offers_pivot_graph_and_activity(self):
        action = self.env.ref("subscription_billing.subscription_subscription_action")
        self.assertEqual(
            action.view_mode.split(","),
            ["list", "kanban", "form", "pivot", "graph", "activity"],
        )
        views = self.Sub.with_user(self.billing_user).get_views(
            [(False, "pivot"), (False, "graph"), (False, "activity")]
        )["views"]
        pivot = etree.fromstring(views["pivot"]["arch"])
        self.assertEqual(pivot.xpath("//field[@type='row']/@name"), ["plan_id"])
        self.assertEqual(pivot.xpath("//field[@type='col']/@name"), ["state"])
        graph = etree.fromstring(views["graph"]["arch"])
        self.assertEqual(graph.xpath("//field/@name"), ["plan_id", "state"])
        self.assertTrue(etree.fromstring(views["activity"]["arch"]).tag == "activity")
        # The pivot's groups answer (the view is usable, not only valid).
        self._in_state("active")
        groups = self.Sub.formatted_read_group([], ["plan_id", "state"], ["__count"])
        self.assertTrue(groups)

    def test_list_sums_mrr_not_mixed_period_prices(self):
        arch = self._arch("list")
        [mrr] = arch.xpath("//field[@name='mrr']")
        self.assertEqual(mrr.get("sum"), "Total MRR")
        [price] = arch.xpath("//field[@name='recurring_amount']")
        self.assertIsNone(price.get("sum"), "prices of different periods")
        yearly = self._create_plan(
            "Yearly", price=120.0, billing_interval=1, billing_unit="year"
        )
        with freeze_time("2026-03-01"):
            monthly = self._create_subscription()
            monthly.action_start()
            year = self._create_subscription(plan=yearly)
            year.action_start()
            self.assertEqual((monthly.mrr, year.mrr), (20.0, 10.0))

    def test_empty_help_guides_to_the_first_plan(self):
        self.env["subscription.plan"].search([]).active = False
        help_html = str(self.Sub.with_user(self.billing_user).get_empty_list_help(""))
        self.assertIn("Create your first plan", help_html)
        self.assertIn("o_view_nocontent_smiling_face", help_html)
        self.plan_monthly.active = True
        action = self.env.ref("subscription_billing.subscription_subscription_action")
        help_html = str(
            self.Sub.with_user(self.billing_user).get_empty_list_help(action.help)
        )
        self.assertIn("Create your first subscription", help_html)
        self.assertNotIn("Create your first plan", help_html)
        plans = self.env.ref("subscription_billing.subscription_plan_action")
        self.assertIn("Create your first plan", str(plans.help))

    # ------------------------------------------------------------------
    # Search filters
    # ------------------------------------------------------------------

    def test_running_includes_suspended_and_each_state_has_a_filter(self):
        subs = {
            state: self._in_state(state)
            for state in ("draft", "trial", "active", "paused", "suspended", "closed")
        }
        every = self.Sub.union(*subs.values())
        self.assertEqual(
            set(self._filtered("running", every).mapped("state")),
            {"trial", "active", "paused", "suspended"},
        )
        for name, state in (
            ("draft", "draft"),
            ("in_trial", "trial"),
            ("active", "active"),
            ("paused", "paused"),
            ("suspended", "suspended"),
            ("closed", "closed"),
        ):
            with self.subTest(filter=name):
                self.assertEqual(self._filtered(name, every), subs[state])

    def test_to_invoice_trial_ending_and_in_dunning_filters(self):
        today = fields.Date.context_today(self.Sub)
        due = self._create_subscription(start=today - timedelta(days=40))
        due.action_start()
        self.assertLessEqual(due.next_invoice_date, today)
        later = self._create_subscription(start=today)
        later.action_start()
        later._as_engine().next_invoice_date = today + timedelta(days=3)
        suspended = self._create_subscription(start=today - timedelta(days=40))
        suspended.action_start()
        suspended._as_engine().state = "suspended"
        self.assertEqual(
            self._filtered("to_invoice", due | later | suspended), due, "billable only"
        )
        trial_plan = self._create_plan(
            "Trial plan", trial_interval=14, trial_unit="day"
        )
        soon = self._create_subscription(
            plan=trial_plan, start=today - timedelta(days=9)
        )
        soon.action_start()
        far = self._create_subscription(plan=trial_plan, start=today)
        far.action_start()
        self.assertEqual((soon.state, far.state), ("trial", "trial"))
        self.assertEqual(self._filtered("trial_ending", soon | far), soon)
        self._run_billing()
        invoice = self._invoices(due)[:1]
        self.assertEqual(invoice.state, "posted")
        self.env["subscription.dunning"]._open(invoice, "soft", today)
        self.assertEqual(self._filtered("in_dunning", due | later), due)

    def test_search_groups_by_salesperson_plan_and_state(self):
        search = self._arch("search")
        contexts = {
            node.get("name"): safe_eval(node.get("context"))["group_by"]
            for node in search.xpath("//group/filter")
        }
        self.assertEqual(contexts["group_user"], "user_id")
        self.assertEqual(contexts["group_plan"], "plan_id")
        self.assertEqual(contexts["group_state"], "state")

    # ------------------------------------------------------------------
    # Kanban: columns and quick create
    # ------------------------------------------------------------------

    def test_kanban_columns_follow_the_lifecycle_closed_folded(self):
        self._in_state("active")
        Sub = self.Sub.with_user(self.billing_user).with_context(read_group_expand=True)
        groups = Sub.formatted_read_group([], ["state"], ["__count"])
        self.assertEqual(
            [g["state"] for g in groups],
            ["draft", "trial", "active", "paused", "suspended", "closed"],
        )
        self.assertEqual(
            {g["state"]: g["__fold"] for g in groups},
            {
                "draft": False,
                "trial": False,
                "active": False,
                "paused": False,
                "suspended": False,
                "closed": True,
            },
        )
        # Without the expansion (a list or pivot grouped by state): no folding.
        plain = self.Sub.formatted_read_group([], ["state"], ["__count"])
        self.assertEqual([g["state"] for g in plain], ["active"])
        self.assertNotIn("__fold", plain[0])

    def test_kanban_quick_create_makes_a_draft(self):
        kanban = self._arch("kanban")
        self.assertEqual(
            kanban.get("quick_create_view"),
            "subscription_billing.subscription_subscription_view_form_quick_create",
        )
        self.assertEqual(
            kanban.get("js_class"), "subscription_kanban", "+ on Draft only"
        )
        self.assertEqual(kanban.get("group_create"), "0")
        self.assertEqual(kanban.get("records_draggable"), "0")
        # "+" on the Paused column: the column's state comes as a default.
        Sub = self.Sub.with_user(self.billing_user).with_context(default_state="paused")
        form = Form(
            Sub,
            view="subscription_billing.subscription_subscription_view_form_quick_create",
        )
        form.partner_id = self.customer
        form.plan_id = self.plan_monthly
        sub = form.save()
        self.assertEqual(sub.state, "draft")
        self.assertEqual(sub.partner_id, self.customer)
        self.assertEqual(sub.line_ids.product_id, self.product_pro, "the plan's lines")
        self.assertNotEqual(sub.name, "New")

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    def test_settings_defaults_apply_to_new_plans_and_follow_ups(self):
        policy = self.env["subscription.dunning.policy"].create(
            {"name": "Gentle", "company_id": self.env.company.id}
        )
        settings = (
            self.env["res.config.settings"]
            .sudo()
            .create(
                {
                    "subscription_dunning_policy_id": policy.id,
                    "subscription_invoice_policy": "send",
                    "subscription_trial_reminder_days": 5,
                    "subscription_renewal_reminder_days": 45,
                    "subscription_portal_change_quantity": False,
                    "subscription_portal_manage_options": False,
                    "subscription_portal_change_plan": True,
                    "subscription_portal_cancel": False,
                }
            )
        )
        settings.execute()
        company = self.env.company
        self.assertEqual(company.subscription_dunning_policy_id, policy)
        self.assertEqual(company.subscription_invoice_policy, "send")
        plan = self.env["subscription.plan"].create(
            {
                "name": "Configured",
                "line_ids": [(0, 0, {"product_id": self.product_pro.id})],
            }
        )
        self.assertEqual(
            (
                plan.invoice_policy,
                plan.trial_reminder_days,
                plan.renewal_reminder_days,
                plan.portal_change_quantity,
                plan.portal_manage_options,
                plan.portal_change_plan,
                plan.portal_cancel,
            ),
            ("send", 5, 45, False, False, True, False),
        )
        with freeze_time("2026-03-01"):
            sub = self._create_subscription()
            sub.action_start()
            self._run_billing()
        invoice = self._invoices(sub)
        dunning = self.env["subscription.dunning"]._open(
            invoice, "soft", self._date("2026-03-02")
        )
        self.assertEqual(dunning.policy_id, policy, "the company's default policy")
        # The settings view opens, with the app's block.
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        self.assertIn('name="subscription_billing"', arch)
        self.assertTrue(
            self.env.ref("subscription_billing.menu_subscription_settings").action
        )

    def test_settings_defaults_before_any_setting(self):
        plan = self.env["subscription.plan"].create(
            {"name": "Plain", "line_ids": [(0, 0, {"product_id": self.product_pro.id})]}
        )
        self.assertEqual(
            (
                plan.invoice_policy,
                plan.trial_reminder_days,
                plan.renewal_reminder_days,
                plan.portal_change_quantity,
                plan.portal_manage_options,
                plan.portal_change_plan,
                plan.portal_cancel,
            ),
            ("post", 3, 30, True, True, False, True),
        )
        self.assertEqual(
            self.env["subscription.dunning.policy"]._get_default(),
            self.env.ref("subscription_billing.dunning_policy_default"),
        )


@tagged("post_install", "-at_install")
class TestRetryPaymentVisibility(SubscriptionCommon):
    """The Retry Payment buttons (invoice and follow-up) show exactly when
    the method accepts to retry."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_demo_provider()

    def _token(self, partner):
        return (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.provider.payment_method_ids[:1].id,
                    "payment_details": "4242",
                    "partner_id": partner.id,
                    "provider_ref": "demo",
                    "demo_simulated_state": "error",
                }
            )
        )

    def _invoice(self, token=None):
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(start="2026-05-01")
            if token:
                sub.payment_token_id = token
            sub.action_start()
            self._run_billing()
        invoice = self._invoices(sub)
        invoice.subscription_to_charge = False  # not charged by the cron here
        return invoice.with_user(self.billing_user)

    def _button_visible(self, invoice):
        arch = etree.fromstring(
            invoice.get_views([(False, "form")])["views"]["form"]["arch"]
        )
        [button] = arch.xpath("//button[@name='action_subscription_retry_payment']")
        self.assertEqual(button.get("invisible"), "not subscription_can_retry_payment")
        invoice.invalidate_recordset(["subscription_can_retry_payment"])
        return invoice.subscription_can_retry_payment

    def _assert_refused(self, invoice, message):
        self.assertFalse(self._button_visible(invoice))
        with self.assertRaisesRegex(UserError, message):
            invoice.action_subscription_retry_payment()

    def test_open_invoice_with_a_saved_method_then_pending(self):
        invoice = self._invoice(self._token(self.customer))
        self.assertTrue(self._button_visible(invoice))
        invoice.action_subscription_retry_payment()
        event = invoice.subscription_dunning_event_ids
        self.assertEqual(event.result, "queued")
        self._assert_refused(invoice, "still being processed")
        # A transaction pending at the provider (e.g. from the portal).
        event.sudo().result = "expired"
        self.assertTrue(self._button_visible(invoice))
        event.transaction_id.sudo()._set_pending()
        self._assert_refused(invoice, "still being processed")

    def test_no_saved_method(self):
        self._assert_refused(self._invoice(), "no saved payment method")

    def test_disabled_provider(self):
        invoice = self._invoice(self._token(self.customer))
        # A provider disabled while its tokens stay active (e.g. a migration).
        self.env.cr.execute(
            "UPDATE payment_provider SET state = 'disabled' WHERE id = %s",
            [self.provider.id],
        )
        self.provider.invalidate_recordset(["state"])
        self._assert_refused(invoice, "provider is disabled")
        # Disabled the usual way, its tokens are archived: no method left.
        self.provider.state = "test"
        self.provider.state = "disabled"
        self._assert_refused(invoice, "no saved payment method")

    def test_paid_or_cancelled_invoice(self):
        invoice = self._invoice(self._token(self.customer))
        invoice.sudo().button_draft()
        self._assert_refused(invoice, "cannot be charged")
        invoice.sudo().button_cancel()
        self._assert_refused(invoice, "cannot be charged")

    def test_follow_up_button_matches(self):
        invoice = self._invoice(self._token(self.customer))
        dunning = self.env["subscription.dunning"]._open(
            invoice, "soft", self._date("2026-05-02")
        )
        dunning = dunning.with_user(self.billing_user)
        arch = etree.fromstring(
            dunning.get_views([(False, "form")])["views"]["form"]["arch"]
        )
        [button] = arch.xpath("//button[@name='action_retry_now']")
        self.assertEqual(
            button.get("invisible"), "state != 'open' or not can_retry_payment"
        )
        self.assertTrue(dunning.can_retry_payment)
        dunning.action_retry_now()
        self.env.invalidate_all()
        self.assertFalse(dunning.can_retry_payment)
        with self.assertRaisesRegex(UserError, "still being processed"):
            dunning.action_retry_now()
