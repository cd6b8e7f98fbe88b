# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Quotation templates with a plan, the plan that fills a quotation, and the
portal links between a customer's orders and subscriptions."""

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import SaleCommon


class SalePortalCommon(SaleCommon):
    """A salesperson who uses quotation templates; a plan "Team" of 5 seats at
    8.00 with an option "Priority support" at 25.00."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson_tpl = new_test_user(
            cls.env,
            login="salesperson_tpl",
            groups="sales_team.group_sale_salesman,"
            "sale_management.group_sale_order_template",
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )
        cls.product_support = cls._create_product(
            name="Support", lst_price=99.0, type="service"
        )
        cls.plan_team = cls.env["subscription.plan"].create(
            {
                "name": "Team monthly",
                "billing_interval": 1,
                "billing_unit": "month",
                "invoice_policy": "post",
                "line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product_seat.id,
                            "quantity": 5,
                            "price_unit": 8.0,
                        }
                    ),
                    Command.create(
                        {
                            "product_id": cls.product_support.id,
                            "name": "Priority support",
                            "quantity": 1,
                            "price_unit": 25.0,
                            "is_optional": True,
                        }
                    ),
                ],
            }
        )

    def _filled_quotation(self, user=None):
        """A quotation of the Team plan, its lines filled by the plan."""
        order = self._create_quotation([], plan=self.plan_team, start=False, user=user)
        order.order_line = [
            Command.create(vals)
            for vals in order._subscription_plan_order_lines(self.plan_team)
        ]
        return order


@tagged("post_install", "-at_install")
class TestSaleTemplatePlan(SalePortalCommon):
    def test_template_sets_the_plan_and_its_prices(self):
        """Choosing the template fills its lines and sets its plan: the seats
        are recurring at the plan's 10.00 (not the product's 5.00), the setup
        fee is billed once at 100.00."""
        template = (
            self.env["sale.order.template"]
            .sudo()
            .create(
                {
                    "name": "Seats starter",
                    "subscription_plan_id": self.plan_seats.id,
                    "sale_order_template_line_ids": [
                        Command.create(
                            {"product_id": self.product_seat.id, "product_uom_qty": 3}
                        ),
                        Command.create(
                            {"product_id": self.product_setup.id, "product_uom_qty": 1}
                        ),
                    ],
                }
            )
        )
        form = Form(self.env["sale.order"].with_user(self.salesperson_tpl))
        form.partner_id = self.customer
        form.sale_order_template_id = template
        self.assertEqual(form.subscription_plan_id, self.plan_seats)
        order = form.save()
        seat, setup = order.order_line.sorted("sequence")
        self.assertEqual(order.subscription_order_kind, "new")
        self.assertEqual(
            (seat.product_id, seat.product_uom_qty), (self.product_seat, 3)
        )
        self.assertTrue(seat.subscription_is_recurring)
        self.assertEqual(seat.price_unit, 10.0)
        self.assertEqual(seat.subscription_recurrence, "Monthly")
        self.assertEqual(setup.price_unit, 100.0)
        self.assertEqual(setup.subscription_recurrence, "Once")
        self.assertEqual(order.subscription_recurring_amount, 30.0)
        self.assertEqual(order.amount_untaxed, 130.0)
        order.with_user(self.salesperson_tpl).action_confirm()
        sub = order.subscription_id
        self.assertEqual(sub.plan_id, self.plan_seats)
        self.assertEqual(
            [
                (line.product_id, line.quantity, line.price_unit)
                for line in sub.line_ids
            ],
            [(self.product_seat, 3.0, 10.0)],
        )

    def test_template_plan_on_create_and_a_template_without_plan(self):
        """Created with the template alone (import, RPC), the order gets the
        template's plan; a template without a plan keeps the order's plan."""
        with_plan = (
            self.env["sale.order.template"]
            .sudo()
            .create({"name": "Team", "subscription_plan_id": self.plan_team.id})
        )
        without = self.env["sale.order.template"].sudo().create({"name": "Terms only"})
        Order = self.env["sale.order"].with_user(self.salesperson_tpl)
        order = Order.create(
            {"partner_id": self.customer.id, "sale_order_template_id": with_plan.id}
        )
        self.assertEqual(order.subscription_plan_id, self.plan_team)
        order.sale_order_template_id = without
        self.assertEqual(order.subscription_plan_id, self.plan_team)
        plain = Order.create(
            {
                "partner_id": self.customer.id,
                "sale_order_template_id": without.id,
                "subscription_plan_id": self.plan_seats.id,
            }
        )
        self.assertEqual(plain.subscription_plan_id, self.plan_seats)
        self.assertFalse(
            Order.create({"partner_id": self.customer.id}).subscription_plan_id
        )

    def test_plan_fills_an_empty_quotation(self):
        """The plan on an empty quotation: 5 seats at 8.00 (the plan's price),
        the option in an optional section at quantity 0 and 25.00. Confirmed
        as is, the subscription has the seats alone."""
        form = Form(self.env["sale.order"].with_user(self.salesperson))
        form.partner_id = self.customer
        form.subscription_plan_id = self.plan_team
        order = form.save()
        seat, section, option = order.order_line.sorted("sequence")
        self.assertEqual(
            (seat.product_id, seat.product_uom_qty, seat.price_unit),
            (self.product_seat, 5.0, 8.0),
        )
        self.assertTrue(seat.subscription_is_recurring)
        self.assertEqual(
            (section.display_type, section.is_optional, section.name),
            ("line_section", True, "Options"),
        )
        self.assertEqual(
            (option.product_id, option.product_uom_qty, option.price_unit),
            (self.product_support, 0.0, 25.0),
        )
        self.assertEqual(option.name, "Priority support")
        self.assertTrue(option._is_line_optional())
        self.assertEqual(order.amount_untaxed, 40.0)
        order.with_user(self.salesperson).action_confirm()
        sub = order.subscription_id
        self.assertEqual(
            [
                (line.product_id, line.quantity, line.price_unit)
                for line in sub.line_ids
            ],
            [(self.product_seat, 5.0, 8.0)],
        )
        self.assertEqual(sub.recurring_amount, 40.0)
        # The option left at 0 has nothing to invoice: the first invoice (the
        # billing run's) invoices the order fully.
        self._run_billing()
        self.assertEqual(self._invoices(sub).amount_untaxed, 40.0)
        self.assertEqual(order.invoice_status, "invoiced")

    def test_plan_does_not_touch_existing_lines(self):
        """A quotation with product lines keeps them when the plan is chosen."""
        form = Form(self.env["sale.order"].with_user(self.salesperson))
        form.partner_id = self.customer
        with form.order_line.new() as line:
            line.product_id = self.product_setup
        form.subscription_plan_id = self.plan_team
        order = form.save()
        self.assertEqual(order.order_line.product_id, self.product_setup)

    def test_chosen_option_is_sold_and_nothing_at_zero_is_refused(self):
        order = self._filled_quotation(user=self.salesperson)
        seat = order.order_line.filtered(
            lambda line: line.product_id == self.product_seat
        )
        option = order.order_line.filtered(
            lambda line: line.product_id == self.product_support
        )
        seat.product_uom_qty = 0
        with self.assertRaisesRegex(
            UserError, "every line of the plan is at quantity 0"
        ):
            order.with_user(self.salesperson).action_confirm()
        self.assertFalse(order.subscription_id)
        seat.product_uom_qty = 2
        option.product_uom_qty = 1
        self.assertEqual(option.price_unit, 25.0)
        order.with_user(self.salesperson).action_confirm()
        self.assertEqual(
            sorted(
                (line.name, line.quantity, line.price_unit)
                for line in order.subscription_id.line_ids
            ),
            [("Extra seat", 2.0, 8.0), ("Priority support", 1.0, 25.0)],
        )
        self.assertEqual(order.subscription_id.recurring_amount, 41.0)

    def test_plan_quotations_smart_button(self):
        self._filled_quotation(user=self.salesperson)
        self._create_quotation([(self.product_seat, 1)])
        plan = self.plan_team.with_user(self.salesperson)
        self.assertEqual(plan.sale_order_count, 1)
        action = plan.action_view_sale_orders()
        orders = self.env["sale.order"].search(action["domain"])
        self.assertEqual(orders.subscription_plan_id, self.plan_team)
        self.assertEqual(action["context"]["default_subscription_plan_id"], plan.id)
        # Subscription administrators without Sales rights: no button, the
        # plan's form opens as before.
        manager = new_test_user(
            self.env,
            login="plan_designer",
            groups="subscription_billing.group_subscription_manager",
        )
        views = self.plan_team.with_user(manager).get_views([(False, "form")])
        self.assertNotIn("action_view_sale_orders", views["views"]["form"]["arch"])
        self.assertNotIn("sale_order_count", views["views"]["form"]["arch"])


@tagged("post_install", "-at_install")
class TestSalePortalLinks(SalePortalCommon, HttpCase):
    """Acme (portal user Alice) bought a subscription on a quotation; Globex
    (portal user Gina) bought its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for login, name, company in (
            ("alice", "Alice", cls.customer),
            ("gina", "Gina", cls.customer_b),
        ):
            partner = cls.env["res.partner"].create(
                {"name": name, "parent_id": company.id, "email": f"{login}@example.com"}
            )
            new_test_user(
                cls.env, login=login, groups="base.group_portal", partner_id=partner.id
            )
        cls.order = cls._quotation(cls.customer)
        cls.order.with_user(cls.salesperson).action_confirm()
        cls.sub = cls.order.subscription_id
        cls.order_b = cls._quotation(cls.customer_b)
        cls.order_b.with_user(cls.salesperson).action_confirm()
        cls.sub_b = cls.order_b.subscription_id

    @classmethod
    def _quotation(cls, partner, **values):
        return (
            cls.env["sale.order"]
            .with_user(cls.salesperson)
            .create(
                {
                    "partner_id": partner.id,
                    "subscription_plan_id": cls.plan_seats.id,
                    "order_line": [
                        Command.create(
                            {"product_id": cls.product_seat.id, "product_uom_qty": 3}
                        ),
                        Command.create(
                            {"product_id": cls.product_setup.id, "product_uom_qty": 1}
                        ),
                    ],
                    **values,
                }
            )
        )

    def _get(self, url):
        return self.url_open(url, allow_redirects=False)

    @staticmethod
    def _href(record):
        return f'href="{record.access_url}"'

    def test_customer_order_page_links_its_subscription(self):
        self.authenticate("alice", "alice")
        response = self._get(f"/my/orders/{self.order.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn(self._href(self.sub), page)
        self.assertNotIn(self._href(self.sub_b), page)
        self.assertIn("Billed: Monthly", page)
        self.assertIn("Billed: Once", page)
        self.assertIn("Seats monthly", page)
        response = self._get(f"/my/subscriptions/{self.sub.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self._href(self.order), response.text)
        self.assertNotIn(self._href(self.order_b), response.text)
        # Her order opens from the link.
        self.assertEqual(self._get(self.order.access_url).status_code, 200)

    def test_subscription_lists_sent_and_confirmed_orders_of_its_customer(self):
        """An upsell quotation sent is listed (kind "Upsell"), a draft renewal,
        a cancelled order and another customer's order are not, even for staff
        who may read them all."""
        upsell = self._quotation(
            self.customer, subscription_id=self.sub.id, subscription_order_kind="upsell"
        )
        upsell.state = "sent"
        draft = self._quotation(
            self.customer,
            subscription_id=self.sub.id,
            subscription_order_kind="renewal",
        )
        cancelled = self._quotation(
            self.customer, subscription_id=self.sub.id, subscription_order_kind="upsell"
        )
        cancelled._action_cancel()
        foreign = self._quotation(
            self.customer_b,
            subscription_id=self.sub.id,
            subscription_order_kind="upsell",
        )
        foreign.state = "sent"
        for login in ("alice", "salesperson"):
            self.authenticate(login, login)
            page = self._get(f"/my/subscriptions/{self.sub.id}").text
            self.assertIn(self._href(self.order), page, login)
            self.assertIn(self._href(upsell), page, login)
            self.assertIn("Upsell", page, login)
            for hidden in (draft, cancelled, foreign):
                self.assertNotIn(self._href(hidden), page, login)
        # The upsell quotation's page says which subscription it changes.
        self.authenticate("alice", "alice")
        page = self._get(f"/my/orders/{upsell.id}").text
        self.assertIn("Changes:", page)
        self.assertIn(self._href(self.sub), page)

    def test_another_customer_sees_no_link_nor_the_subscription(self):
        """Gina (Globex) opens Acme's order from a shared link: no link to
        Acme's subscription, which answers 403; without the link the order
        redirects to her portal home."""
        self.authenticate("gina", "gina")
        response = self._get(self.order.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("/my/subscriptions/", response.text)
        self.assertEqual(self._get(f"/my/subscriptions/{self.sub.id}").status_code, 403)
        self.assertEqual(self._get(self.order.access_url).status_code, 303)
        # Her own order and subscription link each other, not Acme's.
        page = self._get(self.order_b.access_url).text
        self.assertIn(self._href(self.sub_b), page)
        self.assertNotIn(self._href(self.sub), page)
        page = self._get(self.sub_b.access_url).text
        self.assertIn(self._href(self.order_b), page)
        self.assertNotIn(self._href(self.order), page)

    def test_shared_links_do_not_open_the_other_document(self):
        """A shared link opens one document: the order's shows no subscription
        link, the subscription's no order link."""
        self.authenticate(None, None)
        response = self._get(self.order.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn("Billed: Monthly", response.text)
        self.assertNotIn("/my/subscriptions/", response.text)
        response = self._get(self.sub.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(self._href(self.order), response.text)

    def test_staff_read_only_sees_the_links_without_change_forms(self):
        """The salesperson (read access to subscriptions) follows the links;
        the subscription page offers no change (the customer's own users only)."""
        self.authenticate("salesperson", "salesperson")
        page = self._get(self.order.access_url).text
        self.assertIn(self._href(self.sub), page)
        response = self._get(self.sub.access_url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self._href(self.order), response.text)
        self.assertNotIn("o_portal_quantity_form", response.text)

    def test_customer_raises_an_option_on_the_portal(self):
        """Alice sets the option to 1 on the quotation's page: priced by the
        plan (25.00), it becomes a line of the subscription."""
        order = self._filled_quotation(user=self.salesperson)
        option = order.order_line.filtered(
            lambda line: line.product_id == self.product_support
        )
        self.authenticate("alice", "alice")
        page = self._get(order.access_url).text
        self.assertIn("Billed: Monthly", page)
        self.make_jsonrpc_request(
            f"/my/orders/{order.id}/update_line_dict",
            {"line_id": option.id, "input_quantity": 1},
        )
        self.env.invalidate_all()
        self.assertEqual((option.product_uom_qty, option.price_unit), (1.0, 25.0))
        self.assertEqual(order.amount_untaxed, 65.0)
        order.with_user(self.salesperson).action_confirm()
        self.assertEqual(
            sorted(order.subscription_id.line_ids.mapped("price_subtotal")),
            [25.0, 40.0],
        )
