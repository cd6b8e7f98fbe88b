# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Price phases of a plan (an introductory price, a fixed first term), free
of any Odoo import.

A plan's phases come one after the other from the first billed day (after
the trial), each for a whole number of billing periods; the standard price
starts after the last one.

* :func:`phase_boundaries`: the first day of each phase after the first and
  of the standard price, from a :class:`~.periods.Schedule`: always the start
  of a billing period, so that a phase never splits an invoice. A partial
  first period (a billing day of the subscription's own, a calendar
  alignment) is billed at the first phase's price and does not count: "3
  months at 9.99" from 20 January, billed on the 1st, is 20-31 January
  (prorated) then February, March and April at 9.99.
* :func:`phase_price`: a phase's unit price: a percentage (0 to 100) of the
  standard price, or a fixed price of its own, rounded once to the currency.
"""

from decimal import Decimal

from .periods import ONE_DAY, exact, quantize

MAX_PHASES = 10
MAX_PERCENT = 100
PERCENT = "percent"
FIXED = "fixed"
MODES = (PERCENT, FIXED)


class PhaseError(ValueError):
    """Phases that cannot be placed on the schedule, or priced."""


def phase_boundaries(schedule, durations):
    """First day of each phase after the first, and of the standard price.

    ``durations``: the number of billing periods of each phase, in order
    (each at least 1). Returns one date per phase: the day after it ends,
    the start of the billing period that follows its last one. The periods
    are the open-ended ``schedule``'s full periods, counted from its start: a
    partial first period (shorter than the recurrence, before the first
    aligned day) belongs to the first phase without counting as one of its
    periods.
    """
    if any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in durations):
        raise PhaseError(f"Each phase lasts at least one period, not {durations!r}.")
    boundaries = []
    day = schedule.start
    first = schedule.period_at(day)
    if durations and first.is_partial:
        day = first.end + ONE_DAY
    for count in durations:
        for __ in range(count):
            day = schedule.period_at(day).end + ONE_DAY
        boundaries.append(day)
    return boundaries


def phase_price(standard, percent, quantum, mode=PERCENT, fixed=None):
    """A phase's unit price, rounded to ``quantum``: ``percent`` % (0 to 100)
    of the ``standard`` unit price, or (``mode`` fixed) the ``fixed`` price
    of its own, whatever the standard price."""
    if mode not in MODES:
        raise PhaseError(f"Unknown phase price mode {mode!r}.")
    if mode == FIXED:
        if fixed is None:
            raise PhaseError("A phase at a fixed price needs that price.")
        fixed = exact(fixed)
        if not fixed.is_finite() or fixed < 0:
            raise PhaseError(f"A phase's fixed price is 0 or more, not {fixed}.")
        return quantize(fixed, quantum)
    percent = exact(percent)
    if not percent.is_finite() or not 0 <= percent <= MAX_PERCENT:
        raise PhaseError(
            f"A phase's price is 0 to {MAX_PERCENT} % of the standard price, "
            f"not {percent} %."
        )
    return quantize(exact(standard) * percent / Decimal(100), quantum)
