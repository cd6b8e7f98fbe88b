# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Rights and lifecycle at the edges: who may change what, hostile values
in the change API, fixed terms that stop renewing, every document listed."""

import json
import re

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import SubscriptionCommon


@tagged("post_install", "-at_install")
class TestRights(SubscriptionCommon):
    def _started(self, plan=None, start="2026-03-01", **values):
        with freeze_time(start):
            sub = self._create_subscription(plan=plan, start=start, **values)
            sub.action_start()
            self._run_billing()
        return sub

    def test_context_key_from_outside_does_not_bypass_the_change_engine(self):
        sub = self._started()
        plan_b = self._create_plan("Other plan", price=99.0)
        as_user = sub.with_user(self.billing_user)
        # Any JSON value under the engine's key, as a JSON-2 call could send it.
        for forged in (True, 1, "1", "engine", {"engine": True}):
            with self.assertRaises(UserError):
                as_user.with_context(subscription_change=forged).write(
                    {"plan_id": plan_b.id}
                )
            with self.assertRaises(UserError):
                as_user.line_ids.with_context(subscription_change=forged).write(
                    {"price_unit": 1.0}
                )
        for vals in (
            {"state": "closed"},
            {"state": "draft"},
            {"next_invoice_date": "2030-01-01"},
            {"invoiced_until": "2030-01-01"},
            {"usage_invoiced_until": "2030-01-01"},
        ):
            with self.assertRaises(UserError, msg=vals):
                as_user.with_context(subscription_change=True).write(vals)
        with self.assertRaises(UserError):
            self.env["subscription.subscription"].with_user(self.billing_user).create(
                {
                    "partner_id": self.customer.id,
                    "plan_id": self.plan_monthly.id,
                    "state": "active",
                    "invoiced_until": "2030-01-01",
                }
            )
        sub.invalidate_recordset()
        self.assertEqual(sub.plan_id, self.plan_monthly)
        self.assertEqual(sub.state, "active")
        self.assertEqual(str(sub.invoiced_until), "2026-03-31")
        self.assertEqual(sub.line_ids.price_unit, 20.0)
        self.assertFalse(sub.change_ids)

    def test_tiers_follow_the_plan_rights_and_are_validated(self):
        plan = self._create_plan("Tiered", price=10.0)
        metric = self.env["subscription.metric"].create(
            {"name": "API calls", "code": "api_calls_edges", "aggregation": "count"}
        )
        plan.line_ids = [
            Command.create(
                {
                    "product_id": self.product_seat.id,
                    "line_type": "usage",
                    "metric_id": metric.id,
                    "charge_model": "graduated",
                    "tier_ids": [
                        Command.create({"from_units": 0, "to_units": 100}),
                        Command.create({"from_units": 100, "unit_price": 0.5}),
                    ],
                }
            )
        ]
        tiers = plan.line_ids.tier_ids.sorted("from_units")
        Tier = self.env["subscription.pricing.tier"].with_user(self.billing_user)
        with self.assertRaises(AccessError):
            tiers[1].with_user(self.billing_user).unit_price = 0.01
        with self.assertRaises(AccessError):
            # (on the plan's recurring line: no price list to check first)
            Tier.create(
                {
                    "plan_line_id": plan.line_ids.filtered(
                        lambda line: line.line_type == "fixed"
                    ).id,
                    "unit_price": 0.1,
                }
            )
        with self.assertRaises(AccessError):
            tiers[0].with_user(self.billing_user).unlink()
        self.assertEqual(tiers[1].unit_price, 0.5)
        # The manager may, but tiers written alone are checked as a whole.
        with self.assertRaises(ValidationError):
            tiers[1].from_units = 50.0  # overlaps the first tier
        with self.assertRaises(ValidationError):
            tiers[1].write({"unit_price": float("nan")})
        # A subscription's own tiers stay the user's.
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan)
        usage_line = sub.line_ids.filtered(lambda line: line.line_type == "usage")
        own = usage_line.tier_ids.sorted("from_units")
        own[1].with_user(self.billing_user).unit_price = 0.4
        self.assertEqual(own[1].unit_price, 0.4)

    def test_negative_or_infinite_line_values_are_one_rule(self):
        for values in (
            {"price_unit": -5.0},
            {"price_unit": float("inf")},
            {"quantity": float("nan")},
            {"quantity": 1e300},
            {"discount": float("inf")},
        ):
            with self.assertRaises(ValidationError, msg=values):
                self._create_plan("Broken", **{}).line_ids.write(values)
        with self.assertRaises(ValidationError):
            self.env["subscription.plan"].create(
                {
                    "name": "Negative",
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": self.product_pro.id,
                                "quantity": 1,
                                "price_unit": -1.0,
                            }
                        )
                    ],
                }
            )
        sub = self._started()
        with freeze_time("2026-03-10"), self.assertRaises(UserError):
            sub.with_user(self.billing_user).change_price(sub.line_ids.id, -1.0)

    def test_hostile_values_in_the_change_api_are_clear_errors(self):
        sub = self._started()
        line = sub.line_ids
        as_user = sub.with_user(self.billing_user)
        calls = [
            lambda: as_user.change_quantity(line.id, float("inf")),
            lambda: as_user.change_quantity(line.id, float("-inf")),
            lambda: as_user.change_quantity(line.id, float("nan")),
            lambda: as_user.change_quantity(line.id, 1e308),
            lambda: as_user.change_quantity(line.id, "10" * 400),
            lambda: as_user.change_quantity(line.id, "many"),
            lambda: as_user.change_quantity(line.id, True),
            lambda: as_user.change_quantity(line.id, [3]),
            lambda: as_user.change_quantity(str(line.id), 3),
            lambda: as_user.change_quantity(line.id, 3, date="2026-02-30"),
            lambda: as_user.change_quantity(line.id, 3, date="0001-01-01"),
            lambda: as_user.change_quantity(line.id, 3, date="9999-12-31"),
            lambda: as_user.change_quantity(line.id, 3, date="tomorrow"),
            lambda: as_user.change_quantity(line.id, 3, date=20260301),
            lambda: as_user.change_quantity(line.id, 3, policy="sometimes"),
            lambda: as_user.change_price(line.id, float("inf")),
            lambda: as_user.change_price(line.id, -3),
            lambda: as_user.pause(resume_date="2026-13-01"),
            lambda: as_user.pause(bill_during_pause="yes"),
            lambda: as_user.cancel(policy="never"),
            lambda: as_user.cancel(reason_id="abc"),
            lambda: as_user.change_plan({"id": 1}),
            lambda: as_user.action_generate_due_invoices("2026-02-30"),
            lambda: as_user.action_generate_due_invoices("0001-01-01"),
            lambda: as_user.action_generate_due_invoices(["2026-03-01"]),
        ]
        with freeze_time("2026-03-10"):
            for index, call in enumerate(calls):
                with self.assertRaises(UserError, msg=f"call {index}"):
                    call()
        self.assertFalse(sub.change_ids)
        self.assertEqual(line.quantity, 1.0)

    def test_read_only_users_call_no_public_method_that_changes(self):
        """An accountant (Invoicing rights, read-only on subscriptions) and a
        portal customer call each public method that changes a subscription,
        as the external API lets them: each is refused, nothing changes."""
        accountant = new_test_user(
            self.env, login="edges_accountant", groups="account.group_account_invoice"
        )
        option = self.env["subscription.plan.line"].create(
            {
                "plan_id": self.plan_monthly.id,
                "product_id": self.product_seat.id,
                "price_unit": 5.0,
                "is_optional": True,
            }
        )
        sub = self._started()
        with freeze_time("2026-03-01"):
            draft = self._create_subscription()
        before = (sub.state, sub.line_ids.quantity, len(sub.invoice_ids))
        line = sub.line_ids
        calls = {
            "action_start": lambda s: draft.with_user(s.env.user).action_start(),
            "action_invoice_now": lambda s: s.action_invoice_now(),
            "action_generate_due_invoices": lambda s: s.action_generate_due_invoices(),
            "change_quantity": lambda s: s.change_quantity(line.id, 4),
            "change_price": lambda s: s.change_price(line.id, 4),
            "change_plan": lambda s: s.change_plan(self.plan_monthly.copy().id),
            "add_option": lambda s: s.add_option(option.id),
            "pause": lambda s: s.pause(),
            "cancel": lambda s: s.cancel(),
            "reactivate": lambda s: s.reactivate(),
            "write": lambda s: s.write({"user_id": accountant.id}),
            "unlink": lambda s: s.unlink(),
        }
        customer_user = new_test_user(
            self.env,
            login="edges_customer",
            groups="base.group_portal",
            partner_id=self.customer.id,
        )
        with freeze_time("2026-03-10"):
            for user in (accountant, customer_user):
                for name, call in calls.items():
                    with self.assertRaises(AccessError, msg=(user.login, name)):
                        call(sub.with_user(user))
        sub.invalidate_recordset()
        self.assertEqual(
            (sub.state, sub.line_ids.quantity, len(sub.invoice_ids)), before
        )
        self.assertEqual(draft.state, "draft")

    def test_invoice_button_of_one_company_bills_only_that_company(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self.env.user.company_ids |= company_b
        product_b = self.env["product.product"].create(
            {
                "name": "Plan B",
                "type": "service",
                "company_id": company_b.id,
                "categ_id": self.product_category.id,
            }
        )
        plan_b = (
            self.env["subscription.plan"]
            .with_company(company_b)
            .create(
                {
                    "name": "Plan B",
                    "company_id": company_b.id,
                    "invoice_policy": "draft",
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product_b.id,
                                "quantity": 1,
                                "price_unit": 7.0,
                            }
                        )
                    ],
                }
            )
        )
        customer_b = self.env["res.partner"].create({"name": "Customer B"})
        with freeze_time("2026-03-01"):
            ours = self._create_subscription()
            theirs = (
                self.env["subscription.subscription"]
                .with_company(company_b)
                .create(
                    {
                        "partner_id": customer_b.id,
                        "plan_id": plan_b.id,
                        "company_id": company_b.id,
                        "date_start": "2026-03-01",
                    }
                )
            )
            (ours | theirs).action_start()
            ids = (
                self.env["subscription.subscription"]
                .with_user(self.billing_user)
                .action_generate_due_invoices()
            )
        self.assertEqual(self.env["account.move"].browse(ids), ours.invoice_ids)
        self.assertEqual(ours.invoice_ids.amount_untaxed, 20.0)
        self.assertFalse(theirs.invoice_ids, "not the user's company")
        with freeze_time("2026-03-01"):
            self._run_billing()
        self.assertEqual(theirs.invoice_ids.amount_untaxed, 7.0)


@tagged("post_install", "-at_install")
class TestLifecycleEdges(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.yearly = cls._create_plan(
            "Yearly term",
            price=1200.0,
            billing_unit="year",
            term_type="fixed",
            term_interval=12,
            term_unit="month",
            auto_renew=True,
            commitment_interval=12,
            commitment_unit="month",
            notice_days=30,
            portal_cancel=True,
        )

    def _yearly(self):
        with freeze_time("2026-01-01"):
            sub = self._create_subscription(plan=self.yearly, start="2026-01-01")
            sub.action_start()
            self._run_billing()
        self.assertEqual(str(sub.date_end), "2026-12-31")
        return sub

    def test_renewing_term_stops_at_its_end_when_notice_is_given_in_time(self):
        sub = self._yearly()
        as_user = sub.with_user(self.billing_user)
        with freeze_time("2026-06-01"):
            with self.assertRaises(UserError, msg="committed: no early end"):
                as_user.cancel(policy="immediate")
            result = as_user.cancel(policy="end_of_period")
        self.assertEqual(result["effective_date"], "2027-01-01")
        self.assertEqual(result["state"], "scheduled")
        self.assertEqual(str(sub.date_end), "2026-12-31")
        with freeze_time("2027-01-02"):
            self._run_billing()
        self.assertEqual(sub.state, "closed")
        self.assertEqual(len(sub.invoice_ids), 1, "the term did not renew")

    def test_renewing_term_given_late_stops_at_the_next_term(self):
        sub = self._yearly()
        with freeze_time("2026-12-15"):
            result = sub.with_user(self.billing_user).cancel(policy="end_of_period")
        self.assertEqual(result["effective_date"], "2028-01-01")
        self.assertEqual(str(sub.date_end), "2027-12-31")
        with freeze_time("2027-01-01"):
            self._run_billing()
        self.assertEqual(len(sub.invoice_ids), 2, "the second term is billed")
        self.assertEqual(sub.state, "active")

    def test_renewing_term_cancelled_from_the_portal(self):
        sub = self._yearly()
        portal = new_test_user(
            self.env,
            login="yearly_portal",
            groups="base.group_portal",
            partner_id=self.customer.id,
        )
        reason = self.env.ref("subscription_billing.close_reason_too_expensive")
        with freeze_time("2026-06-01"):
            summary = (
                sub.with_user(portal)
                .sudo()
                ._portal_change("cancel", {"reason_id": str(reason.id)}, simulate=False)
            )
        self.assertEqual(summary["effective_date"], "2027-01-01")
        self.assertEqual(sub.close_reason_id, reason)

    def test_change_documents_are_listed_with_the_subscription(self):
        plan_plus = self._create_plan("Plus", price=40.0)
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(start="2026-05-01")
            sub.action_start()
            self._run_billing()
        with freeze_time("2026-05-11"):
            charge = sub.change_plan(plan_plus.id, policy="immediate")
        with freeze_time("2026-05-21"):
            credit = sub.change_plan(self.plan_monthly.id, policy="immediate")
        documents = self.env["account.move"].browse(
            [charge["document_id"], credit["document_id"]]
        )
        self.assertEqual(documents.mapped("move_type"), ["out_invoice", "out_refund"])
        self.assertTrue(documents <= sub.invoice_ids)
        self.assertEqual(sub.invoice_count, 3)
        action = sub.action_view_invoices()
        self.assertEqual(sorted(action["domain"][0][2]), sorted(sub.invoice_ids.ids))

    def test_catch_up_invoices_fall_due_on_their_own_date(self):
        with freeze_time("2026-01-01"):
            sub = self._create_subscription(start="2026-01-01")
            sub.action_start()
        with freeze_time("2026-04-15"):
            self._run_billing()
        invoices = self._invoices(sub)
        self.assertEqual(
            [str(m.invoice_date) for m in invoices],
            ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"],
        )
        self.assertEqual(
            [str(m.invoice_date_due) for m in invoices],
            ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"],
        )
        term = self.env.ref("account.account_payment_term_30days")
        with freeze_time("2026-01-01"):
            termed = self._create_subscription(
                start="2026-01-01", partner=self.customer_b
            )
            termed.payment_term_id = term
            termed.action_start()
        with freeze_time("2026-03-15"):
            self._run_billing()
        self.assertEqual(
            [str(m.invoice_date_due) for m in self._invoices(termed)],
            ["2026-01-31", "2026-03-03", "2026-03-31"],
        )


@tagged("post_install", "-at_install")
class TestRightsOverHttp(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        product = cls.env["product.product"].create(
            {"name": "Edge Pro", "type": "service", "lst_price": 30.0}
        )
        cls.plan = cls.env["subscription.plan"].create(
            {
                "name": "Edge plan",
                "invoice_policy": "draft",
                "portal_change_quantity": True,
                "portal_cancel": True,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 2,
                            "price_unit": 15.0,
                            "max_quantity": 10,
                        }
                    )
                ],
            }
        )
        cls.plan_b = cls.plan.copy({"name": "Edge plan B"})
        cls.acme = cls.env["res.partner"].create(
            {"name": "Edge Acme", "is_company": True, "email": "edge@example.com"}
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="edge_portal",
            groups="base.group_portal",
            partner_id=cls.acme.id,
        )
        cls.accountant = new_test_user(
            cls.env, login="edge_accountant", groups="account.group_account_invoice"
        )
        cls.seller = new_test_user(
            cls.env,
            login="edge_seller",
            groups="subscription_billing.group_subscription_user",
        )
        with freeze_time("2026-05-01"):
            cls.sub = cls.env["subscription.subscription"].create(
                {
                    "partner_id": cls.acme.id,
                    "plan_id": cls.plan.id,
                    "date_start": "2026-05-01",
                }
            )
            cls.sub.action_start()

    def _csrf(self):
        page = self.url_open("/odoo").text
        match = re.search(r'csrf_token: "([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        return match.group(1)

    def test_staff_cannot_change_through_the_portal_routes(self):
        line = self.sub.line_ids
        for login in ("edge_accountant", "edge_seller"):
            self.authenticate(login, login)
            csrf = self._csrf()
            for route, data in (
                (
                    "change",
                    {
                        "operation": "change_quantity",
                        "line_id": str(line.id),
                        "quantity": "5",
                        "confirm": "1",
                    },
                ),
                ("payment_method", {"token_id": "1"}),
            ):
                response = self.url_open(
                    f"/my/subscriptions/{self.sub.id}/{route}",
                    data={"csrf_token": csrf, **data},
                    allow_redirects=False,
                )
                self.assertEqual(response.status_code, 403, (login, route))
        self.sub.invalidate_recordset()
        self.assertEqual(self.sub.line_ids.quantity, 2.0)
        self.assertFalse(self.sub.change_ids)
        with self.assertRaises(AccessError):
            self.sub.with_user(self.accountant).sudo()._portal_change(
                "change_quantity",
                {"line_id": str(line.id), "quantity": "5"},
                simulate=False,
            )

    def test_customer_quantity_inf_or_nan_is_a_message(self):
        self.authenticate("edge_portal", "edge_portal")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        for quantity in ("inf", "-inf", "nan", "1e308", "1" * 400, "\x00", ""):
            response = self.url_open(
                f"/my/subscriptions/{self.sub.id}/change",
                data={
                    "csrf_token": csrf,
                    "operation": "change_quantity",
                    "line_id": str(self.sub.line_ids.id),
                    "quantity": quantity,
                    "confirm": "1",
                },
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 200, quantity)
            self.assertIn("alert-danger", response.text, quantity)
        self.sub.invalidate_recordset()
        self.assertEqual(self.sub.line_ids.quantity, 2.0)

    def test_json2_write_with_the_engine_context_key_is_refused(self):
        key = (
            self.env["res.users.apikeys"]
            .with_user(self.seller)
            .sudo()
            ._generate(None, "edges", None)
        )
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        for vals in (
            {"plan_id": self.plan_b.id},
            {"state": "closed"},
            {"next_invoice_date": "2030-01-01"},
        ):
            with mute_logger("odoo.http"):
                response = self.url_open(
                    "/json/2/subscription.subscription/write",
                    data=json.dumps(
                        {
                            "ids": self.sub.ids,
                            "vals": vals,
                            "context": {"subscription_change": True},
                        }
                    ),
                    headers=headers,
                )
            self.assertEqual(response.status_code, 422, response.text)
        self.sub.invalidate_recordset()
        self.assertEqual(self.sub.plan_id, self.plan)
        self.assertEqual(self.sub.state, "active")
