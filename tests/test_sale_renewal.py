# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Renewal as a quotation.

The worked example of every test: a fixed term of 12 months sold on
2026-01-01 (it ends on 2026-12-31), 5 seats at 10.00 a month (50.00 a
month), indexation 5 %, a renewal quotation 30 days before the end. On
2026-12-01 the billing run quotes the next term: 10.00 x 1.05 = 10.50 a seat,
5 x 10.50 = 52.50 a month, valid until 2026-12-31.
"""

import re
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import SaleCommon

# A 1 x 1 image: the portal's signature.
PIXEL_GIF = "R0lGODlhAQABAIAAAP///////yH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="


@tagged("post_install", "-at_install")
class TestSaleRenewal(SaleCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_term = cls._create_plan(
            "Seats, yearly term",
            price=10.0,
            product=cls.product_seat,
            term_type="fixed",
            term_interval=12,
            term_unit="month",
            auto_renew=True,
            renewal_increase_percent=5.0,
            renewal_reminder_days=30,
            renewal_quotation=True,
            renewal_quotation_days=30,
        )

    def _sell_term(self, plan=None):
        """Sold and started on 2026-01-01, billed every month up to December."""
        with freeze_time("2026-01-01"):
            order = self._create_quotation(
                [(self.product_seat, 5)],
                plan=plan or self.plan_term,
                start="2026-01-01",
            )
            order.with_user(self.salesperson).action_confirm()
            sub = self.env["subscription.subscription"].browse(order.subscription_id.id)
            self._run_billing()
        self.assertEqual(str(sub.date_end), "2026-12-31")
        return sub

    def _quote(self, plan=None):
        """The billing run of 2026-12-01: the renewal quotation."""
        sub = self._sell_term(plan)
        with freeze_time("2026-12-01"):
            self._run_billing()
        return sub, self._renewals(sub)

    def _renewals(self, sub):
        return self.env["sale.order"].search(
            [
                ("subscription_id", "=", sub.id),
                ("subscription_order_kind", "=", "renewal"),
            ]
        )

    def _as_salesperson(self, order):
        return order.with_user(self.salesperson)

    def test_billing_run_quotes_next_term_once(self):
        """One quotation on 2026-12-01 at 10.50 a seat (52.50 untaxed), sent
        to the customer, valid until 2026-12-31; the runs of the same day and
        the next create none."""
        sub, order = self._quote()
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sent")
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.user_id, self.salesperson)
        self.assertEqual(order.subscription_plan_id, self.plan_term)
        self.assertEqual(str(order.subscription_renewal_end), "2026-12-31")
        self.assertEqual(str(order.validity_date), "2026-12-31")
        self.assertEqual(str(order.subscription_start_date), "2027-01-01")
        self.assertEqual(order.order_line.product_id, self.product_seat)
        self.assertEqual(order.order_line.product_uom_qty, 5)
        self.assertEqual(order.order_line.price_unit, 10.5)
        self.assertEqual(order.order_line.subscription_line_id, sub.line_ids)
        self.assertEqual(order.amount_untaxed, 52.5)
        self.assertTrue(order.require_signature)
        self.assertFalse(order.require_payment)
        sent = order.message_ids.filtered(lambda m: self.customer in m.partner_ids)
        self.assertEqual(len(sent), 1, "the quotation is mailed to the customer")
        self.assertEqual(sent.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertIn("Quotation", sent.subject)
        self.assertEqual(str(sub.renewal_reminder_sent_for), "2026-12-31")
        self.assertFalse(
            sub.change_ids.filtered(lambda c: c.state == "scheduled"),
            "the quotation carries the indexation",
        )
        with freeze_time("2026-12-01"):
            self._run_billing()
        with freeze_time("2026-12-02"):
            self._run_billing()
        self.assertEqual(self._renewals(sub), order)

    def test_one_quotation_per_term_is_a_database_rule(self):
        """Two workers quoting the same term: the second insert is refused by
        the unique key, and the engine's creation gives way without error."""
        sub, order = self._quote()
        with freeze_time("2026-12-01"):
            self.assertFalse(sub._create_renewal_quotation())
            # The other worker's quotation not visible yet (its transaction
            # began before): the insert itself is refused, quietly.
            SaleOrder = type(self.env["sale.order"])
            with patch.object(SaleOrder, "search_count", return_value=0):
                self.assertFalse(sub._create_renewal_quotation())
            with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
                with self.env.cr.savepoint():
                    self.env["sale.order"].sudo().create(
                        sub._prepare_renewal_quotation_vals()
                    )
        self.assertEqual(self._renewals(sub), order)

    def test_failed_quotation_does_not_stop_the_run(self):
        """One subscription cannot be quoted (an error preparing it): the
        error is kept on it, the other subscription is quoted, the run goes
        on; the next run quotes it."""
        broken = self._sell_term()
        other = self._sell_term()
        Subscription = type(self.env["subscription.subscription"])
        prepare = Subscription._prepare_renewal_quotation_vals

        def failing(sub):
            if sub == broken:
                raise UserError(self.env._("No price for the next term"))
            return prepare(sub)

        with (
            freeze_time("2026-12-01"),
            patch.object(
                Subscription,
                "_prepare_renewal_quotation_vals",
                autospec=True,
                side_effect=failing,
            ),
        ):
            self._run_billing()
        self.assertFalse(self._renewals(broken))
        self.assertTrue(
            broken.message_ids.filtered(
                lambda m: "No price for the next term" in m.body
            ),
            "the error is on the subscription's chatter (and an activity)",
        )
        self.assertEqual(len(self._renewals(other)), 1)
        with freeze_time("2026-12-02"):
            self._run_billing()
        self.assertEqual(self._renewals(broken).amount_untaxed, 52.5)

    def test_accepted_renews_on_quotation_prices(self):
        """Accepted on 2026-12-10: the January 2027 invoice bills 5 x 10.50 =
        52.50, the term ends on 2027-12-31; the history records the MRR going
        from 50.00 to 52.50. The quotation invoices nothing by itself; the
        new term's first invoice invoices its line."""
        sub, order = self._quote()
        with freeze_time("2026-12-10"):
            self._as_salesperson(order).action_confirm()
            self.assertEqual(order.state, "sale")
            self.assertEqual(order.invoice_status, "no")
            self.assertEqual(order.order_line.qty_to_invoice, 0)
            with self.assertRaisesRegex(UserError, "billed by its subscription"):
                self._as_salesperson(order)._create_invoices()
            change = sub.change_ids.filtered(lambda c: c.state == "scheduled")
            self.assertEqual(change.renewal_order_id, order)
            self.assertEqual(str(change.effective_date), "2027-01-01")
            self.assertEqual(change.mrr_after, 52.5)
        with freeze_time("2027-01-01"):
            self._run_billing()
        january = self._invoices(sub).filtered(
            lambda m: str(m.invoice_date) == "2027-01-01"
        )
        self.assertEqual(len(january), 1)
        self.assertEqual(january.amount_untaxed, 52.5)
        self.assertEqual(january.invoice_line_ids.price_unit, 10.5)
        self.assertEqual(january.invoice_line_ids.quantity, 5)
        self.assertEqual(str(sub.date_end), "2027-12-31")
        self.assertEqual(sub.state, "active")
        self.assertEqual(change.state, "applied")
        history = sub.history_ids.filtered(lambda h: h.change_id == change)
        self.assertEqual((history.mrr_before, history.mrr_after), (50.0, 52.5))
        self.assertEqual(order.invoice_ids, january)
        self.assertEqual(order.invoice_status, "invoiced")
        with freeze_time("2027-02-01"):
            self._run_billing()
            with self.assertRaisesRegex(UserError, "applied on"):
                self._as_salesperson(order).action_cancel()
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 52.5)

    def test_accepted_with_more_seats(self):
        """The salesperson raises the quotation to 7 seats before the customer
        signs: January 2027 bills 7 x 10.50 = 73.50 (MRR 50.00 -> 73.50)."""
        sub, order = self._quote()
        with freeze_time("2026-12-10"):
            self._as_salesperson(order).order_line.product_uom_qty = 7
            self.assertEqual(order.order_line.price_unit, 10.5, "price kept")
            self.assertEqual(order.amount_untaxed, 73.5)
            self._as_salesperson(order).action_confirm()
        with freeze_time("2027-01-01"):
            self._run_billing()
        january = self._invoices(sub)[-1]
        self.assertEqual(str(january.invoice_date), "2027-01-01")
        self.assertEqual(january.amount_untaxed, 73.5)
        self.assertEqual(sub._lines_on(self._date("2027-01-01")).quantity, 7)

    def test_one_time_line_refused_on_renewal(self):
        """A renewal renews the recurring lines: a setup fee added to the
        quotation is refused at confirmation, naming the product."""
        sub, order = self._quote()
        with freeze_time("2026-12-10"):
            self._as_salesperson(order).order_line = [
                Command.create({"product_id": self.product_setup.id})
            ]
            with self.assertRaisesRegex(UserError, "Setup fee"):
                self._as_salesperson(order).action_confirm()
        self.assertEqual(order.state, "sent")
        self.assertFalse(sub.change_ids.filtered("renewal_order_id"))

    def test_declined_ends_with_the_term(self):
        """The salesperson records the customer's refusal on 2026-12-10: the
        subscription closes at 2026-12-31 (reason Renewal declined), the run
        of 2027-01-01 bills no January."""
        sub, order = self._quote()
        with freeze_time("2026-12-10"):
            self._as_salesperson(order).action_subscription_renewal_decline()
        self.assertEqual(order.state, "cancel")
        self.assertTrue(order.subscription_renewal_declined)
        reason = self.env.ref("subscription_billing.close_reason_renewal_declined")
        self.assertEqual(sub.close_reason_id, reason)
        self.assertEqual(str(sub.date_end), "2026-12-31")
        invoices = self._invoices(sub)
        self.assertEqual(len(invoices), 12)
        with freeze_time("2027-01-01"):
            self._run_billing()
        with freeze_time("2027-01-02"):
            self._run_billing()
        self.assertEqual(self._invoices(sub), invoices, "no January invoice")
        self.assertEqual(sub.state, "closed")
        self.assertEqual(str(sub.date_end), "2026-12-31")

    def test_portal_decline_ends_with_the_term(self):
        """The portal's decline (a cancellation with the decline flag) is the
        customer's refusal: the term does not renew."""
        sub, order = self._quote()
        with freeze_time("2026-12-10"):
            order.sudo().with_context(
                subscription_renewal_decline=True
            )._action_cancel()
        self.assertTrue(order.subscription_renewal_declined)
        self.assertFalse(sub._renews())
        self.assertEqual(str(sub.date_end), "2026-12-31")

    def test_cancelled_renews_on_current_prices(self):
        """Cancelled by the salesperson: nothing changes, the plan renews the
        term by itself; January 2027 is billed 5 x 10.00 = 50.00."""
        sub, order = self._quote()
        with freeze_time("2026-12-10"):
            self._as_salesperson(order).action_cancel()
        self.assertFalse(order.subscription_renewal_declined)
        self.assertFalse(sub.close_reason_id)
        with freeze_time("2027-01-01"):
            self._run_billing()
        january = self._invoices(sub)[-1]
        self.assertEqual(str(january.invoice_date), "2027-01-01")
        self.assertEqual(january.amount_untaxed, 50.0)
        self.assertEqual(str(sub.date_end), "2027-12-31")
        self.assertEqual(self._renewals(sub), order, "no second quotation")

    def test_accepted_then_cancelled_renews_on_current_prices(self):
        """Accepted, then cancelled before the new term: its change is
        cancelled, January 2027 is billed 50.00."""
        sub, order = self._quote()
        with freeze_time("2026-12-10"):
            self._as_salesperson(order).action_confirm()
            self._as_salesperson(order).action_cancel()
        self.assertEqual(sub.change_ids.filtered("renewal_order_id").state, "cancelled")
        with freeze_time("2027-01-01"):
            self._run_billing()
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 50.0)

    def test_expired_renews_on_current_prices_and_cannot_be_accepted(self):
        """No answer by 2026-12-31: the term renews on 10.00 (January 50.00);
        accepting the expired quotation afterwards is refused."""
        sub, order = self._quote()
        with freeze_time("2027-01-01"):
            self._run_billing()
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 50.0)
        self.assertEqual(str(sub.date_end), "2027-12-31")
        with (
            freeze_time("2027-01-02"),
            self.assertRaisesRegex(UserError, "already renewed"),
        ):
            self._as_salesperson(order).action_confirm()

    def test_plan_without_option_sends_no_quotation(self):
        """Without the option: no quotation, the renewal reminder is sent and
        the plan's indexation renews at 10.50 as before."""
        plan = self.plan_term.copy({"name": "No quotation", "renewal_quotation": False})
        sub, orders = self._quote(plan)
        self.assertFalse(orders)
        self.assertEqual(str(sub.renewal_reminder_sent_for), "2026-12-31")
        with freeze_time("2027-01-01"):
            self._run_billing()
        self.assertEqual(self._invoices(sub)[-1].amount_untaxed, 52.5)

    def test_option_needs_a_renewing_fixed_term(self):
        with self.assertRaisesRegex(ValidationError, "renews a fixed term"):
            with self.env.cr.savepoint():
                self.plan_term.auto_renew = False
        with self.assertRaisesRegex(ValidationError, "between 1 and"):
            with self.env.cr.savepoint():
                self.plan_term.renewal_quotation_days = 0
        plan = self._create_plan(
            "Evergreen", renewal_reminder_days=0, renewal_quotation=False
        )
        self.assertEqual(plan.renewal_quotation_days, 30, "default")
        with self.assertRaisesRegex(ValidationError, "renews a fixed term"):
            plan.renewal_quotation = True


@tagged("post_install", "-at_install")
class TestSaleRenewalPortal(SaleCommon, HttpCase):
    """The customer answers on the quotation's portal page (with the access
    token of the quotation's mail). Dated from today: the HTTP requests run
    on the real clock. Started 350 days ago, the 12-month term ends in about
    15 days, within the 30 days of the quotation: 1 seat at 10.00, quoted
    10.00 x 1.05 = 10.50."""

    def _quoted(self):
        plan = self._create_plan(
            "Seats, yearly term",
            price=10.0,
            product=self.product_seat,
            term_type="fixed",
            term_interval=12,
            term_unit="month",
            renewal_increase_percent=5.0,
            renewal_quotation=True,
            renewal_quotation_days=30,
        )
        today = fields.Date.context_today(self.env.user)
        sub = self._create_subscription(plan, start=today - timedelta(days=350))
        sub.action_start()
        self._run_billing()
        order = self.env["sale.order"].search([("subscription_id", "=", sub.id)])
        self.assertEqual(order.subscription_renewal_end, sub.date_end)
        self.assertEqual(order.amount_untaxed, 10.5)
        return sub, order

    def test_customer_signs_in_portal(self):
        """Signed: the order is confirmed, the new term's change is scheduled
        on the day after the term, at 10.50 (MRR 10.00 -> 10.50)."""
        sub, order = self._quoted()
        result = self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {
                "access_token": order.access_token,
                "name": "The Customer",
                "signature": PIXEL_GIF,
            },
        )
        self.assertNotIn("error", result)
        self.assertEqual(order.state, "sale")
        change = sub.change_ids.filtered("renewal_order_id")
        self.assertEqual(change.state, "scheduled")
        self.assertEqual(change.effective_date, sub.date_end + timedelta(days=1))
        self.assertEqual((change.mrr_before, change.mrr_after), (10.0, 10.5))

    def test_customer_declines_in_portal(self):
        """Rejected with a reason: the quotation is cancelled and declined,
        the subscription ends with its term (reason Renewal declined)."""
        sub, order = self._quoted()
        end = sub.date_end
        url = f"/my/orders/{order.id}?access_token={order.access_token}"
        page = self.url_open(url).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = self.url_open(
            f"/my/orders/{order.id}/decline",
            data={
                "csrf_token": csrf,
                "access_token": order.access_token,
                "decline_message": "Too expensive for us",
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertEqual(order.state, "cancel")
        self.assertTrue(order.subscription_renewal_declined)
        self.assertEqual(
            sub.close_reason_id,
            self.env.ref("subscription_billing.close_reason_renewal_declined"),
        )
        self.assertEqual(sub.date_end, end)
        self.assertFalse(sub._renews())
