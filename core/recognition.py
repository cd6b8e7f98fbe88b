# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Revenue recognition schedules, free of any Odoo import.

A line's amount is spread over the months its service period touches:

* ``days``: each month takes the days of the period that fall in it, out of
  the days of the whole period (15 Jan - 14 Mar 2026 is 17 + 28 + 14 = 59
  days: January 17/59 of the amount).
* ``months``: each whole month of the period weighs 1; a partial first or last
  month weighs the days of the period in it out of the days of that calendar
  month (17/31 for 15-31 January); each month takes its weight out of the
  sum of the weights. A period of whole months gives equal shares, whatever
  the months' lengths (the "Months" method of the usual deferral tools).

Rounding follows the addon's proration convention: the running total is
rounded, never each part. Share ``i`` is ``R(amount * W_i / W) -
R(amount * W_(i-1) / W)`` where ``W_i`` is the cumulative weight through month
``i`` and ``R`` rounds half up to the currency's quantum: the shares add up to
exactly ``R(amount)``, and a negative amount (a credit note) gives exactly
the opposite shares of the positive one.
"""

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple

DAYS = "days"
MONTHS = "months"
METHODS = (DAYS, MONTHS)


class RecognitionError(ValueError):
    """Raised for a service period or method that cannot be recognised."""


class Share(NamedTuple):
    """The part of a line's amount recognised in the month that starts on
    ``month`` (its first day)."""

    month: date
    amount: Decimal


def month_start(day):
    return day.replace(day=1)


def month_end(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month(day):
    """The first day of the month after ``day``'s."""
    return month_end(day) + timedelta(days=1)


def months_between(start, end):
    """``(month start, first day in it, last day in it)`` of each month that
    the days ``start..end`` (inclusive) touch, in order."""
    if end < start:
        raise RecognitionError(
            f"The service period ends ({end}) before it starts ({start})."
        )
    months = []
    month = month_start(start)
    while month <= end:
        months.append((month, max(start, month), min(end, month_end(month))))
        month = next_month(month)
    return months


def _weights(start, end, method):
    months = months_between(start, end)
    if method == DAYS:
        return [(m, Fraction((last - first).days + 1)) for m, first, last in months]
    if method == MONTHS:
        return [
            (
                m,
                Fraction(
                    (last - first).days + 1,
                    calendar.monthrange(m.year, m.month)[1],
                ),
            )
            for m, first, last in months
        ]
    raise RecognitionError(f"Unknown recognition method {method!r}.")


def _round(value, quantum):
    """``value`` (a Fraction) rounded half up (away from zero) to ``quantum``."""
    steps = value / Fraction(quantum)
    decimal = Decimal(steps.numerator) / Decimal(steps.denominator)
    # Exact enough: 28 significant digits, far beyond any money amount.
    return decimal.quantize(Decimal(1), rounding=ROUND_HALF_UP) * quantum


def schedule(amount, start, end, method, quantum):
    """The :class:`Share` of each month of ``start..end`` (dates, inclusive)
    in ``amount`` (a Decimal), by ``method`` (``days`` or ``months``); their
    sum is exactly ``amount`` rounded to ``quantum`` (a Decimal such as
    ``Decimal("0.01")``)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise RecognitionError(f"The amount {amount!r} is not a finite Decimal.")
    quantum = Decimal(quantum)
    if quantum <= 0:
        raise RecognitionError(f"The rounding quantum {quantum} is not positive.")
    weights = _weights(start, end, method)
    total = sum(weight for __, weight in weights)
    exact = Fraction(amount)
    shares = []
    cumulative = Fraction(0)
    previous = Decimal(0) * quantum
    for month, weight in weights:
        cumulative += weight
        running = _round(exact * cumulative / total, quantum)
        shares.append(Share(month, running - previous))
        previous = running
    return shares
