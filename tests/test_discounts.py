# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Discounts with a duration: coupons redeemed and billed as their own line."""

import re

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SubscriptionCommon
from .test_portal import PortalCase

MONTHS = ("2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01")


@tagged("post_install", "-at_install")
class TestDiscounts(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_30 = cls._create_plan("Pro 30", price=30.0)
        cls.Coupon = cls.env["subscription.coupon"]

    def _coupon(self, code, **values):
        return self.Coupon.create({"code": code, "value": 20.0, **values})

    def _started(self, plan=None):
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=plan or self.plan_30)
            sub.action_start()
        return sub

    def _bill_months(self, sub, months=MONTHS):
        """Bill each month on its first day; the untaxed total of each invoice."""
        for day in months:
            with freeze_time(day):
                self._run_billing()
        return [move.amount_untaxed for move in self._invoices(sub)]

    def _redeem(self, sub, code, user=None):
        with freeze_time("2026-03-01"):
            return sub.with_user(user or self.billing_user).apply_coupon(code)

    def test_twenty_percent_for_three_months(self):
        """WELCOME20: 20 % for 3 monthly periods on 30.00/month.

        Periods 1 to 3: 30.00 - 20 % × 30.00 = 30.00 - 6.00 = 24.00;
        period 4: 30.00 (the discount ran out). A second run bills nothing
        and applies nothing again."""
        self._coupon("Welcome20", duration="periods", period_count=3)
        sub = self._started()
        discount_id = self._redeem(sub, "  welcome20 ")
        discount = self.env["subscription.discount"].browse(discount_id)
        self.assertEqual(discount.subscription_id, sub)
        self.assertEqual(self._bill_months(sub), [24.0, 24.0, 24.0, 30.0])
        april = self._invoices(sub)[1]
        line = april.invoice_line_ids.filtered("subscription_discount_id")
        self.assertEqual(line.name, "Coupon WELCOME20 — 20 % off (period 2 of 3)")
        self.assertEqual(line.price_subtotal, -6.0)
        self.assertEqual(discount.periods_used, 3)
        self.assertEqual(discount.periods_remaining, 0)
        self.assertEqual(discount.usage_ids.mapped("amount"), [6.0, 6.0, 6.0])
        with freeze_time("2026-06-01"), self._assert_no_new_invoices():
            self._run_billing()
        self.assertEqual(len(discount.usage_ids), 3)

    def test_redemption_is_one_sentence_in_the_chatter(self):
        """The note names the coupon once, then its terms."""
        self._coupon("WELCOME20", duration="periods", period_count=3)
        self._coupon("ONCE5", discount_type="fixed", value=5.0)
        self._coupon("SPRING", duration="until", date_until="2026-04-30")
        self._coupon("ALWAYS", duration="forever")
        sub = self._started()
        for code in ("WELCOME20", "ONCE5", "SPRING", "ALWAYS"):
            self._redeem(sub, code)
        notes = sub.message_ids.filtered(lambda m: "redeemed" in (m.body or ""))
        self.assertEqual(
            sorted(re.sub("<[^>]+>", "", note.body) for note in notes),
            [
                "Coupon ALWAYS redeemed: 20 % off forever, from Mar 1, 2026.",
                "Coupon ONCE5 redeemed: 5.00 off once, from Mar 1, 2026.",
                "Coupon SPRING redeemed: 20 % off from Mar 1, 2026 until Apr 30, 2026.",
                "Coupon WELCOME20 redeemed: 20 % off for 3 periods from Mar 1, 2026.",
            ],
        )

    def test_one_discount_line_per_tax_group(self):
        """20 % once on 30.00 taxed 20 % and 10.00 taxed 5.5 %: 8.00 off, in
        two lines taxed like their lines: -6.00 (20 %) and -2.00 (5.5 %).
        Untaxed 40.00 - 8.00 = 32.00; taxes 24.00 × 20 % = 4.80 and
        8.00 × 5.5 % = 0.44, 5.24; total 37.24. One usage row of 8.00."""
        tax_20 = self.percent_tax(20.0)
        tax_5 = self.percent_tax(5.5)
        standard = self._create_product(name="Standard", taxes_id=tax_20)
        books = self._create_product(name="E-books", taxes_id=tax_5)
        plan = self._create_plan(
            "Two taxes",
            price=30.0,
            product=standard,
            line_ids=[
                Command.create({"product_id": standard.id, "price_unit": 30.0}),
                Command.create({"product_id": books.id, "price_unit": 10.0}),
            ],
        )
        self._coupon("MIXED")
        sub = self._started(plan)
        discount = self.env["subscription.discount"].browse(self._redeem(sub, "MIXED"))
        self._bill_months(sub, MONTHS[:1])
        invoice = self._invoices(sub)
        lines = invoice.invoice_line_ids.filtered("subscription_discount_id")
        self.assertEqual(
            sorted((line.price_subtotal, line.tax_ids.amount) for line in lines),
            [(-6.0, 20.0), (-2.0, 5.5)],
        )
        self.assertEqual(
            (invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total),
            (32.0, 5.24, 37.24),
        )
        self.assertEqual(discount.usage_ids.mapped("amount"), [8.0])
        self.assertEqual(discount.periods_used, 1)

    def test_mrr_before_and_after_the_end(self):
        """MRR 30.00 at the start; 24.00 while WELCOME20 runs (March to May);
        30.00 again from June 1st. The history shows the coupon as a
        contraction of -6.00 on March 1st and its end as an expansion of
        +6.00 on June 1st."""
        self._coupon("WELCOME20", duration="periods", period_count=3)
        sub = self._started()
        self._redeem(sub, "WELCOME20")
        self._bill_months(sub)
        with freeze_time("2026-05-31"):
            self.assertEqual(sub._mrr_on(self._date("2026-05-31")), 24)
        with freeze_time("2026-06-15"):
            sub.invalidate_recordset(["mrr"])
            self.assertEqual(sub.mrr, 30.0)
        entries = sub.history_ids.sorted(lambda h: (h.date, h.id))
        self.assertEqual(
            [(str(h.date), h.kind, h.mrr_before, h.mrr_after) for h in entries],
            [
                ("2026-03-01", "new", 0.0, 30.0),
                ("2026-03-01", "discount", 30.0, 24.0),
                ("2026-06-01", "discount", 24.0, 30.0),
            ],
        )

    def test_discount_known_at_the_start_is_in_the_new_mrr(self):
        """Redeemed on a draft: the "new" entry is 24.00 already; its end on
        April 1st (once) is the expansion to 30.00."""
        self._coupon("FIRST")
        with freeze_time("2026-03-01"):
            sub = self._create_subscription(plan=self.plan_30)
            sub.apply_coupon("FIRST")
            sub.action_start()
        self._bill_months(sub, MONTHS[:2])
        entries = sub.history_ids.sorted(lambda h: (h.date, h.id))
        self.assertEqual(
            [(str(h.date), h.kind, h.mrr_after) for h in entries],
            [("2026-03-01", "new", 24.0), ("2026-04-01", "discount", 30.0)],
        )

    def test_upgrade_in_period_two_credits_what_was_paid(self):
        """WELCOME20 (20 %, 3 periods) on 30.00/month; on April 16th (period
        2, 15 of its 30 days left) an upgrade to 60.00/month, immediate.

        Credit of the old line: 30.00 × 15/30 = -15.00, of which the coupon
        took 20 %: +3.00 back, so -12.00 (what was paid for those days);
        charge of the new line: 60.00 × 15/30 = +30.00; net 18.00.
        Invoices: March 24.00, April 24.00, the change 18.00, May 60.00 -
        12.00 = 48.00 (period 3 of 3), June 60.00."""
        plan_60 = self._create_plan("Pro 60", price=60.0)
        self._coupon("WELCOME20", duration="periods", period_count=3)
        sub = self._started()
        self._redeem(sub, "WELCOME20")
        self._bill_months(sub, MONTHS[:2])
        with freeze_time("2026-04-16"):
            result = sub.change_plan(plan_60.id, policy="immediate")
        self.assertEqual(
            (result["credit"], result["charge"], result["net"]), (-12.0, 30.0, 18.0)
        )
        change_move = self.env["account.move"].browse(result["document_id"])
        self.assertEqual(change_move.amount_untaxed, 18.0)
        back = change_move.invoice_line_ids.filtered(lambda ml: ml.price_unit == 3.0)
        self.assertEqual(
            back.name,
            "Coupon WELCOME20 — 20 % off: on the credit of 04/01/2026 → 04/30/2026",
        )
        self._bill_months(sub, MONTHS[2:])
        self.assertEqual(
            [m.amount_untaxed for m in self._invoices(sub)], [24.0, 24.0, 48.0, 60.0]
        )

    def test_catch_up_counts_each_period(self):
        """Three months billed in one run (catch-up): periods 1, 2, 3 of 2
        are 24.00, 24.00 and 30.00: the count holds inside one run."""
        self._coupon("TWO", duration="periods", period_count=2)
        sub = self._started()
        self._redeem(sub, "two")
        self.assertEqual(self._bill_months(sub, ["2026-05-01"]), [24.0, 24.0, 30.0])

    def test_fixed_five_once(self):
        """5.00 off once: 30.00 - 5.00 = 25.00, then 30.00."""
        self._coupon("FIVE", discount_type="fixed", value=5.0)
        sub = self._started()
        self._redeem(sub, "FIVE")
        self.assertEqual(self._bill_months(sub, MONTHS[:2]), [25.0, 30.0])
        line = self._invoices(sub)[0].invoice_line_ids.filtered(
            "subscription_discount_id"
        )
        self.assertEqual(line.name, "Coupon FIVE — 5.00 off (once)")

    def test_fixed_is_capped_at_the_invoice(self):
        """50.00 off a 30.00 invoice takes 30.00 off: the invoice is 0.00."""
        self._coupon("BIG", discount_type="fixed", value=50.0)
        sub = self._started()
        self._redeem(sub, "BIG")
        self.assertEqual(self._bill_months(sub, MONTHS[:1]), [0.0])

    def test_forever(self):
        self._coupon("ALWAYS", duration="forever")
        sub = self._started()
        self._redeem(sub, "ALWAYS")
        self.assertEqual(self._bill_months(sub), [24.0, 24.0, 24.0, 24.0])

    def test_until_a_date(self):
        """Until 2026-04-30: March and April 24.00, May 30.00."""
        self._coupon("SPRING", duration="until", date_until="2026-04-30")
        sub = self._started()
        self._redeem(sub, "SPRING")
        self.assertEqual(self._bill_months(sub, MONTHS[:3]), [24.0, 24.0, 30.0])

    def test_staff_discount_without_coupon(self):
        """Staff enters 10 % for 2 periods: 27.00, 27.00, 30.00."""
        sub = self._started()
        self.env["subscription.discount"].with_user(self.billing_user).create(
            {
                "subscription_id": sub.id,
                "value": 10.0,
                "duration": "periods",
                "period_count": 2,
                "date_start": "2026-03-01",
            }
        )
        self.assertEqual(self._bill_months(sub, MONTHS[:3]), [27.0, 27.0, 30.0])

    def test_staff_discount_starts_after_what_is_invoiced(self):
        """Entered on March 10th, March already invoiced (30.00): the
        discount starts on April 1st, 5.00 once: April 25.00, May 30.00. It
        cannot be deleted once it applied."""
        sub = self._started()
        self._bill_months(sub, MONTHS[:1])
        with freeze_time("2026-03-10"):
            discount = (
                self.env["subscription.discount"]
                .with_user(self.billing_user)
                .create(
                    {"subscription_id": sub.id, "discount_type": "fixed", "value": 5}
                )
            )
        self.assertEqual(str(discount.date_start), "2026-04-01")
        self.assertEqual(self._bill_months(sub, MONTHS[1:3]), [30.0, 25.0, 30.0])
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            discount.with_user(self.billing_user).unlink()

    def test_action_menu_applies_the_coupon(self):
        """*Apply a Coupon* (action menu) opens the dialog; it redeems."""
        self._coupon("WIZ")
        sub = self._started()
        action = self.env.ref(
            "subscription_billing.subscription_subscription_action_apply_coupon"
        ).with_user(self.billing_user)
        result = action.with_context(
            active_model=sub._name, active_id=sub.id, active_ids=sub.ids
        ).run()
        self.assertEqual(result["res_model"], "subscription.coupon.wizard")
        with freeze_time("2026-03-01"):
            wizard = (
                self.env["subscription.coupon.wizard"]
                .with_user(self.billing_user)
                .with_context(**result["context"])
                .create({"code": "wiz"})
            )
            wizard.action_apply()
        self.assertEqual(sub.discount_ids.coupon_id.code, "WIZ")

    def test_bad_coupons_change_nothing(self):
        """Unknown, inactive, expired, used up, another plan, another
        currency, already applied: a UserError naming the reason."""
        other_currency = self.env.ref("base.EUR")
        if other_currency == self.env.company.currency_id:
            other_currency = self.env.ref("base.USD")
        other_currency.active = True
        self._coupon("OFF", active=False)
        self._coupon("OLD", date_expiry="2026-02-28")
        self._coupon("ONE", max_redemptions=1)
        self._coupon("OTHERPLAN", plan_ids=[self.plan_monthly.id])
        self._coupon(
            "EURO", discount_type="fixed", value=5.0, currency_id=other_currency.id
        )
        self._coupon("TWICE")
        self._coupon("WINTER", duration="until", date_until="2026-02-28")
        sub = self._started()
        first = self._started()
        self._redeem(first, "ONE")
        self._redeem(sub, "TWICE")
        for code, message in [
            ("NOPE", "does not exist"),
            ("off", "no longer valid"),
            ("OLD", "expired"),
            ("ONE", "as many times"),
            ("OTHERPLAN", "not valid for the plan"),
            ("EURO", "is an amount in"),
            ("TWICE", "already applied"),
            ("WINTER", "none is left to discount"),
        ]:
            with self.subTest(code=code), self.assertRaisesRegex(UserError, message):
                self._redeem(sub, code)
        self.assertEqual(len(sub.discount_ids), 1)

    def test_hostile_codes(self):
        sub = self._started()
        hostile = [None, 42, 1.5, True, ["A"], {"a": 1}, "   ", "x" * 100_000]
        hostile += ["A\x00B", "A\nB", "\ud800"]
        for code in hostile:
            with self.subTest(code=repr(code)[:20]), self.assertRaises(UserError):
                self._redeem(sub, code)
        self.assertFalse(sub.discount_ids)

    def test_bad_discount_terms(self):
        """Over 100 %, zero, a negative fixed amount: refused on the coupon
        and on a staff discount."""
        sub = self._started()
        for values in [
            {"value": 120.0},
            {"value": 0.0},
            {"discount_type": "fixed", "value": -5.0},
        ]:
            with self.subTest(values=values):
                with self.assertRaises(ValidationError):
                    self._coupon("BAD", **values)
                with self.assertRaises(ValidationError):
                    self.env["subscription.discount"].create(
                        {"subscription_id": sub.id, **values}
                    )
        self.assertFalse(sub.discount_ids)

    def test_code_unique_in_any_case(self):
        self._coupon("Same")
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self._coupon("SAME ")


@tagged("post_install", "-at_install")
class TestDiscountPortal(PortalCase):
    """The coupon field of the portal: the customer's own users only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["subscription.coupon"].create(
            {"code": "PORTAL10", "value": 10.0, "duration": "forever"}
        )

    def _post_coupon(self, sub, code, page_sub=None):
        page = self.url_open(f"/my/subscriptions/{(page_sub or sub).id}").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.url_open(
            f"/my/subscriptions/{sub.id}/coupon",
            data={"csrf_token": token, "code": code},
            allow_redirects=False,
        )

    def test_owner_redeems_a_coupon(self):
        self.authenticate("alice", "alice")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        self.assertIn("o_portal_coupon_form", page)
        response = self._post_coupon(self.sub, "portal10")
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(self.sub.discount_ids.coupon_id.code, "PORTAL10")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        self.assertIn("Coupon PORTAL10 — 10 % off", page)

    def test_page_shows_the_discounted_price_and_what_is_left(self):
        """30.00 per month with 20 % off for 3 periods, one billed (June,
        24.00): the page shows 30.00 struck, 24.00 and "20 % off, 2 periods
        left"."""
        with freeze_time("2026-05-10"):
            discount = self.env["subscription.discount"].create(
                {
                    "subscription_id": self.sub.id,
                    "value": 20.0,
                    "duration": "periods",
                    "period_count": 3,
                }
            )
        self.assertEqual(str(discount.date_start), "2026-06-01", "May is invoiced")
        with freeze_time("2026-06-01"):
            self.env["subscription.subscription"]._generate_due_invoices("2026-06-01")
        self.assertEqual(self.sub.invoice_ids.sorted("id")[-1].amount_untaxed, 24.0)
        self.assertEqual(
            self.sub._portal_discount(), (24.0, ["20 % off, 2 periods left"])
        )
        self.authenticate("alice", "alice")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text.replace(
            "\xa0", " "
        )
        price = page[page.index("Price per period") :][:1500]
        self.assertIn("text-decoration-line-through", price)
        self.assertIn("30.00", price)
        discounted = price[price.index("o_portal_discounted_price") :][:200]
        self.assertIn("24.00", discounted)
        self.assertIn("20 % off, 2 periods left", price)

    def test_refused_code_is_explained_on_the_page(self):
        self.authenticate("alice", "alice")
        for code, message in [
            ("NOPE", "The coupon NOPE does not exist."),
            ("x" * 5000, "is not a coupon code"),
        ]:
            response = self._post_coupon(self.sub, code)
            self.assertEqual(response.status_code, 200)
            self.assertIn("o_portal_change_error", response.text)
            self.assertIn(message, response.text)
        self.env.invalidate_all()
        self.assertFalse(self.sub.discount_ids)

    def test_another_customer_is_refused(self):
        self.authenticate("globex", "globex")
        response = self._post_coupon(self.sub, "PORTAL10", page_sub=self.other)
        self.assertEqual(response.status_code, 403)
        self.env.invalidate_all()
        self.assertFalse(self.sub.discount_ids)

    def test_without_csrf_token_nothing_changes(self):
        self.authenticate("alice", "alice")
        with mute_logger("odoo.http"):
            response = self.url_open(
                f"/my/subscriptions/{self.sub.id}/coupon",
                data={"code": "PORTAL10"},
                allow_redirects=False,
            )
        self.assertEqual(response.status_code, 400)
        self.env.invalidate_all()
        self.assertFalse(self.sub.discount_ids)
