# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Revenue recognition schedules (``core/recognition``): unittest, no Odoo."""

from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import recognition as rc
from .core_case import CoreCase

CENT = D("0.01")


def amounts(schedule):
    return [share.amount for share in schedule]


@st.composite
def periods(draw):
    start = draw(st.dates(date(2020, 1, 1), date(2035, 12, 31)))
    return start, start + timedelta(days=draw(st.integers(0, 800)))


money = st.decimals(
    min_value=D("-1000000"), max_value=D("1000000"), places=2, allow_nan=False
)


class TestRecognitionCore(CoreCase):
    def test_three_months_by_days(self):
        """120.00 for 15 Jan - 14 Mar 2026 (17 + 28 + 14 = 59 days):
        January R(120 * 17/59) = R(34.576) = 34.58; through February
        R(120 * 45/59) = R(91.525) = 91.53, so February 56.95; March
        120.00 - 91.53 = 28.47."""
        shares = rc.schedule(
            D("120.00"), date(2026, 1, 15), date(2026, 3, 14), "days", CENT
        )
        assert shares == [
            rc.Share(date(2026, 1, 1), D("34.58")),
            rc.Share(date(2026, 2, 1), D("56.95")),
            rc.Share(date(2026, 3, 1), D("28.47")),
        ]

    def test_three_months_by_equal_months(self):
        """Weights: January 17/31, February 1 (whole), March 14/31: 2 in all.
        January R(120 * 17/62) = R(32.903) = 32.90; through February
        R(120 * 48/62) = R(92.903) = 92.90, so February 60.00; March 27.10."""
        shares = rc.schedule(
            D("120.00"), date(2026, 1, 15), date(2026, 3, 14), "months", CENT
        )
        assert amounts(shares) == [D("32.90"), D("60.00"), D("27.10")]

    def test_whole_months_are_equal_shares(self):
        shares = rc.schedule(
            D("1200"), date(2026, 1, 1), date(2026, 12, 31), "months", CENT
        )
        assert amounts(shares) == [D("100.00")] * 12

    def test_a_credit_is_the_exact_opposite(self):
        plus = rc.schedule(D("100"), date(2026, 1, 10), date(2026, 4, 20), "days", CENT)
        minus = rc.schedule(
            D("-100"), date(2026, 1, 10), date(2026, 4, 20), "days", CENT
        )
        assert amounts(minus) == [-amount for amount in amounts(plus)]

    def test_one_day(self):
        shares = rc.schedule(
            D("9.99"), date(2026, 2, 28), date(2026, 2, 28), "days", CENT
        )
        assert shares == [rc.Share(date(2026, 2, 1), D("9.99"))]

    def test_bad_input_is_refused(self):
        for args in (
            (D("1"), date(2026, 2, 1), date(2026, 1, 1), "days", CENT),
            (D("1"), date(2026, 1, 1), date(2026, 2, 1), "weeks", CENT),
            (D("NaN"), date(2026, 1, 1), date(2026, 2, 1), "days", CENT),
            (1.5, date(2026, 1, 1), date(2026, 2, 1), "days", CENT),
            (D("1"), date(2026, 1, 1), date(2026, 2, 1), "days", D("0")),
        ):
            with self.subTest(args=args), self.assertRaises(rc.RecognitionError):
                rc.schedule(*args)

    @settings(max_examples=300, deadline=None)
    @given(money, periods(), st.sampled_from(rc.METHODS))
    def test_sum_exact_months_inside_and_signs(self, amount, period, method):
        start, end = period
        shares = rc.schedule(amount, start, end, method, CENT)
        assert sum(amounts(shares)) == amount
        assert shares[0].month == start.replace(day=1)
        assert shares[-1].month == end.replace(day=1)
        months = [share.month for share in shares]
        assert months == sorted(set(months)), "each month once, in order"
        for share in shares:
            assert share.month.day == 1
            assert start.replace(day=1) <= share.month <= end
            assert share.amount == share.amount.quantize(CENT)
            if amount >= 0:
                assert share.amount >= 0
            else:
                assert share.amount <= 0

    @settings(max_examples=200, deadline=None)
    @given(money, periods())
    def test_days_are_proportional(self, amount, period):
        """Each running total is the exact prorated amount, rounded: no share
        is more than one cent from its exact days' fraction."""
        start, end = period
        shares = rc.schedule(amount, start, end, "days", CENT)
        total_days = (end - start).days + 1
        for (month, first, last), share in zip(
            rc.months_between(start, end), shares, strict=True
        ):
            assert share.month == month
            exact = Fraction(amount) * ((last - first).days + 1) / total_days
            assert abs(Fraction(share.amount) - exact) <= Fraction(1, 100)
