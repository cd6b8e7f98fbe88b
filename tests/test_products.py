# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Products sold by subscription: the product's plans and prices (the plans'
lines), and plan prices per currency and pricelist (Odoo's pricelist rules,
a rule for one plan)."""

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import UsageCommon

DAY = fields.Date.to_date("2026-03-01")


@tagged("post_install", "-at_install")
class TestProducts(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_currency = cls.env.company.currency_id
        # 1 company-currency unit = 2 of the other (setup_other_currency).
        code = "EUR" if cls.company_currency.name == "USD" else "USD"
        cls.foreign = cls.setup_other_currency(code)
        # Its list price (15.00) is not the plans' price (10.00, 100.00).
        cls.product_x = cls._create_product(
            name="Hosting", lst_price=15.0, type="service"
        )
        cls.plan_a = cls._create_plan("Monthly", price=10.0, product=cls.product_x)
        cls.plan_b = cls._create_plan(
            "Yearly", price=100.0, product=cls.product_x, billing_unit="year"
        )
        # A metered product: on a usage line of a plan.
        cls.plan_b.line_ids = [cls._usage_line()]
        cls.Pricelist = cls.env["product.pricelist"]

    def _pricelist(self, name, currency, rules):
        return self.Pricelist.create(
            {
                "name": name,
                "currency_id": currency.id,
                "item_ids": [Command.create(rule) for rule in rules],
            }
        )

    def _x_rule(self, **values):
        return {
            "applied_on": "1_product",
            "product_tmpl_id": self.product_x.product_tmpl_id.id,
            **values,
        }

    def _line_of(self, plan, product=None):
        return (product or self.product_x)._get_subscription_plan_line(plan)

    # === The product's Subscription tab === #

    def test_product_tab_lists_its_plans_and_prices(self):
        template = self.product_x.product_tmpl_id.with_user(self.billing_user)
        lines = template.subscription_plan_line_ids
        self.assertEqual(lines.plan_id, self.plan_a | self.plan_b)
        rows = sorted(
            (
                line.plan_id.name,
                line.price_unit,
                line.billing_period_label,
                line.line_type,
                line.is_optional,
            )
            for line in lines
        )
        self.assertEqual(
            rows,
            [
                ("Monthly", 10.0, "Monthly", "fixed", False),
                ("Yearly", 100.0, "Yearly", "fixed", False),
            ],
        )
        self.assertTrue(template.is_subscription_product)
        self.assertEqual(template.subscription_plan_count, 2)
        self.assertFalse(template.subscription_metric_ids, "not metered")
        # The metered product shows the metric its usage line rates.
        metered = self.product_api.product_tmpl_id.with_user(self.billing_user)
        self.assertEqual(metered.subscription_metric_ids, self.metric_api)
        self.assertEqual(
            set(metered.subscription_plan_line_ids.mapped("line_type")), {"usage"}
        )
        self.assertEqual(
            metered.subscription_plan_line_ids.plan_id, self.plan_usage | self.plan_b
        )
        # A product of no plan; an archived plan no longer offers its product.
        seat = self.product_seat.product_tmpl_id.with_user(self.billing_user)
        self.assertFalse(seat.is_subscription_product)
        self.assertEqual(seat.subscription_plan_count, 0)
        self.plan_b.action_archive()
        template.invalidate_recordset()
        self.assertEqual(template.subscription_plan_line_ids.plan_id, self.plan_a)
        # Searchable (the sale lines offer the subscription products).
        found = self.env["product.template"].search(
            [
                ("is_subscription_product", "=", True),
                ("id", "in", (template | seat).ids),
            ]
        )
        self.assertEqual(found, template)
        not_found = self.env["product.template"].search(
            [
                ("is_subscription_product", "=", False),
                ("id", "in", (template | seat).ids),
            ]
        )
        self.assertEqual(not_found, seat)

    def test_product_tab_shown_to_salespeople(self):
        """Salespeople sell the plans: they read the product's plans and
        prices (read-only); a user with neither right sees no tab."""
        salesman = new_test_user(
            self.env, login="salesman_products", groups="sales_team.group_sale_salesman"
        )
        template = self.product_x.product_tmpl_id.with_user(salesman)
        self.assertEqual(
            template.subscription_plan_line_ids.mapped("price_unit"), [10.0, 100.0]
        )
        stranger = new_test_user(
            self.env, login="stranger_products", groups="base.group_user"
        )
        for user, shown in (
            (salesman, True),
            (self.billing_user, True),
            (stranger, False),
        ):
            arch = (
                self.env["product.template"]
                .with_user(user)
                .get_views([(False, "form")])["views"]["form"]["arch"]
            )
            self.assertEqual('name="subscription_plan_line_ids"' in arch, shown)
            self.assertEqual('name="action_view_subscriptions"' in arch, shown)

    def test_plan_line_of_a_product(self):
        line = self._line_of(self.plan_a)
        self.assertEqual(line, self.plan_a.line_ids)
        self.assertEqual(line.price_unit, 10.0)
        # Recurring first, else usage; empty when the plan does not sell it.
        storage = self.env["subscription.metric"].create(
            {"name": "Storage", "code": "storage", "aggregation": "sum"}
        )
        self.plan_b.line_ids = [
            self._usage_line(product=self.product_x, metric=storage)
        ]
        self.assertEqual(self._line_of(self.plan_b).line_type, "fixed")
        self.assertEqual(
            self._line_of(self.plan_b, self.product_api).line_type, "usage"
        )
        self.assertFalse(self._line_of(self.plan_a, self.product_seat))

    def test_smart_buttons_open_the_plans_and_running_subscriptions(self):
        template = self.product_x.product_tmpl_id.with_user(self.billing_user)
        Sub = self.env["subscription.subscription"].with_user(self.billing_user)
        with freeze_time(DAY):
            running = Sub.create(
                {"partner_id": self.customer.id, "plan_id": self.plan_a.id}
            )
            running.action_start()
            Sub.create({"partner_id": self.customer_b.id, "plan_id": self.plan_a.id})
            other = Sub.create(
                {"partner_id": self.customer_b.id, "plan_id": self.plan_monthly.id}
            )
            other.action_start()
            self.assertEqual(template.subscription_count, 1, "running, with X")
            action = template.action_view_subscriptions()
            self.assertEqual(action["res_model"], "subscription.subscription")
            self.assertEqual(Sub.search(action["domain"]), running)
        plans = template.action_view_subscription_plans()
        self.assertEqual(plans["res_model"], "subscription.plan")
        self.assertEqual(
            self.env["subscription.plan"].search(plans["domain"]),
            self.plan_a | self.plan_b,
        )

    # === Plan prices by pricelist === #

    def test_plan_rule_in_another_currency_is_stored_and_billed(self):
        """EUR pricelist, fixed 9.00 EUR for X on Monthly (10.00 USD): the
        subscription stores 9.00 EUR and the billing run bills 9.00 EUR."""
        pricelist = self._pricelist(
            "Foreign plan prices",
            self.foreign,
            [
                self._x_rule(
                    compute_price="fixed", fixed_price=9.0, plan_id=self.plan_a.id
                )
            ],
        )
        Sub = self.env["subscription.subscription"].with_user(self.billing_user)
        with freeze_time(DAY):
            sub = Sub.create(
                {
                    "partner_id": self.customer.id,
                    "plan_id": self.plan_a.id,
                    "pricelist_id": pricelist.id,
                }
            )
            self.assertEqual(sub.currency_id, self.foreign)
            self.assertEqual(sub.line_ids.mapped("price_unit"), [9.0])
            sub.action_start()
            self._run_billing()
        invoice = self._invoices(sub)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.currency_id, self.foreign)
        self.assertEqual(invoice.amount_untaxed, 9.0)
        self.assertEqual(invoice.invoice_line_ids.price_unit, 9.0)
        # The product sold alone on that pricelist: the rule is not for it.
        self.assertEqual(pricelist._get_product_price(self.product_x, 1), 30.0)

    def test_pricelist_without_rule_converts_the_plan_price(self):
        pricelist = self._pricelist("Foreign", self.foreign, [])
        line = self._line_of(self.plan_a)
        self.assertEqual(line._get_pricelist_price(pricelist, 1, DAY), 20.0)
        # No pricelist: the plan's price, converted to a currency asked for.
        empty = self.Pricelist
        self.assertEqual(line._get_pricelist_price(empty, 1, DAY), 10.0)
        self.assertEqual(line._get_pricelist_price(empty, 1, DAY, self.foreign), 20.0)
        sub = self._create_subscription(plan=self.plan_a, pricelist_id=pricelist.id)
        self.assertEqual(sub.line_ids.price_unit, 20.0)

    def test_discount_formula_on_the_plan_starts_from_the_plan_price(self):
        pricelist = self._pricelist(
            "Ten percent",
            self.company_currency,
            [
                {
                    "applied_on": "3_global",
                    "compute_price": "formula",
                    "base": "list_price",
                    "price_discount": 10.0,
                    "plan_id": self.plan_a.id,
                }
            ],
        )
        line = self._line_of(self.plan_a)
        self.assertEqual(line._get_pricelist_price(pricelist, 1, DAY), 9.0)
        sub = self._create_subscription(plan=self.plan_a, pricelist_id=pricelist.id)
        self.assertEqual(sub.currency_id, self.company_currency)
        self.assertEqual(sub.line_ids.price_unit, 9.0)
        # A rule without a plan on the sales price: the plan's price is the base.
        everyone = self._pricelist(
            "Twenty percent",
            self.company_currency,
            [{"compute_price": "percentage", "percent_price": 20.0}],
        )
        self.assertEqual(line._get_pricelist_price(everyone, 1, DAY), 8.0)
        self.assertEqual(everyone._get_product_price(self.product_x, 1), 12.0)

    def test_plan_rule_applies_to_its_plan_only_and_comes_first(self):
        # For plan A: 10 % off every product (a global rule). For everyone: X
        # at 12.00 (a product rule, which Odoo's order would put first).
        pricelist = self._pricelist(
            "Scoped",
            self.company_currency,
            [
                {
                    "applied_on": "3_global",
                    "compute_price": "percentage",
                    "percent_price": 10.0,
                    "plan_id": self.plan_a.id,
                },
                self._x_rule(compute_price="fixed", fixed_price=12.0),
            ],
        )
        day = DAY
        self.assertEqual(
            self._line_of(self.plan_a)._get_pricelist_price(pricelist, 1, day), 9.0
        )
        self.assertEqual(
            self._line_of(self.plan_b)._get_pricelist_price(pricelist, 1, day), 12.0
        )
        # An ordinary sale of X: the plan's rule never applies.
        self.assertEqual(pricelist._get_product_price(self.product_x, 1), 12.0)
        self.assertEqual(pricelist._get_product_price(self.product_seat, 1), 5.0)
        # A rule of plan A alone: plan B and an ordinary sale keep their price.
        pricelist.item_ids.filtered(lambda rule: not rule.plan_id).unlink()
        self.assertEqual(
            self._line_of(self.plan_b)._get_pricelist_price(pricelist, 1, day), 100.0
        )
        self.assertEqual(pricelist._get_product_price(self.product_x, 1), 15.0)

    def test_line_added_to_a_draft_takes_the_pricelist_price(self):
        pricelist = self._pricelist(
            "Plan prices",
            self.company_currency,
            [
                self._x_rule(
                    compute_price="fixed", fixed_price=7.5, plan_id=self.plan_a.id
                )
            ],
        )
        sub = self._create_subscription(
            plan=self.plan_monthly, pricelist_id=pricelist.id
        )
        sub.line_ids = [Command.create({"product_id": self.product_x.id})]
        # X is not on the subscription's plan: priced as an ordinary sale.
        self.assertEqual(sub.line_ids[-1].price_unit, 15.0)
        sub.plan_id = self.plan_a
        sub.line_ids = [Command.create({"product_id": self.product_x.id})]
        self.assertEqual(sub.line_ids.mapped("price_unit"), [7.5, 7.5])

    # === Currencies === #

    def test_currency_must_be_the_pricelist_or_the_plan_one(self):
        pricelist = self._pricelist("Foreign", self.foreign, [])
        with self.assertRaisesRegex(ValidationError, "pricelist Foreign"):
            self._create_subscription(
                plan=self.plan_a,
                pricelist_id=pricelist.id,
                currency_id=self.company_currency.id,
            )
        with self.assertRaisesRegex(ValidationError, "plan Monthly is priced in"):
            self._create_subscription(
                plan=self.plan_a, currency_id=self.foreign.id, pricelist_id=False
            )
        # Usage prices stay in the plan's currency: no other currency.
        with self.assertRaisesRegex(ValidationError, "rates usage at prices in"):
            self._create_subscription(plan=self.plan_b, pricelist_id=pricelist.id)

    def test_change_to_a_plan_in_another_currency_priced_by_the_pricelist(self):
        plan_c = self._create_plan(
            "Foreign plan",
            price=30.0,
            product=self.product_x,
            currency_id=self.foreign.id,
        )
        # The pricelist is in the company currency: plan C's 30.00 = 15.00.
        pricelist = self._pricelist("Home", self.company_currency, [])
        with freeze_time(DAY):
            sub = self._create_subscription(plan=self.plan_a, pricelist_id=pricelist.id)
            sub.action_start()
            self._run_billing()
        with freeze_time("2026-03-11"):
            sub.change_plan(plan_c.id, policy="immediate")
        self.assertEqual(sub.plan_id, plan_c)
        self.assertEqual(sub.currency_id, self.company_currency)
        current = sub.line_ids.filtered(lambda line: not line.date_end)
        self.assertEqual(current.mapped("price_unit"), [15.0])
        # Without a pricelist, a plan in another currency is refused.
        with freeze_time("2026-03-11"):
            bare = self._create_subscription(
                plan=self.plan_a,
                partner=self.customer_b,
                start="2026-03-11",
                pricelist_id=False,
            )
            bare.action_start()
            with self.assertRaisesRegex(UserError, "Foreign plan is priced in"):
                bare.change_plan(plan_c.id, policy="immediate")

    def test_termination_fee_of_a_plan_in_another_currency_is_converted(self):
        plan = self._create_plan(
            "Committed foreign",
            price=40.0,
            product=self.product_x,
            currency_id=self.foreign.id,
            commitment_interval=12,
            early_termination="fee",
            termination_fee=100.0,
        )
        # Billed in the company currency: 40.00 = 20.00 a month, fee 50.00.
        pricelist = self._pricelist("Home", self.company_currency, [])
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(
                plan=plan, start="2026-05-01", pricelist_id=pricelist.id
            )
            sub.action_start()
            self._run_billing()
        self.assertEqual(self._invoices(sub).amount_untaxed, 20.0)
        reason = self.env.ref("subscription_billing.close_reason_too_expensive")
        with freeze_time("2026-05-11"):
            result = sub.cancel(policy="immediate", reason_id=reason.id)
        self.assertEqual((result["credit"], result["fee"]), (-13.55, 50.0))
        document = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(document.currency_id, self.company_currency)
        self.assertEqual(document.amount_untaxed, 36.45)
