# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Billing-period arithmetic of ``core/periods.py``: unittest, no database, no Odoo.

Worked examples with exact expected values, then Hypothesis properties (tiling,
alignment, telescoping proration), then a check that ``core`` imports no Odoo.
"""

import calendar
import os
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import islice, pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import periods
from .core_case import CoreCase

ONE_DAY = timedelta(days=1)
MONTHLY = periods.Recurrence(1, periods.MONTH)
CENT = "0.01"
# Unrounded amounts are Decimals computed in the default 28-digit context.
TOLERANCE = Fraction(1, 10**20)


def d(text):
    return date.fromisoformat(text)


def spans(schedule, count=None, since=None):
    """``(start, end, full_start, full_end)`` of the first ``count`` periods."""
    return [
        (p.start, p.end, p.full_start, p.full_end)
        for p in islice(schedule.periods(since), count)
    ]


def full(start, end):
    """A whole period: the billed days are the full period."""
    return (d(start), d(end), d(start), d(end))


def part(start, end, full_start, full_end):
    return (d(start), d(end), d(full_start), d(full_end))


def period(start, end, full_start, full_end):
    return periods.Period(d(start), d(end), d(full_start), d(full_end))


# --- add_months / add_interval ----------------------------------------------


class TestPeriodArithmetic(CoreCase):
    def test_add_months_clamps_to_month_end(self):
        for day, months, day_of_month, expected in [
            ("2026-01-31", 1, None, "2026-02-28"),
            ("2024-01-31", 1, None, "2024-02-29"),
            ("2026-01-31", 2, None, "2026-03-31"),
            ("2026-03-31", -1, None, "2026-02-28"),
            ("2026-12-15", 1, None, "2027-01-15"),
            ("2026-01-15", -1, None, "2025-12-15"),
            ("2026-01-15", -13, None, "2024-12-15"),
            ("2026-02-28", 1, 31, "2026-03-31"),
            ("2026-02-28", 2, 31, "2026-04-30"),
            ("2026-05-20", 0, 1, "2026-05-01"),
            ("2024-02-29", 12, None, "2025-02-28"),
            ("2024-02-29", 48, None, "2028-02-29"),
        ]:
            with self.subTest(
                day=day, months=months, day_of_month=day_of_month, expected=expected
            ):
                assert periods.add_months(d(day), months, day_of_month) == d(expected)

    def test_add_interval(self):
        for count, unit, expected in [
            (10, periods.DAY, "2026-02-10"),
            (-1, periods.DAY, "2026-01-30"),
            (2, periods.WEEK, "2026-02-14"),
            (1, periods.MONTH, "2026-02-28"),
            (-2, periods.MONTH, "2025-11-30"),
            (1, periods.YEAR, "2027-01-31"),
            (-1, periods.YEAR, "2025-01-31"),
        ]:
            with self.subTest(count=count, unit=unit, expected=expected):
                assert periods.add_interval(d("2026-01-31"), count, unit) == d(expected)

    def test_add_interval_unknown_unit(self):
        with self.assertRaisesRegex(periods.PeriodError, "fortnight"):
            periods.add_interval(d("2026-01-31"), 1, "fortnight")

    # --- Recurrence and calendar_reference ---------------------------------------

    def test_invalid_recurrence(self):
        for interval, unit in [
            (0, "month"),
            (-1, "month"),
            (1, "fortnight"),
            (1.5, "month"),
            ("1", "month"),
        ]:
            with self.subTest(interval=interval, unit=unit):
                with self.assertRaises(periods.PeriodError):
                    periods.Recurrence(interval, unit)

    def test_period_error_is_a_value_error(self):
        assert issubclass(periods.PeriodError, ValueError)

    def test_calendar_reference(self):
        for recurrence, day, month, expected in [
            (MONTHLY, 1, 1, (d("2000-01-01"), 1)),
            (MONTHLY, 31, 4, (d("2000-04-30"), 31)),
            (periods.Recurrence(1, periods.YEAR), 29, 2, (d("2000-02-29"), 29)),
            # Weekday 3 = Wednesday, counted from Monday 3 January 2000.
            (periods.Recurrence(1, periods.WEEK), 3, 1, (d("2000-01-05"), None)),
            (periods.Recurrence(1, periods.WEEK), 7, 1, (d("2000-01-09"), None)),
            (periods.Recurrence(3, periods.DAY), 1, 1, (d("2000-01-03"), None)),
        ]:
            with self.subTest(
                recurrence=recurrence, day=day, month=month, expected=expected
            ):
                assert periods.calendar_reference(recurrence, day, month) == expected

    def test_calendar_reference_out_of_range(self):
        for unit, day, month, message in [
            (periods.MONTH, 0, 1, "day must be 1 to 31"),
            (periods.MONTH, 32, 1, "day must be 1 to 31"),
            (periods.MONTH, 1, 0, "month must be 1 to 12"),
            (periods.MONTH, 1, 13, "month must be 1 to 12"),
            (periods.YEAR, 32, 6, "day must be 1 to 31"),
            (periods.YEAR, 1, 13, "month must be 1 to 12"),
            (periods.WEEK, 0, 1, "weekday must be 1 to 7"),
            (periods.WEEK, 8, 1, "weekday must be 1 to 7"),
        ]:
            with self.subTest(unit=unit, day=day, month=month, message=message):
                recurrence = periods.Recurrence(1, unit)
                with self.assertRaisesRegex(periods.PeriodError, message):
                    periods.calendar_reference(recurrence, day, month)
                with self.assertRaisesRegex(periods.PeriodError, message):
                    periods.Schedule.build(
                        recurrence,
                        d("2026-05-11"),
                        alignment=periods.CALENDAR,
                        day=day,
                        month=month,
                    )

    def test_unknown_alignment(self):
        with self.assertRaisesRegex(periods.PeriodError, "alignment"):
            periods.Schedule.build(MONTHLY, d("2026-05-11"), alignment="fiscal")

    # --- Schedules: worked examples ---------------------------------------------

    def test_monthly_anniversary_from_the_31st_keeps_coming_back(self):
        # Boundaries are reference + k months clamped, never previous end + 1 month.
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-31"))
        assert spans(schedule, 5) == [
            full("2026-01-31", "2026-02-27"),
            full("2026-02-28", "2026-03-30"),
            full("2026-03-31", "2026-04-29"),
            full("2026-04-30", "2026-05-30"),
            full("2026-05-31", "2026-06-29"),
        ]
        assert [p.is_partial for p in islice(schedule.periods(), 5)] == [False] * 5
        assert [p.full_days for p in islice(schedule.periods(), 3)] == [28, 31, 30]

    def test_calendar_monthly_first_period_is_partial(self):
        schedule = periods.Schedule.build(
            MONTHLY, d("2026-05-11"), alignment=periods.CALENDAR, day=1
        )
        first, second = islice(schedule.periods(), 2)
        assert (first.start, first.end) == (d("2026-05-11"), d("2026-05-31"))
        assert (first.full_start, first.full_end) == (d("2026-05-01"), d("2026-05-31"))
        assert (first.days, first.full_days) == (21, 31)
        assert first.fraction == Fraction(21, 31)
        assert first.is_partial
        assert (second.start, second.end) == (d("2026-06-01"), d("2026-06-30"))
        assert not second.is_partial
        assert second.fraction == 1

    def test_calendar_monthly_on_the_31st_clamps_to_month_ends(self):
        schedule = periods.Schedule.build(
            MONTHLY, d("2026-02-10"), alignment=periods.CALENDAR, day=31
        )
        assert spans(schedule, 4) == [
            part("2026-02-10", "2026-02-27", "2026-01-31", "2026-02-27"),
            full("2026-02-28", "2026-03-30"),
            full("2026-03-31", "2026-04-29"),
            full("2026-04-30", "2026-05-30"),
        ]

    def test_calendar_monthly_mid_month_day(self):
        schedule = periods.Schedule.build(
            MONTHLY, d("2026-05-11"), alignment=periods.CALENDAR, day=15
        )
        first = next(schedule.periods())
        assert (first.start, first.end) == (d("2026-05-11"), d("2026-05-14"))
        assert (first.full_start, first.full_end) == (d("2026-04-15"), d("2026-05-14"))
        assert first.fraction == Fraction(4, 30)

    def test_calendar_start_on_a_boundary_is_whole(self):
        schedule = periods.Schedule.build(
            MONTHLY, d("2026-06-01"), alignment=periods.CALENDAR, day=1
        )
        assert spans(schedule, 2) == [
            full("2026-06-01", "2026-06-30"),
            full("2026-07-01", "2026-07-31"),
        ]

    def test_quarterly_calendar_starting_in_january(self):
        schedule = periods.Schedule.build(
            periods.Recurrence(3, periods.MONTH),
            d("2026-05-11"),
            alignment=periods.CALENDAR,
            day=1,
            month=1,
        )
        assert spans(schedule, 4) == [
            part("2026-05-11", "2026-06-30", "2026-04-01", "2026-06-30"),
            full("2026-07-01", "2026-09-30"),
            full("2026-10-01", "2026-12-31"),
            full("2027-01-01", "2027-03-31"),
        ]
        assert next(schedule.periods()).fraction == Fraction(51, 91)

    def test_quarterly_calendar_with_alignment_month(self):
        # month=2: quarters start in February, May, August and November.
        schedule = periods.Schedule.build(
            periods.Recurrence(3, periods.MONTH),
            d("2026-05-11"),
            alignment=periods.CALENDAR,
            day=1,
            month=2,
        )
        assert spans(schedule, 4) == [
            part("2026-05-11", "2026-07-31", "2026-05-01", "2026-07-31"),
            full("2026-08-01", "2026-10-31"),
            full("2026-11-01", "2027-01-31"),
            full("2027-02-01", "2027-04-30"),
        ]
        assert next(schedule.periods()).fraction == Fraction(82, 92)

    def test_yearly_anniversary(self):
        schedule = periods.Schedule.build(
            periods.Recurrence(1, periods.YEAR), d("2026-05-11")
        )
        assert spans(schedule, 3) == [
            full("2026-05-11", "2027-05-10"),
            full("2027-05-11", "2028-05-10"),
            full("2028-05-11", "2029-05-10"),
        ]
        assert [p.full_days for p in islice(schedule.periods(), 3)] == [365, 366, 365]

    def test_leap_day_yearly_anniversary(self):
        schedule = periods.Schedule.build(
            periods.Recurrence(1, periods.YEAR), d("2024-02-29")
        )
        assert spans(schedule, 5) == [
            full("2024-02-29", "2025-02-27"),
            full("2025-02-28", "2026-02-27"),
            full("2026-02-28", "2027-02-27"),
            full("2027-02-28", "2028-02-28"),
            full("2028-02-29", "2029-02-27"),
        ]
        assert [p.full_days for p in islice(schedule.periods(), 5)] == [
            365,
            365,
            365,
            366,
            365,
        ]

    def test_yearly_calendar_with_alignment_month(self):
        # A fiscal year starting on 1 April.
        schedule = periods.Schedule.build(
            periods.Recurrence(1, periods.YEAR),
            d("2026-05-11"),
            alignment=periods.CALENDAR,
            day=1,
            month=4,
        )
        assert spans(schedule, 3) == [
            part("2026-05-11", "2027-03-31", "2026-04-01", "2027-03-31"),
            full("2027-04-01", "2028-03-31"),
            full("2028-04-01", "2029-03-31"),
        ]
        first = next(schedule.periods())
        assert (first.days, first.full_days) == (325, 365)

    def test_weekly_anniversary(self):
        schedule = periods.Schedule.build(
            periods.Recurrence(2, periods.WEEK), d("2026-05-13")
        )
        assert spans(schedule, 2) == [
            full("2026-05-13", "2026-05-26"),
            full("2026-05-27", "2026-06-09"),
        ]

    def test_weekly_calendar_weekday(self):
        # 2026-05-11 is a Monday; weekday 3 aligns the weeks on Wednesdays.
        assert d("2026-05-11").isoweekday() == 1
        schedule = periods.Schedule.build(
            periods.Recurrence(1, periods.WEEK),
            d("2026-05-11"),
            alignment=periods.CALENDAR,
            day=3,
        )
        assert spans(schedule, 3) == [
            part("2026-05-11", "2026-05-12", "2026-05-06", "2026-05-12"),
            full("2026-05-13", "2026-05-19"),
            full("2026-05-20", "2026-05-26"),
        ]
        assert next(schedule.periods()).fraction == Fraction(2, 7)
        # Aligned on Mondays, a Monday start is a whole week.
        monday = periods.Schedule.build(
            periods.Recurrence(1, periods.WEEK),
            d("2026-05-11"),
            alignment=periods.CALENDAR,
            day=1,
        )
        assert spans(monday, 1) == [full("2026-05-11", "2026-05-17")]

    def test_daily(self):
        schedule = periods.Schedule.build(
            periods.Recurrence(1, periods.DAY), d("2026-12-30")
        )
        assert spans(schedule, 3) == [
            full("2026-12-30", "2026-12-30"),
            full("2026-12-31", "2026-12-31"),
            full("2027-01-01", "2027-01-01"),
        ]
        # Every 3 days aligned on the calendar origin (Monday 2000-01-03).
        aligned = periods.Schedule.build(
            periods.Recurrence(3, periods.DAY),
            d("2026-05-11"),
            alignment=periods.CALENDAR,
        )
        assert spans(aligned, 2) == [
            part("2026-05-11", "2026-05-12", "2026-05-10", "2026-05-12"),
            full("2026-05-13", "2026-05-15"),
        ]

    def test_calendar_reference_before_2000(self):
        schedule = periods.Schedule.build(
            MONTHLY, d("1999-03-20"), alignment=periods.CALENDAR, day=31
        )
        assert spans(schedule, 2) == [
            part("1999-03-20", "1999-03-30", "1999-02-28", "1999-03-30"),
            full("1999-03-31", "1999-04-29"),
        ]

    # --- End dates, period_at, due dates -----------------------------------------

    def test_end_date_clips_the_last_period(self):
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-15"), end=d("2026-04-10"))
        assert spans(schedule) == [
            full("2026-01-15", "2026-02-14"),
            full("2026-02-15", "2026-03-14"),
            part("2026-03-15", "2026-04-10", "2026-03-15", "2026-04-14"),
        ]
        last = list(schedule.periods())[-1]
        assert last.is_partial
        assert last.fraction == Fraction(27, 31)
        assert periods.prorate("31.00", last, CENT) == (Decimal("27.00"), Decimal(27))

    def test_end_date_on_a_period_end_keeps_the_last_period_whole(self):
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-15"), end=d("2026-03-14"))
        assert spans(schedule) == [
            full("2026-01-15", "2026-02-14"),
            full("2026-02-15", "2026-03-14"),
        ]

    def test_one_day_schedule(self):
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-15"), end=d("2026-01-15"))
        assert spans(schedule) == [
            part("2026-01-15", "2026-01-15", "2026-01-15", "2026-02-14"),
        ]

    def test_calendar_schedule_partial_at_both_ends(self):
        schedule = periods.Schedule.build(
            MONTHLY,
            d("2026-05-11"),
            end=d("2026-05-20"),
            alignment=periods.CALENDAR,
        )
        assert spans(schedule) == [
            part("2026-05-11", "2026-05-20", "2026-05-01", "2026-05-31"),
        ]
        only = next(schedule.periods())
        # R(20 * 20/31) - R(20 * 10/31) = 12.90 - 6.45
        assert periods.prorate(20, only, CENT)[0] == Decimal("6.45")

    def test_end_before_start_raises(self):
        with self.assertRaisesRegex(periods.PeriodError, "before the start date"):
            periods.Schedule.build(MONTHLY, d("2026-03-01"), end=d("2026-02-01"))

    def test_period_at(self):
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-15"), end=d("2026-04-10"))
        assert schedule.period_at(d("2026-03-01")) == period(
            "2026-02-15", "2026-03-14", "2026-02-15", "2026-03-14"
        )
        assert schedule.period_at(d("2026-04-10")) == period(
            "2026-03-15", "2026-04-10", "2026-03-15", "2026-04-14"
        )
        for outside in (d("2026-01-14"), d("2026-04-11")):
            with self.assertRaisesRegex(periods.PeriodError, "outside"):
                schedule.period_at(outside)

    def test_periods_since_starts_with_the_period_containing_it(self):
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-15"), end=d("2026-04-10"))
        assert spans(schedule, since=d("2026-03-20")) == [
            part("2026-03-15", "2026-04-10", "2026-03-15", "2026-04-14"),
        ]
        assert spans(schedule, 1, since=d("2025-01-01")) == [
            full("2026-01-15", "2026-02-14"),
        ]
        assert spans(schedule, since=d("2026-04-11")) == []

    def test_due_dates(self):
        clipped = period("2026-03-15", "2026-04-10", "2026-03-15", "2026-04-14")
        assert clipped.due_date(periods.ADVANCE) == d("2026-03-15")
        assert clipped.due_date(periods.ARREARS) == d("2026-04-11")
        month = period("2026-12-01", "2026-12-31", "2026-12-01", "2026-12-31")
        assert month.due_date(periods.ADVANCE) == d("2026-12-01")
        assert month.due_date(periods.ARREARS) == d("2027-01-01")
        with self.assertRaisesRegex(periods.PeriodError, "timing"):
            month.due_date("whenever")

    def test_due_periods_catch_up_every_missed_period(self):
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-15"))
        up_to = d("2026-05-20")
        advance = list(schedule.due_periods(periods.ADVANCE, up_to))
        assert [p.start for p in advance] == [
            d("2026-01-15"),
            d("2026-02-15"),
            d("2026-03-15"),
            d("2026-04-15"),
            d("2026-05-15"),
        ]
        arrears = list(schedule.due_periods(periods.ARREARS, up_to))
        assert [(p.start, p.end) for p in arrears] == [
            (d("2026-01-15"), d("2026-02-14")),
            (d("2026-02-15"), d("2026-03-14")),
            (d("2026-03-15"), d("2026-04-14")),
            (d("2026-04-15"), d("2026-05-14")),
        ]
        since = list(
            schedule.due_periods(periods.ADVANCE, up_to, since=d("2026-03-20"))
        )
        assert [p.start for p in since] == [
            d("2026-03-15"),
            d("2026-04-15"),
            d("2026-05-15"),
        ]
        # The due date itself is included; the day before it is not.
        on_due = schedule.due_periods(periods.ARREARS, d("2026-02-15"))
        assert [p.end for p in on_due] == [d("2026-02-14")]
        assert list(schedule.due_periods(periods.ARREARS, d("2026-02-14"))) == []
        assert list(schedule.due_periods(periods.ADVANCE, d("2026-01-14"))) == []

    def test_due_periods_stop_at_the_end_date(self):
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-15"), end=d("2026-04-10"))
        due = list(schedule.due_periods(periods.ARREARS, d("2030-01-01")))
        assert [(p.start, p.end) for p in due] == [
            (d("2026-01-15"), d("2026-02-14")),
            (d("2026-02-15"), d("2026-03-14")),
            (d("2026-03-15"), d("2026-04-10")),
        ]

    def test_next_due_date(self):
        schedule = periods.Schedule.build(MONTHLY, d("2026-01-15"), end=d("2026-04-10"))
        assert schedule.next_due_date(periods.ADVANCE, d("2026-02-20")) == d(
            "2026-02-15"
        )
        assert schedule.next_due_date(periods.ARREARS, d("2026-02-20")) == d(
            "2026-03-15"
        )
        assert schedule.next_due_date(periods.ADVANCE, d("2025-06-01")) == d(
            "2026-01-15"
        )
        assert schedule.next_due_date(periods.ARREARS, d("2026-04-10")) == d(
            "2026-04-11"
        )
        assert schedule.next_due_date(periods.ADVANCE, d("2026-04-11")) is None
        assert schedule.next_due_date(periods.ARREARS, d("2026-04-11")) is None

    # --- quantize and prorate: worked examples -----------------------------------

    def test_quantize_half_up(self):
        for amount, quantum, expected in [
            ("0.005", "0.01", "0.01"),
            ("0.0049", "0.01", "0.00"),
            ("13.548387", "0.01", "13.55"),
            ("2.5", "1", "3"),
            ("2.49", "1", "2"),
            ("1.0005", "0.001", "1.001"),
            ("-0.005", "0.01", "-0.01"),
            ("5", "0.01", "5.00"),
        ]:
            with self.subTest(amount=amount, quantum=quantum, expected=expected):
                result = periods.quantize(Decimal(amount), quantum)
                assert result == Decimal(expected)
                assert (
                    result.as_tuple().exponent == Decimal(expected).as_tuple().exponent
                )

    def test_prorate_calendar_first_period(self):
        first = period("2026-05-11", "2026-05-31", "2026-05-01", "2026-05-31")
        rounded, unrounded = periods.prorate(20, first, CENT)
        # R(20 * 31/31) - R(20 * 10/31) = 20.00 - 6.45
        assert rounded == Decimal("13.55")
        assert abs(Fraction(unrounded) - Fraction(20 * 21, 31)) < TOLERANCE
        rounded, unrounded = periods.prorate(40, first, CENT)
        # R(40 * 31/31) - R(40 * 10/31) = 40.00 - 12.90
        assert rounded == Decimal("27.10")
        assert abs(Fraction(unrounded) - Fraction(40 * 21, 31)) < TOLERANCE

    def test_prorate_split_exactly_mid_period(self):
        # A 10.00 monthly plan over June (30 days) changed on the 16th: 15 + 15 days.
        before = period("2026-06-01", "2026-06-15", "2026-06-01", "2026-06-30")
        after = period("2026-06-16", "2026-06-30", "2026-06-01", "2026-06-30")
        assert periods.prorate("10.00", before, CENT) == (Decimal("5.00"), Decimal(5))
        assert periods.prorate("10.00", after, CENT) == (Decimal("5.00"), Decimal(5))

    def test_prorate_parts_telescope(self):
        # 10.00 over July (31 days) split 15 + 16 days: R(10 * 15/31) = 4.84, then
        # R(10 * 31/31) - 4.84 = 5.16.
        first = period("2026-07-01", "2026-07-15", "2026-07-01", "2026-07-31")
        second = period("2026-07-16", "2026-07-31", "2026-07-01", "2026-07-31")
        assert periods.prorate("10.00", first, CENT)[0] == Decimal("4.84")
        assert periods.prorate("10.00", second, CENT)[0] == Decimal("5.16")
        # 100.00 over three days, one day each: 33.33 + 33.34 + 33.33 = 100.00,
        # where rounding each third on its own would give 99.99.
        thirds = [
            period(f"2026-05-{day}", f"2026-05-{day}", "2026-05-10", "2026-05-12")
            for day in (10, 11, 12)
        ]
        amounts = [periods.prorate("100.00", p, CENT)[0] for p in thirds]
        assert amounts == [Decimal("33.33"), Decimal("33.34"), Decimal("33.33")]
        assert sum(amounts) == Decimal("100.00")

    def test_prorate_whole_period_rounds_the_price(self):
        whole = period("2026-06-01", "2026-06-30", "2026-06-01", "2026-06-30")
        assert periods.prorate("9.999", whole, CENT) == (
            Decimal("10.00"),
            Decimal("9.999"),
        )
        assert periods.prorate(0, whole, CENT) == (Decimal("0.00"), Decimal(0))

    def test_prorate_currency_without_decimals(self):
        first = period("2026-05-11", "2026-05-31", "2026-05-01", "2026-05-31")
        # R(1000) - R(1000 * 10/31 = 322.58...) = 1000 - 323
        rounded, unrounded = periods.prorate(1000, first, "1")
        assert rounded == Decimal(677)
        assert abs(Fraction(unrounded) - Fraction(1000 * 21, 31)) < TOLERANCE


# --- Hypothesis properties ---------------------------------------------------

DATES = st.dates(min_value=date(1999, 1, 1), max_value=date(2100, 12, 31))
QUANTA = ["0.01", "1", "0.001"]


@st.composite
def schedules(draw, with_end=None):
    """A schedule of any unit, interval and alignment, with or without an end."""
    unit = draw(st.sampled_from(periods.UNITS))
    interval = draw(st.integers(min_value=1, max_value=24))
    start = draw(DATES)
    alignment = draw(st.sampled_from([periods.ANNIVERSARY, periods.CALENDAR]))
    day = draw(st.integers(min_value=1, max_value=7 if unit == periods.WEEK else 31))
    month = draw(st.integers(min_value=1, max_value=12))
    end = None
    if with_end is None:
        with_end = draw(st.booleans())
    if with_end:
        end = start + timedelta(days=draw(st.integers(min_value=0, max_value=1500)))
    return periods.Schedule.build(
        periods.Recurrence(interval, unit),
        start,
        end,
        alignment=alignment,
        day=day,
        month=month,
    )


def _first_periods(schedule, count=40):
    """All periods of a schedule with an end, else the first ``count``."""
    if schedule.end is not None:
        return list(schedule.periods())
    return list(islice(schedule.periods(), count))


class TestScheduleProperties(CoreCase):
    @settings(max_examples=200, deadline=None)
    @given(schedules())
    def test_periods_tile_time(self, schedule):
        found = _first_periods(schedule)
        assert found
        assert found[0].start == schedule.start
        if schedule.end is not None:
            assert found[-1].end == schedule.end
        for p in found:
            assert p.full_start <= p.start <= p.end <= p.full_end
            assert 1 <= p.days <= p.full_days
            assert p.is_partial == (p.days < p.full_days)
            if p.is_partial:
                assert 0 < p.fraction < 1
            else:
                assert p.fraction == 1
            assert schedule.period_at(p.start) == p
            assert schedule.period_at(p.end) == p
        for previous, current in pairwise(found):
            assert current.start == previous.end + ONE_DAY
            assert current.full_start == previous.full_end + ONE_DAY
            # Only the first and the last period may be partial.
            assert previous.end == previous.full_end
            assert current.start == current.full_start

    @settings(max_examples=200, deadline=None)
    @given(schedules(with_end=False))
    def test_full_periods_follow_the_reference(self, schedule):
        """Full periods are exactly N units long and never drift (clamped anchor)."""
        recurrence = schedule.recurrence
        unit, interval = recurrence.unit, recurrence.interval
        anchor = schedule.anchor_day or schedule.reference.day
        for p in islice(schedule.periods(), 30):
            following = p.full_end + ONE_DAY
            if unit in (periods.DAY, periods.WEEK):
                step = interval * (7 if unit == periods.WEEK else 1)
                assert p.full_days == step
                assert (p.full_start - schedule.reference).days % step == 0
                continue
            months = interval * (12 if unit == periods.YEAR else 1)
            index = p.full_start.year * 12 + p.full_start.month
            assert following.year * 12 + following.month - index == months
            ref_index = schedule.reference.year * 12 + schedule.reference.month
            assert (index - ref_index) % months == 0
            for boundary in (p.full_start, following):
                last = calendar.monthrange(boundary.year, boundary.month)[1]
                assert boundary.day == min(anchor, last)


@st.composite
def splits(draw):
    """A full period of any schedule cut into 1 to 6 contiguous parts."""
    schedule = draw(schedules(with_end=False))
    whole = schedule.period_at(schedule.start)
    size = whole.full_days
    # Up to 5 distinct cut points strictly inside the period (none for 1 day).
    cuts = []
    if size > 1:
        inside = st.integers(min_value=1, max_value=size - 1)
        cuts = sorted(set(draw(st.lists(inside, max_size=5))))
    offsets = [0, *cuts, size]
    return [
        periods.Period(
            whole.full_start + timedelta(days=a),
            whole.full_start + timedelta(days=b - 1),
            whole.full_start,
            whole.full_end,
        )
        for a, b in pairwise(offsets)
    ]


PRICES = st.integers(min_value=0, max_value=10_000_000).map(
    lambda cents: Decimal(cents).scaleb(-2)
)


class TestProrationProperties(CoreCase):
    def test_prorated_parts_sum_to_the_rounded_price(self):
        for quantum in QUANTA:
            with self.subTest(quantum=quantum):
                self._check_prorated_parts(quantum)

    @staticmethod
    def _check_prorated_parts(quantum):
        """The property for one quantum (Hypothesis draws price and parts)."""

        @settings(max_examples=200, deadline=None)
        @given(price=PRICES, parts=splits())
        def check(price, parts):
            size = parts[0].full_days
            assert 1 <= len(parts) <= 6
            assert sum(p.days for p in parts) == size
            results = [periods.prorate(price, p, quantum) for p in parts]
            rounded = [r for r, __ in results]
            unrounded = [u for __, u in results]
            assert sum(rounded) == periods.quantize(price, quantum)
            step = Decimal(quantum)
            exact_total = Fraction(0)
            for p, amount, share in zip(parts, rounded, unrounded, strict=True):
                exact = Fraction(price) * p.days / size
                exact_total += exact
                assert abs(Fraction(share) - exact) <= TOLERANCE
                # A multiple of the quantum, within one quantum of the exact share.
                assert amount % step == 0
                assert abs(Fraction(amount) - exact) <= Fraction(step)
                assert amount >= 0
            assert exact_total == Fraction(price)
            assert abs(Fraction(sum(unrounded)) - Fraction(price)) <= TOLERANCE

        check()


# --- core/ stays free of Odoo ------------------------------------------------

_LOAD_WITHOUT_ODOO = textwrap.dedent(
    """
    import importlib.abc
    import importlib.util
    import os
    import sys


    class BlockOdoo(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "odoo" or name.startswith("odoo."):
                raise ImportError(f"core must not import {name}")
            return None


    for loaded in [m for m in sys.modules if m == "odoo" or m.startswith("odoo.")]:
        del sys.modules[loaded]
    sys.meta_path.insert(0, BlockOdoo())
    try:
        import odoo  # noqa: F401
    except ImportError:
        pass
    else:
        sys.exit("the odoo import blocker does not work")

    root, files = sys.argv[1], sys.argv[2:]
    for path in files:
        parts = os.path.relpath(path, root)[: -len(".py")].split(os.sep)
        locations = None
        if parts[-1] == "__init__":
            parts = parts[:-1]
            locations = [os.path.dirname(path)]
        name = ".".join(["_sb_core", *parts])
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=locations
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        print(name)
    assert not [m for m in sys.modules if m == "odoo" or m.startswith("odoo.")]
    """
)


class TestCoreIsPure(CoreCase):
    def test_core_imports_no_odoo(self):
        root = os.path.dirname(os.path.abspath(periods.__file__))
        files = []
        for folder, __, names in os.walk(root):
            files += [os.path.join(folder, n) for n in names if n.endswith(".py")]
        # Packages before their modules, parents before children.
        files.sort(
            key=lambda p: (p.count(os.sep), os.path.basename(p) != "__init__.py", p)
        )
        assert os.path.join(root, "periods.py") in files
        assert os.path.join(root, "__init__.py") in files
        result = subprocess.run(
            [sys.executable, "-c", _LOAD_WITHOUT_ODOO, root, *files],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.split()) == len(files), result.stdout
        assert "_sb_core.periods" in result.stdout.split()
