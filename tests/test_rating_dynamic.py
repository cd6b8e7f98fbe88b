# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The dynamic charge model and the Lago parity options of ``core/rating``,
and the billing day of ``core/periods``: unittest and Hypothesis, no
database, no Odoo.

Amounts are computed by hand in the docstrings.
"""

import calendar
import itertools
from datetime import date
from decimal import Decimal as D
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import periods, rating
from ..core.periods import quantize
from .core_case import CoreCase

PROPERTIES = settings(max_examples=200, deadline=None)


def tier(start, end, unit_price, flat_fee="0"):
    return {
        "from": D(start),
        "to": None if end is None else D(end),
        "unit_price": D(unit_price),
        "flat_fee": D(flat_fee),
    }


# Graduated: 0-100 at 1.00 with a 5.00 flat fee, then 0.50.
GRADUATED = [tier(0, 100, "1.00", "5.00"), tier(100, None, "0.50")]
# Seats: 1-10 at 10.00, 11-50 at 8.00, more at 6.00, each with 20.00 flat.
SEATS = [
    tier(0, 10, "10.00", "20.00"),
    tier(10, 50, "8.00", "20.00"),
    tier(50, None, "6.00", "20.00"),
]
AMOUNTS = st.lists(
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
    max_size=20,
)


class TestDynamic(CoreCase):
    def test_sum_of_event_amounts(self):
        """Events 1.10 + 2.25 + 0.005 = 3.355 exactly; the invoice line
        rounds once, half up to the cent: 3.36."""
        events = [D("1.10"), D("2.25"), D("0.005")]
        result = rating.rate("dynamic", sum(events), {}, transactions=events)
        self.assertEqual(result.amount, D("3.355"))
        self.assertEqual(result.rounded("0.01"), D("3.36"))
        self.assertEqual(result.explain(), "3.355 (sum of 3 events)")
        (detail,) = result.details
        self.assertEqual(detail.kind, "dynamic")
        self.assertEqual(detail.note_values, (("count", 3),))

    def test_one_event_and_none(self):
        """One event of 4.20: 4.20 (sum of 1 event); no event: 0."""
        result = rating.rate("dynamic", D("4.2"), {}, transactions=[D("4.2")])
        self.assertEqual(result.explain(), "4.20 (sum of 1 event)")
        result = rating.rate("dynamic", 0, {}, transactions=[])
        self.assertEqual(result.amount, 0)
        self.assertEqual(result.explain(), "0.00 (sum of 0 events)")

    def test_count_only(self):
        """A count instead of the amounts: the sum is the units, 7.5."""
        result = rating.rate("dynamic", D("7.5"), {}, transactions=2)
        self.assertEqual(result.amount, D("7.5"))
        self.assertEqual(result.explain(), "7.50 (sum of 2 events)")

    def test_allowance_and_period_bounds(self):
        """1.00 free (included), then 2.00 + 3.00 - 1.00 = 4.00; a period
        maximum of 3.50 caps it: 4.00 - 0.50 = 3.50."""
        result = rating.rate(
            "dynamic",
            D(5),
            {},
            transactions=[D(2), D(3)],
            included_units=1,
            max_amount=D("3.50"),
        )
        self.assertEqual(result.amount, D("3.50"))
        self.assertEqual(
            result.explain(), "1 included + 4.00 (sum of 2 events) - 0.50 (maximum)"
        )

    def test_hostile_amounts(self):
        """NaN, infinity, negative, text and booleans are refused by name."""
        for bad in (D("NaN"), D("Infinity"), D(-1), "abc", True, None):
            with self.subTest(bad=bad), self.assertRaises(rating.RatingError):
                rating.rate("dynamic", D(1), {}, transactions=[D(1), bad])
        with self.assertRaisesRegex(rating.RatingError, "more than an invoice line"):
            rating.rate("dynamic", D(10) ** 14, {}, transactions=[D(10) ** 14])
        with self.assertRaisesRegex(rating.RatingError, "add up to"):
            rating.rate("dynamic", D(1), {}, transactions=[D(2)])
        with self.assertRaisesRegex(rating.RatingError, "unknown property"):
            rating.validate("dynamic", {"unit_price": 1})

    @PROPERTIES
    @given(AMOUNTS, st.randoms(use_true_random=False))
    def test_sum_of_parts_is_the_whole(self, amounts, random):
        """Whatever the events, the charge is their exact sum, in any order,
        and rating two halves of the events adds up to rating them all."""
        total = sum(amounts, D(0))
        whole = rating.rate("dynamic", total, {}, transactions=amounts).amount
        self.assertEqual(whole, total)
        shuffled = list(amounts)
        random.shuffle(shuffled)
        again = rating.rate("dynamic", total, {}, transactions=shuffled).amount
        self.assertEqual(again, whole)
        cut = len(amounts) // 2
        parts = [amounts[:cut], amounts[cut:]]
        self.assertEqual(
            sum(
                (
                    rating.rate("dynamic", sum(p, D(0)), {}, transactions=p).amount
                    for p in parts
                ),
                D(0),
            ),
            whole,
        )


class TestGraduatedFlatAtZero(CoreCase):
    def test_off_by_default(self):
        """Zero units enter no tier: 0.00."""
        result = rating.rate("graduated", 0, {"tiers": GRADUATED})
        self.assertEqual(result.amount, 0)

    def test_on(self):
        """Zero units pay the first tier's 5.00 flat fee: 0 × 1.00 + 5.00."""
        properties = {"tiers": GRADUATED, "charge_flat_at_zero": True}
        result = rating.rate("graduated", 0, properties)
        self.assertEqual(result.amount, D("5.00"))
        self.assertEqual(result.explain(), "0 × 1.00 + 5.00")
        # An allowance that covers everything leaves 0 units: the fee still.
        result = rating.rate("graduated", 30, properties, included_units=50)
        self.assertEqual(result.amount, D("5.00"))

    def test_on_changes_nothing_with_usage(self):
        """150 units: 100 × 1.00 + 5.00 + 50 × 0.50 = 130.00, option or not."""
        for option in (False, True):
            properties = {"tiers": GRADUATED, "charge_flat_at_zero": option}
            self.assertEqual(rating.rate("graduated", 150, properties).amount, 130)

    def test_option_must_be_a_flag(self):
        with self.assertRaisesRegex(rating.RatingError, "is an option"):
            rating.validate("graduated", {"tiers": GRADUATED, "charge_flat_at_zero": 2})
        # Read from a boolean column as a number: 1 is true.
        properties = {"tiers": GRADUATED, "charge_flat_at_zero": D(1)}
        self.assertEqual(rating.rate("graduated", 0, properties).amount, 5)


class TestPercentageWhicheverFirst(CoreCase):
    TERMS = {
        "rate": D(2),
        "fixed_fee": D("0.10"),
        "free_transactions": 3,
        "free_amount": D(100),
    }

    def test_off_refuses_both(self):
        """Today's rule stays: both free terms without the option are refused."""
        with self.assertRaisesRegex(rating.RatingError, "not both"):
            rating.validate("percentage", self.TERMS)

    def test_count_runs_out_first(self):
        """3 free transactions, 100.00 free: 10 + 20 + 30 = 60 are free (the
        count ran out first), then 50 and 40 pay 2% + 0.10:
        90 × 2% + 2 × 0.10 = 1.80 + 0.20 = 2.00."""
        terms = {**self.TERMS, "free_whichever_first": True}
        amounts = [D(10), D(20), D(30), D(50), D(40)]
        result = rating.rate("percentage", D(150), terms, transactions=amounts)
        self.assertEqual(result.amount, D("2.00"))
        self.assertEqual(result.explain(), "90.00 × 2% + 2 × 0.10 (per transaction)")

    def test_amount_runs_out_first(self):
        """100.00 free, 3 free transactions: 60 is free, the second
        transaction (70) is free up to the 40 left and pays on 30, then 50:
        (30 + 50) × 2% + 2 × 0.10 = 1.60 + 0.20 = 1.80."""
        terms = {**self.TERMS, "free_whichever_first": True}
        amounts = [D(60), D(70), D(50)]
        result = rating.rate("percentage", D(180), terms, transactions=amounts)
        self.assertEqual(result.amount, D("1.80"))

    def test_option_alone_changes_nothing(self):
        """One free term only: the option changes nothing.  2 free
        transactions of 3: 50 × 2% + 0.10 = 1.10."""
        terms = {
            "rate": D(2),
            "fixed_fee": D("0.10"),
            "free_transactions": 2,
        }
        amounts = [D(10), D(20), D(50)]
        for option in (False, True):
            result = rating.rate(
                "percentage",
                D(80),
                {**terms, "free_whichever_first": option},
                transactions=amounts,
            )
            self.assertEqual(result.amount, D("1.10"))


class TestVolumeProrated(CoreCase):
    def test_off_by_default(self):
        """12 seats reach 8.00: 12 × 8.00 + 20.00 = 116.00, not prorated."""
        result = rating.rate("volume", 12, {"tiers": SEATS}, proration=(12, 28))
        self.assertEqual(result.amount, D("116.00"))

    def test_on_partial_period(self):
        """12 seats on 12 of 28 days: the tier of 12 seats (8.00), the charge
        prorated: (12 × 8.00 + 20.00) × 12 / 28 = 116 × 12 / 28 = 49.714285…
        → 49.71 on the invoice."""
        properties = {"tiers": SEATS, "prorated": True}
        result = rating.rate("volume", 12, properties, proration=(12, 28))
        self.assertEqual(quantize(result.amount, D("0.01")), D("49.71"))
        self.assertEqual(result.amount * 28, D(116 * 12))
        self.assertEqual(result.explain(), "12 × 8.00 + 20.00 (prorated 12/28 days)")

    def test_on_whole_period(self):
        """A whole period (or no proration given): 116.00."""
        properties = {"tiers": SEATS, "prorated": True}
        for proration in (None, (28, 28)):
            result = rating.rate("volume", 12, properties, proration=proration)
            self.assertEqual(result.amount, D("116.00"))

    def test_bad_proration(self):
        properties = {"tiers": SEATS, "prorated": True}
        for bad in ((0, 28), (29, 28), ("a", 1), 3):
            with self.subTest(bad=bad), self.assertRaises(rating.RatingError):
                rating.rate("volume", 12, properties, proration=bad)

    def test_ignored_by_other_models(self):
        """Proration is a volume option: a standard charge is not prorated."""
        result = rating.rate("standard", 10, {"unit_price": 2}, proration=(1, 2))
        self.assertEqual(result.amount, 20)

    @PROPERTIES
    @given(
        st.integers(min_value=1, max_value=500),
        st.integers(min_value=1, max_value=31),
        st.integers(min_value=0, max_value=31),
    )
    def test_prorated_parts_of_the_whole(self, seats, full_days, days):
        """The days of a period, prorated in two parts, add up to the whole
        period's charge (unrounded), the tier chosen from all the seats."""
        days = min(days, full_days - 1)
        properties = {"tiers": SEATS, "prorated": True}
        whole = rating.rate("volume", seats, {"tiers": SEATS}).amount
        parts = [
            rating.rate("volume", seats, properties, proration=(n, full_days)).amount
            for n in (days, full_days - days)
            if n
        ]
        self.assertAlmostEqual(sum(parts, D(0)), whole, places=40)


class TestBillingDayAlignment(CoreCase):
    def test_billing_day_15_from_3_march(self):
        """A monthly plan, billing day 15, from 3 March 2026: 3 to 14 March
        (12 of the 28 days of 15 February to 14 March), then 15th to 14th."""
        monthly = periods.Recurrence(1, periods.MONTH)
        start = date(2026, 3, 3)
        alignment, day, month = periods.billing_day_alignment(
            monthly, start, 15, periods.ANNIVERSARY
        )
        self.assertEqual((alignment, day, month), (periods.CALENDAR, 15, 3))
        schedule = periods.Schedule.build(monthly, start, None, alignment, day, month)
        first, second = list(itertools.islice(schedule.periods(), 2))
        self.assertEqual((first.start, first.end), (start, date(2026, 3, 14)))
        self.assertEqual((first.days, first.full_days), (12, 28))
        self.assertEqual(first.fraction, Fraction(12, 28))
        self.assertEqual(
            (second.start, second.end), (date(2026, 3, 15), date(2026, 4, 14))
        )
        self.assertFalse(second.is_partial)
        rounded, __ = periods.prorate(D("20.00"), first, D("0.01"))
        self.assertEqual(rounded, D("8.57"))  # 20.00 × 12 / 28 = 8.571…

    def test_plan_alignment_stands_without_a_day_or_for_weeks(self):
        monthly = periods.Recurrence(1, periods.MONTH)
        weekly = periods.Recurrence(1, periods.WEEK)
        start = date(2026, 3, 3)
        self.assertEqual(
            periods.billing_day_alignment(monthly, start, 0, periods.ANNIVERSARY),
            (periods.ANNIVERSARY, None, 1),
        )
        self.assertEqual(
            periods.billing_day_alignment(weekly, start, 15, periods.CALENDAR, 4),
            (periods.CALENDAR, None, 4),
        )
        # A yearly calendar plan keeps its month, the day is the customer's.
        yearly = periods.Recurrence(1, periods.YEAR)
        self.assertEqual(
            periods.billing_day_alignment(yearly, start, 31, periods.CALENDAR, 7),
            (periods.CALENDAR, 31, 7),
        )
        with self.assertRaises(periods.PeriodError):
            periods.billing_day_alignment(monthly, start, 32, periods.ANNIVERSARY)

    @PROPERTIES
    @given(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
        st.integers(min_value=1, max_value=31),
    )
    def test_every_full_period_starts_on_the_billing_day(self, start, day):
        """After the first (prorated) period, every period starts on the
        billing day (the last day of a shorter month), and they tile."""

        monthly = periods.Recurrence(1, periods.MONTH)
        alignment, anchor, month = periods.billing_day_alignment(
            monthly, start, day, periods.ANNIVERSARY
        )
        schedule = periods.Schedule.build(
            monthly, start, None, alignment, anchor, month
        )
        previous = None
        for period in itertools.islice(schedule.periods(), 4):
            if previous is None:
                self.assertEqual(period.start, start)
            else:
                self.assertEqual(period.start, previous.end + periods.ONE_DAY)
                last = calendar.monthrange(period.start.year, period.start.month)[1]
                self.assertEqual(period.start.day, min(day, last))
                self.assertFalse(period.is_partial)
            previous = period
