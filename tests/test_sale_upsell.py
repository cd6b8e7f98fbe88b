# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upsell quotations: priced by the change engine (the change wizard's
figures), applied once on confirmation, billed once.

The case, by hand: the plan *Seats monthly* bills 10.00 per seat per month,
in advance; the customer has 3 seats from 1 March 2026, March is invoiced
(30.00). On 15 March, 17 of March's 31 days remain. The engine prorates a unit
price by telescoping rounding (``core.periods.prorate``): the unit for 15-31
March is round(10.00 × 31/31) − round(10.00 × 14/31 = 4.516…) = 10.00 − 4.52
= 5.48, and a line is quantity × unit, rounded once (``core.changes.
line_amount``). So +2 seats cost 2 × 5.48 = 10.96 — not 2 × 10.00 × 17/31 =
10.97: the engine rounds the unit, as the invoice line shows it. The option
*Premium support*, 30.00 per month: round(30.00) − round(30.00 × 14/31 =
13.548…) = 30.00 − 13.55 = 16.45.
"""

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import SaleCommon


@tagged("post_install", "-at_install")
class TestSaleUpsell(SaleCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_support = cls._create_product(
            name="Premium support", lst_price=30.0, type="service"
        )
        cls.plan_seats.line_ids = [
            Command.create(
                {
                    "product_id": cls.product_support.id,
                    "quantity": 1,
                    "price_unit": 30.0,
                    "is_optional": True,
                }
            )
        ]
        cls.support_plan_line = cls.plan_seats.line_ids.filtered("is_optional")

    def _subscribe(self, seats=3):
        """A subscription of ``seats`` seats sold on 1 March, March invoiced."""
        with freeze_time("2026-03-01"):
            order = self._create_quotation([(self.product_seat, seats)])
            order.with_user(self.salesperson).action_confirm()
            sub = order.subscription_id.with_env(self.env)
            self._run_billing()
        self.assertEqual(self._invoices(sub).amount_untaxed, seats * 10.0)
        return sub

    def _upsell(self, sub, user=None):
        action = sub.with_user(user or self.salesperson).action_upsell()
        return self.env["sale.order"].browse(action["res_id"])

    def _seat_line(self, sub, day="2026-03-15"):
        return sub._lines_on(self._date(day)).filtered(
            lambda line: line.product_id == self.product_seat
        )

    def _order_line(self, order, product):
        return order.order_line.filtered(lambda line: line.product_id == product)

    def _invoice_order(self, order):
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_user(self.salesperson)
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "delivered"})
        )
        return wizard.create_invoices()

    def _all_invoices(self, sub):
        return self.env["account.move"].search(
            [("subscription_ids", "in", sub.ids)], order="id"
        )

    def test_quotation_prices_are_the_change_wizard_figures(self):
        """The upsell lists the running seats (quantity 0) and the option not
        subscribed, each priced per unit for 15-31 March (5.48, 16.45); +2
        seats: 10.96, the change wizard's charge for 3 → 5 seats."""
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            self.assertEqual(order.subscription_order_kind, "upsell")
            self.assertEqual(order.subscription_id, sub)
            self.assertEqual(order.partner_id, sub.partner_id)
            self.assertEqual(order.subscription_plan_id, sub.plan_id)
            self.assertEqual(order.currency_id, sub.currency_id)
            self.assertEqual(order.company_id, sub.company_id)
            self.assertEqual(order.user_id, sub.user_id)
            self.assertEqual(str(order.subscription_upsell_date), "2026-03-15")
            seat = self._order_line(order, self.product_seat)
            support = self._order_line(order, self.product_support)
            self.assertEqual(seat.product_uom_qty, 0)
            self.assertEqual(support.product_uom_qty, 0)
            self.assertEqual(seat.subscription_line_id, self._seat_line(sub))
            self.assertEqual(seat.price_unit, 5.48)
            self.assertEqual(support.price_unit, 16.45)
            self.assertEqual(
                seat.name,
                "Extra seat — 03/15/2026 → 03/31/2026 (17/31 days), 10.00 per month",
            )
            self.assertIn("30.00 per month", support.name)
            self.assertEqual(order.amount_untaxed, 0.0)

            seat.with_user(self.salesperson).product_uom_qty = 2
            self.assertEqual(seat.price_unit, 5.48, "still the price of one unit")
            self.assertEqual(seat.price_subtotal, 10.96)

            wizard = (
                self.env["subscription.change.wizard"]
                .with_user(self.billing_user)
                .create(
                    {
                        "subscription_id": sub.id,
                        "operation": "change_quantity",
                        "line_id": self._seat_line(sub).id,
                        "quantity": 5,
                    }
                )
            )
            self.assertFalse(wizard.error)
            self.assertEqual(wizard.amount_charge, 10.96)
            self.assertEqual(wizard.amount_net, seat.price_subtotal)
            wizard = (
                self.env["subscription.change.wizard"]
                .with_user(self.billing_user)
                .create(
                    {
                        "subscription_id": sub.id,
                        "operation": "add_option",
                        "plan_line_id": self.support_plan_line.id,
                        "quantity": 1,
                    }
                )
            )
            self.assertEqual(wizard.amount_net, support.price_unit)

    def test_confirm_applies_once_and_bills_once(self):
        """Confirmed on 15 March: 5 seats, MRR 30.00 → 50.00, one history
        entry, one proration invoice of 10.96, the order invoiced; neither the
        order's Create Invoice nor the billing run bills it again; April bills
        50.00."""
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            seat = self._order_line(order, self.product_seat)
            seat.with_user(self.salesperson).product_uom_qty = 2
            order.with_user(self.salesperson).action_confirm()
            self.assertEqual(order.state, "sale")
            self.assertEqual(self._seat_line(sub).quantity, 5)
            self.assertEqual(sub.mrr, 50.0)
            change = seat.subscription_change_id
            self.assertEqual(change.operation, "change_quantity")
            self.assertEqual(change.state, "applied")
            self.assertEqual(change.amount_net, 10.96)
            history = self.env["subscription.history"].search(
                [("subscription_id", "=", sub.id), ("change_id", "!=", False)]
            )
            self.assertEqual(history.change_id, change)
            self.assertEqual((history.mrr_before, history.mrr_after), (30.0, 50.0))
            invoice = change.move_id
            self.assertEqual(invoice.state, "posted")
            self.assertEqual(invoice.amount_untaxed, 10.96)
            self.assertEqual(order.invoice_ids, invoice)
            self.assertEqual(seat.qty_invoiced, 2)
            self.assertEqual(order.invoice_status, "invoiced")
            self.assertEqual(len(self._all_invoices(sub)), 2, "March and 10.96")

            with self._assert_no_new_invoices():
                with self.assertRaisesRegex(UserError, "Nothing to invoice"):
                    self._invoice_order(order)
                self._run_billing()
                with self.assertRaises(UserError):
                    order.with_user(self.salesperson).action_confirm()
                order._apply_upsell()  # a second application finds nothing
            self.assertEqual(
                self.env["subscription.change"].search_count(
                    [("subscription_id", "=", sub.id)]
                ),
                1,
            )
            self.assertEqual(self._seat_line(sub).quantity, 5)
            # Cancelling the order would not undo the change.
            with self.assertRaisesRegex(UserError, "cannot be cancelled"):
                order.with_user(self.salesperson).action_cancel()
        with freeze_time("2026-04-01"):
            self._run_billing()
        april = self._all_invoices(sub)[-1]
        self.assertEqual(april.amount_untaxed, 50.0)
        self.assertEqual(order.invoice_ids, invoice, "April is not the order's")

    def test_upsell_adds_option_and_seat_on_one_invoice(self):
        """+1 seat (5.48) and the option (16.45): two changes, one invoice of
        21.93; the option is a new line of the subscription; MRR 60.00."""
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            self._order_line(order, self.product_seat).product_uom_qty = 1
            self._order_line(order, self.product_support).product_uom_qty = 1
            self.assertEqual(order.amount_untaxed, 21.93)
            order.with_user(self.salesperson).action_confirm()
            changes = order.order_line.subscription_change_id
            self.assertEqual(
                sorted(changes.mapped("operation")), ["add_option", "change_quantity"]
            )
            option = sub._lines_on(self._date("2026-03-15")).filtered(
                lambda line: line.product_id == self.product_support
            )
            self.assertEqual((option.quantity, option.price_unit), (1, 30.0))
            self.assertEqual(option.plan_line_id, self.support_plan_line)
            self.assertEqual(sub.mrr, 70.0)
            self.assertEqual(len(changes.move_id), 1)
            self.assertEqual(order.invoice_ids, changes.move_id)
            self.assertEqual(order.invoice_ids.amount_untaxed, 21.93)
            self.assertEqual(order.invoice_status, "invoiced")
            # The option is subscribed now: a new upsell offers more of it.
            again = self._upsell(sub)
            support = self._order_line(again, self.product_support)
            self.assertEqual(support.subscription_line_id, option)

    def test_next_invoice_policy_bills_on_next_invoice_once(self):
        """Prorated amounts on the next invoice: nothing invoiced at
        confirmation; the April invoice carries 10.96 + 50.00 and invoices the
        order."""
        self.plan_seats.proration_invoicing = "next"
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            self._order_line(order, self.product_seat).product_uom_qty = 2
            with self._assert_no_new_invoices():
                order.with_user(self.salesperson).action_confirm()
            self.assertEqual(self._seat_line(sub).quantity, 5)
            self.assertEqual(order.invoice_status, "to invoice")
        with freeze_time("2026-04-01"):
            self._run_billing()
        april = self._all_invoices(sub)[-1]
        self.assertEqual(april.amount_untaxed, 60.96)
        self.assertEqual(order.invoice_ids, april)
        self.assertEqual(order.invoice_status, "invoiced")
        with freeze_time("2026-04-02"), self._assert_no_new_invoices():
            with self.assertRaisesRegex(UserError, "Nothing to invoice"):
                self._invoice_order(order)

    def test_next_invoice_policy_order_invoiced_first(self):
        """Prorated amounts left for the next invoice, then the order's Create
        Invoice: they are invoiced now (10.96), and April does not bill them
        again."""
        self.plan_seats.proration_invoicing = "next"
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            self._order_line(order, self.product_seat).product_uom_qty = 2
            order.with_user(self.salesperson).action_confirm()
            self._invoice_order(order)
            self.assertEqual(order.invoice_ids.amount_untaxed, 10.96)
            self.assertEqual(order.invoice_status, "invoiced")
        with freeze_time("2026-04-01"):
            self._run_billing()
        self.assertEqual(self._all_invoices(sub)[-1].amount_untaxed, 50.0)

    def test_cancelled_or_expired_upsell_changes_nothing(self):
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            self._order_line(order, self.product_seat).product_uom_qty = 2
            with self._assert_no_new_invoices():
                order.with_user(self.salesperson).action_cancel()
            self.assertEqual(order.state, "cancel")
            expired = self._upsell(sub)
            self._order_line(expired, self.product_seat).product_uom_qty = 2
            expired.validity_date = "2026-03-14"
            with self.assertRaisesRegex(UserError, "expired on"):
                expired.with_user(self.salesperson).action_confirm()
        self.assertEqual(self._seat_line(sub).quantity, 3)
        self.assertFalse(
            self.env["subscription.change"].search([("subscription_id", "=", sub.id)])
        )

    def test_closed_or_draft_subscription_refused(self):
        """No upsell of a draft or closed subscription: a clear error, no
        quotation."""
        orders = self.env["sale.order"].search_count([])
        draft = self._create_subscription(plan=self.plan_seats)
        with self.assertRaisesRegex(UserError, "is not started"):
            self._upsell(draft)
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            sub.with_user(self.billing_user).cancel(
                date="2026-03-15", policy="immediate"
            )
            self.assertEqual(sub.state, "closed")
            with self.assertRaisesRegex(UserError, "is closed"):
                self._upsell(sub)
        self.assertEqual(self.env["sale.order"].search_count([]), orders + 1)

    def test_plan_changed_or_prices_stale_refused(self):
        """Confirming refuses an upsell whose subscription changed plan, or was
        invoiced since the quotation (its prices are out of date)."""
        sub = self._subscribe()
        other_plan = self._create_plan("Seats monthly bis", price=12.0)
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            self._order_line(order, self.product_seat).product_uom_qty = 2
            stale = self._upsell(sub)
            self._order_line(stale, self.product_seat).product_uom_qty = 2
            stale.order_line.filtered("product_uom_qty").price_unit = 4.0
            with self.assertRaisesRegex(UserError, "is quoted"):
                stale.with_user(self.salesperson).action_confirm()
            sub.with_user(self.billing_user).change_plan(
                other_plan.id, policy="immediate"
            )
            with self.assertRaisesRegex(UserError, "is now on"):
                order.with_user(self.salesperson).action_confirm()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.order_line.subscription_change_id)

    def test_duplicate_is_priced_again_from_today(self):
        """Duplicated on 20 March, the upsell is still an upsell of the same
        subscription, priced for 20-31 March: 10.00 − round(10.00 × 19/31 =
        6.129…) = 10.00 − 6.13 = 3.87 per seat; confirmed, 2 seats bill 7.74."""
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            self._order_line(order, self.product_seat).product_uom_qty = 2
        with freeze_time("2026-03-20"):
            copy = order.with_user(self.salesperson).copy()
            self.assertEqual(copy.subscription_order_kind, "upsell")
            self.assertEqual(copy.subscription_id, sub)
            self.assertEqual(str(copy.subscription_upsell_date), "2026-03-20")
            seat = self._order_line(copy, self.product_seat)
            self.assertEqual(seat.subscription_line_id, self._seat_line(sub))
            self.assertEqual(seat.price_unit, 3.87)
            self.assertIn("(12/31 days)", seat.name)
            copy.with_user(self.salesperson).action_confirm()
            self.assertEqual(copy.invoice_ids.amount_untaxed, 7.74)
            self.assertEqual(self._seat_line(sub, "2026-03-20").quantity, 5)

    def test_upsell_action_and_other_products_refused(self):
        """The Upsell action is in the subscription form's action menu, for
        Sales users; a product that is not on the plan is refused."""
        action = self.env.ref(
            "subscription_billing.subscription_subscription_action_upsell"
        )
        self.assertEqual(action.binding_model_id.model, "subscription.subscription")
        self.assertEqual(action.binding_view_types, "form")
        self.assertEqual(
            action.group_ids, self.env.ref("sales_team.group_sale_salesman")
        )

        def toolbar(user):
            views = (
                self.env["subscription.subscription"]
                .with_user(user)
                .get_views([(False, "form")], {"toolbar": True})
            )
            return [a["name"] for a in views["views"]["form"]["toolbar"]["action"]]

        self.assertIn("Upsell", toolbar(self.salesperson))
        self.assertNotIn("Upsell", toolbar(self.billing_user), "no Sales rights")
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            result = (
                action.with_user(self.salesperson)
                .with_context(
                    active_model=sub._name, active_id=sub.id, active_ids=sub.ids
                )
                .run()
            )
            self.assertEqual(result["res_model"], "sale.order")
            order = self.env["sale.order"].browse(result["res_id"])
            self.assertEqual(order.subscription_id, sub)
            self._order_line(order, self.product_seat).product_uom_qty = 1
            order.with_user(self.salesperson).order_line = [
                Command.create({"product_id": self.product_setup.id})
            ]
            with self.assertRaisesRegex(UserError, "are not on its plan"):
                order.with_user(self.salesperson).action_confirm()
            empty = self._upsell(sub)
            with self.assertRaisesRegex(UserError, "adds nothing"):
                empty.with_user(self.salesperson).action_confirm()
        self.assertEqual(self._seat_line(sub).quantity, 3)

    def test_quantity_edited_in_the_form_keeps_the_prorated_unit(self):
        """The salesperson raises the seats in the quotation form (onchange):
        the unit stays 5.48, 3 seats are 16.44."""
        sub = self._subscribe()
        with freeze_time("2026-03-15"):
            order = self._upsell(sub)
            with Form(order.with_user(self.salesperson)) as form:
                index = next(
                    i
                    for i, line in enumerate(order.order_line)
                    if line.product_id == self.product_seat
                )
                with form.order_line.edit(index) as line:
                    line.product_uom_qty = 3
                    self.assertEqual(line.price_unit, 5.48)
                    self.assertEqual(line.price_subtotal, 16.44)
            self.assertEqual(order.subscription_order_kind, "upsell")
            seat = self._order_line(order, self.product_seat)
            self.assertEqual((seat.price_unit, seat.price_subtotal), (5.48, 16.44))
            self.assertIn("(17/31 days)", seat.name)
