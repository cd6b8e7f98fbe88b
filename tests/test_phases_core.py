# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Price phases on the billing schedule (``core/phases``): unittest, no Odoo."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import periods
from ..core import phases as ph
from .core_case import CoreCase

UNITS = (periods.DAY, periods.WEEK, periods.MONTH, periods.YEAR)


@st.composite
def schedules(draw):
    recurrence = periods.Recurrence(
        draw(st.integers(1, 4)), draw(st.sampled_from(UNITS))
    )
    start = draw(st.dates(date(2020, 1, 1), date(2035, 12, 31)))
    if draw(st.booleans()):
        return periods.Schedule.build(recurrence, start)
    # Calendar alignment: a weekday for weekly plans, a day of the month else.
    top = 7 if recurrence.unit == periods.WEEK else 28
    return periods.Schedule.build(
        recurrence,
        start,
        alignment=periods.CALENDAR,
        day=draw(st.integers(1, top)),
        month=draw(st.integers(1, 12)),
    )


def monthly(start):
    return periods.Schedule.build(periods.Recurrence(1, periods.MONTH), start)


class TestPhaseBoundaries(CoreCase):
    def test_intro_of_three_months_from_january(self):
        boundaries = ph.phase_boundaries(monthly(date(2026, 1, 1)), [3])
        assert boundaries == [date(2026, 4, 1)]

    def test_trial_of_14_days_moves_the_boundaries(self):
        # Trial 1-14 Jan 2026: billing starts on 15 Jan, 3 periods later is 15 Apr.
        boundaries = ph.phase_boundaries(monthly(date(2026, 1, 15)), [3, 12])
        assert boundaries == [date(2026, 4, 15), date(2027, 4, 15)]

    def test_end_of_month_start_keeps_its_day(self):
        boundaries = ph.phase_boundaries(monthly(date(2026, 1, 31)), [1, 1, 1])
        assert boundaries == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]

    def test_a_partial_first_period_does_not_count(self):
        """Billed on the 1st from 20 January: 20-31 January is a partial
        period at the first phase's price; the 2 periods are February and
        March; the standard price starts on 1 April."""
        schedule = periods.Schedule.build(
            periods.Recurrence(1, periods.MONTH),
            date(2026, 1, 20),
            alignment=periods.CALENDAR,
            day=1,
        )
        assert ph.phase_boundaries(schedule, [2]) == [date(2026, 4, 1)]
        assert ph.phase_boundaries(schedule, [1, 1]) == [
            date(2026, 3, 1),
            date(2026, 4, 1),
        ]

    def test_a_first_period_starting_on_the_billing_day_counts(self):
        schedule = periods.Schedule.build(
            periods.Recurrence(1, periods.MONTH),
            date(2026, 1, 1),
            alignment=periods.CALENDAR,
            day=1,
        )
        assert ph.phase_boundaries(schedule, [2]) == [date(2026, 3, 1)]

    def test_a_phase_without_a_period_is_refused(self):
        for durations in ([0], [2, -1], [1.5], [True]):
            with self.subTest(durations=durations):
                with self.assertRaises(ph.PhaseError):
                    ph.phase_boundaries(monthly(date(2026, 1, 1)), durations)

    @settings(max_examples=150, deadline=None)
    @given(schedules(), st.lists(st.integers(1, 14), min_size=1, max_size=5))
    def test_boundaries_are_increasing_period_starts(self, schedule, durations):
        boundaries = ph.phase_boundaries(schedule, durations)
        assert len(boundaries) == len(durations)
        previous = schedule.start
        for day in boundaries:
            assert day > previous
            assert schedule.period_at(day).start == day, "a period starts there"
            previous = day

    @settings(max_examples=150, deadline=None)
    @given(schedules(), st.lists(st.integers(1, 14), min_size=1, max_size=5))
    def test_the_standard_price_starts_after_all_the_periods(self, schedule, durations):
        boundaries = ph.phase_boundaries(schedule, durations)
        # The last phase ends where the standard price starts: after exactly
        # the phases' periods, whatever the split into phases.
        assert ph.phase_boundaries(schedule, [sum(durations)]) == boundaries[-1:]
        count = 0
        for period in schedule.periods():
            if period.start >= boundaries[-1]:
                break
            count += not period.is_partial
        assert count == sum(durations), "full periods; a partial first is extra"


class TestPhasePrice(CoreCase):
    def test_worked_examples(self):
        assert ph.phase_price("20.00", 50, "0.01") == Decimal("10.00")
        assert ph.phase_price("20.00", 75, "0.01") == Decimal("15.00")
        assert ph.phase_price("19.99", 50, "0.01") == Decimal("10.00"), "half up"
        assert ph.phase_price("20.00", 0, "0.01") == Decimal("0.00")

    def test_percent_out_of_range_is_refused(self):
        for percent in (-1, 100.01, 101, 1001, "NaN"):
            with self.subTest(percent=percent):
                with self.assertRaises(ph.PhaseError):
                    ph.phase_price("20.00", percent, "0.01")

    def test_fixed_price_worked_examples(self):
        """9.99 per month for 3 months on a 19.99 plan: the phase bills 9.99,
        whatever the standard price."""
        fixed = ph.FIXED
        assert ph.phase_price("19.99", None, "0.01", fixed, "9.99") == Decimal("9.99")
        assert ph.phase_price("19.99", None, "0.01", fixed, 0) == Decimal("0.00")
        assert ph.phase_price("19.99", None, "1", fixed, "9.5") == Decimal("10")

    def test_bad_fixed_prices_are_refused(self):
        for mode, fixed in ((ph.FIXED, "-0.01"), (ph.FIXED, None), ("other", "1")):
            with self.subTest(mode=mode, fixed=fixed):
                with self.assertRaises(ph.PhaseError):
                    ph.phase_price("20.00", 50, "0.01", mode, fixed)

    @settings(max_examples=200, deadline=None)
    @given(
        st.decimals(0, 10**9, places=2),
        st.decimals(0, 100, places=2),
        st.decimals(0, 100, places=2),
    )
    def test_price_is_rounded_and_grows_with_the_percent(self, price, low, high):
        low, high = sorted((low, high))
        assert ph.phase_price(price, 100, "0.01") == price
        cheap = ph.phase_price(price, low, "0.01")
        dear = ph.phase_price(price, high, "0.01")
        assert cheap <= dear <= price, "at most the standard price"
        assert cheap == cheap.quantize(Decimal("0.01"))
        assert abs(cheap - price * low / 100) <= Decimal("0.005")

    @settings(max_examples=200, deadline=None)
    @given(
        st.decimals(0, 10**9, places=2),
        st.decimals(0, 10**9, places=3),
        st.sampled_from(["0.01", "1", "0.001"]),
    )
    def test_a_fixed_price_is_exact_and_ignores_the_standard(
        self, standard, fixed, quantum
    ):
        price = ph.phase_price(standard, None, quantum, ph.FIXED, fixed)
        assert price == ph.phase_price("1.00", 50, quantum, ph.FIXED, fixed)
        assert price % Decimal(quantum) == 0
        assert abs(price - fixed) <= Decimal(quantum) / 2
        if fixed == fixed.quantize(Decimal(quantum)):
            assert price == fixed, "a price in the currency's cents is kept exactly"
