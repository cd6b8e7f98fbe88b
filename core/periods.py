# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Billing-period arithmetic, free of any Odoo import.

Conventions (see README, "Periods and proration"):

* A recurrence is "every N days/weeks/months/years".  Period boundaries are
  computed from one reference date as ``reference + k * N units`` (never by
  adding to the previous boundary), so a period that starts on the 31st keeps
  coming back to the 31st, or to the month's last day when it is shorter.
* Periods are half-open internally, ``[start, next_start)``; their *end* as
  shown to people is the last day included (``next_start - 1 day``).
* A period that is not whole (first period of a calendar-aligned plan, last
  period of a subscription that ends mid-period) is prorated by days:
  ``price * days billed / days in the full period``.
* Rounding: the prorated amount of the days ``[a, b)`` of a full period of
  ``n`` days that starts on ``F`` is ``R(price * (b - F) / n) - R(price * (a - F) / n)``
  where ``R`` rounds to the currency's quantum.  Any tiling of a period into
  parts therefore sums to exactly ``R(price)``: the parts telescope.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

DAY = "day"
WEEK = "week"
MONTH = "month"
YEAR = "year"
UNITS = (DAY, WEEK, MONTH, YEAR)

ANNIVERSARY = "anniversary"
CALENDAR = "calendar"

ADVANCE = "advance"
ARREARS = "arrears"

ONE_DAY = timedelta(days=1)
# Calendar-aligned boundaries are counted from this Monday, 3 January 2000.
_CALENDAR_ORIGIN = date(2000, 1, 3)


class PeriodError(ValueError):
    """Raised for a recurrence or a date range that cannot be billed."""


def add_months(day, months, day_of_month=None):
    """Return ``day`` moved by ``months`` months.

    The day of the month is ``day_of_month`` (default: ``day.day``), clamped
    to the length of the target month: 31 January + 1 month = 28 or 29
    February.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day_of_month or day.day, last))


def add_interval(day, count, unit, day_of_month=None):
    """Return ``day`` moved by ``count`` units (``count`` may be negative)."""
    if unit == DAY:
        return day + timedelta(days=count)
    if unit == WEEK:
        return day + timedelta(weeks=count)
    if unit == MONTH:
        return add_months(day, count, day_of_month)
    if unit == YEAR:
        return add_months(day, 12 * count, day_of_month)
    raise PeriodError(f"Unknown period unit {unit!r}; expected one of {UNITS}.")


@dataclass(frozen=True)
class Recurrence:
    """Every ``interval`` ``unit`` (e.g. every 3 months)."""

    interval: int
    unit: str

    def __post_init__(self):
        if self.unit not in UNITS:
            raise PeriodError(
                f"Unknown period unit {self.unit!r}; expected one of {UNITS}."
            )
        if not isinstance(self.interval, int) or self.interval < 1:
            raise PeriodError(
                f"The billing period must be a whole number of at least 1 "
                f"{self.unit}, not {self.interval!r}."
            )

    def boundary(self, reference, index, anchor_day=None):
        """The ``index``-th boundary counted from ``reference``.

        ``anchor_day`` is the wished day of the month for monthly and yearly
        boundaries (default: the reference's), clamped to each month's length.
        """
        return add_interval(
            reference, index * self.interval, self.unit, anchor_day or reference.day
        )

    def index_at(self, reference, day, anchor_day=None):
        """Index ``k`` of the boundary with ``boundary(k) <= day < boundary(k+1)``."""
        if self.unit in (DAY, WEEK):
            length = self.interval * (7 if self.unit == WEEK else 1)
            return (day - reference).days // length
        months = self.interval * (12 if self.unit == YEAR else 1)
        elapsed = (day.year - reference.year) * 12 + (day.month - reference.month)
        index = elapsed // months
        # The estimate is off by at most one either way (day-of-month effects).
        while self.boundary(reference, index, anchor_day) > day:
            index -= 1
        while self.boundary(reference, index + 1, anchor_day) <= day:
            index += 1
        return index


def calendar_reference(recurrence, day=1, month=1):
    """``(reference, anchor_day)`` of calendar-aligned boundaries.

    * months/years: day ``day`` (clamped to each month's length) of month
      ``month``; quarterly periods with ``month=1`` start in January, April,
      July and October;
    * weeks: weekday ``day`` (1 = Monday ... 7 = Sunday);
    * days: every day is a boundary of a daily plan.
    """
    if recurrence.unit in (MONTH, YEAR):
        if not 1 <= month <= 12:
            raise PeriodError(f"The alignment month must be 1 to 12, not {month}.")
        if not 1 <= day <= 31:
            raise PeriodError(f"The alignment day must be 1 to 31, not {day}.")
        reference = add_months(date(2000, month, 1), 0, day)
        return reference, day
    if recurrence.unit == WEEK:
        if not 1 <= day <= 7:
            raise PeriodError(f"The alignment weekday must be 1 to 7, not {day}.")
        return _CALENDAR_ORIGIN + timedelta(days=day - 1), None
    return _CALENDAR_ORIGIN, None


def billing_day_alignment(recurrence, start, billing_day, alignment, month=1):
    """``(alignment, day, month)`` of a subscription with its own billing day.

    A customer billed on day ``billing_day`` (1 to 31, clamped to short
    months) of monthly or yearly periods is calendar-aligned on that day
    instead of the plan's ``alignment``: its first period runs from
    ``start`` to the day before the next billing day, prorated.  The month
    of a yearly (or multi-month) period is the plan's alignment ``month``
    when the plan is calendar-aligned, else the month of ``start``.  Without
    a billing day, or for periods of days and weeks, the plan's alignment
    stands: ``(alignment, None, month)`` (``None``: the plan's day).
    """
    if not billing_day or recurrence.unit not in (MONTH, YEAR):
        return alignment, None, month
    if not 1 <= billing_day <= 31:
        raise PeriodError(f"The billing day must be 1 to 31, not {billing_day}.")
    return CALENDAR, billing_day, month if alignment == CALENDAR else start.month


@dataclass(frozen=True)
class Period:
    """Days ``[start, end]`` billed within the full period ``full_start..full_end``."""

    start: date
    end: date
    full_start: date
    full_end: date

    @property
    def days(self):
        return (self.end - self.start).days + 1

    @property
    def full_days(self):
        return (self.full_end - self.full_start).days + 1

    @property
    def is_partial(self):
        return self.start != self.full_start or self.end != self.full_end

    @property
    def fraction(self):
        """Share of the full period that is billed, exact."""
        return Fraction(self.days, self.full_days)

    def due_date(self, timing):
        """Invoice date: the first day (in advance) or the day after (in arrears)."""
        if timing == ADVANCE:
            return self.start
        if timing == ARREARS:
            return self.end + ONE_DAY
        raise PeriodError(f"Unknown billing timing {timing!r}.")


@dataclass(frozen=True)
class Schedule:
    """The billing periods of one subscription.

    ``start`` is the first billed day (after any trial), ``end`` the last
    billed day or ``None`` when open-ended, ``reference`` the date boundaries
    are counted from: ``start`` itself for anniversary billing, a
    :func:`calendar_reference` for calendar alignment.
    """

    recurrence: Recurrence
    start: date
    reference: date
    end: date = None
    anchor_day: int = None

    def __post_init__(self):
        if self.end is not None and self.end < self.start:
            raise PeriodError(
                f"The end date {self.end} is before the start date {self.start}."
            )

    @classmethod
    def build(cls, recurrence, start, end=None, alignment=ANNIVERSARY, day=1, month=1):
        if alignment == ANNIVERSARY:
            reference, anchor_day = start, None
        elif alignment == CALENDAR:
            reference, anchor_day = calendar_reference(recurrence, day, month)
        else:
            raise PeriodError(f"Unknown alignment {alignment!r}.")
        return cls(recurrence, start, reference, end, anchor_day)

    def period_at(self, day):
        """The (possibly partial) period that contains ``day``."""
        if day < self.start or (self.end is not None and day > self.end):
            raise PeriodError(
                f"{day} is outside the subscription's billed days "
                f"({self.start} to {self.end or 'open-ended'})."
            )
        rec, ref, anchor = self.recurrence, self.reference, self.anchor_day
        index = rec.index_at(ref, day, anchor)
        full_start = rec.boundary(ref, index, anchor)
        full_end = rec.boundary(ref, index + 1, anchor) - ONE_DAY
        start = max(full_start, self.start)
        end = full_end if self.end is None else min(full_end, self.end)
        return Period(start, end, full_start, full_end)

    def periods(self, since=None, clip=False):
        """Periods in order, from the one containing ``since`` (default: start).

        With ``clip``, the first one starts on ``since`` (billed up to the
        middle of a period: a change of plan moved the boundaries).
        """
        day = self.start if since is None else max(since, self.start)
        while self.end is None or day <= self.end:
            period = self.period_at(day)
            if clip and period.start < day:
                period = Period(day, period.end, period.full_start, period.full_end)
            yield period
            day = period.end + ONE_DAY

    def due_periods(self, timing, up_to, since=None, clip=False):
        """Periods from ``since`` whose invoice date is on or before ``up_to``."""
        for period in self.periods(since, clip):
            if period.due_date(timing) > up_to:
                return
            yield period

    def next_due_date(self, timing, since, clip=False):
        """Invoice date of the period containing ``since``; ``None`` past the end."""
        if self.end is not None and since > self.end:
            return None
        return next(self.periods(since, clip)).due_date(timing)


def exact(number):
    """``number`` as a Decimal; a float through its ``repr`` (``0.1`` is
    ``Decimal("0.1")``), never ``Decimal(float)`` and its binary digits."""
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def quantize(amount, quantum):
    """Round a Decimal to the currency's quantum (e.g. 0.01), half up."""
    quantum = exact(quantum)
    return (exact(amount) / quantum).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    ) * quantum


def prorate(price, period, quantum):
    """Prorated ``price`` for ``period``: ``(rounded, unrounded)`` Decimals.

    The rounded amount telescopes (module docstring), so the parts of any
    full period add up to exactly the rounded full price.
    """
    price = exact(price)
    if not period.is_partial:
        return quantize(price, quantum), price
    total = Decimal(period.full_days)
    before = Decimal((period.start - period.full_start).days)
    through = before + Decimal(period.days)
    rounded = quantize(price * through / total, quantum) - quantize(
        price * before / total, quantum
    )
    return rounded, price * Decimal(period.days) / total
