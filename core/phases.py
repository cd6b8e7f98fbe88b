# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Price phases of a plan (an introductory price, a fixed first term), free
of any Odoo import.

A plan's phases come one after the other from the first billed day (after
the trial), each for a whole number of billing periods; the standard price
starts after the last one.

* :func:`phase_boundaries`: the first day of each phase after the first and
  of the standard price, from a :class:`~.periods.Schedule`: always the start
  of a billing period, so that a phase never splits an invoice.
* :func:`phase_price`: a phase's unit price, a percentage of the standard
  price rounded once to the currency.
"""

from decimal import Decimal

from .periods import ONE_DAY, exact, quantize

MAX_PHASES = 10
MAX_PERCENT = 1000


class PhaseError(ValueError):
    """Phases that cannot be placed on the schedule."""


def phase_boundaries(schedule, durations):
    """First day of each phase after the first, and of the standard price.

    ``durations``: the number of billing periods of each phase, in order
    (each at least 1). Returns one date per phase: the day after it ends,
    the start of the billing period that follows its last one. The periods
    are the open-ended ``schedule``'s, counted from its start (a partial
    first period, calendar alignment, counts as one).
    """
    if any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in durations):
        raise PhaseError(f"Each phase lasts at least one period, not {durations!r}.")
    boundaries = []
    day = schedule.start
    for count in durations:
        for __ in range(count):
            day = schedule.period_at(day).end + ONE_DAY
        boundaries.append(day)
    return boundaries


def phase_price(standard, percent, quantum):
    """``percent`` % of the ``standard`` unit price, rounded to ``quantum``."""
    percent = exact(percent)
    if not 0 <= percent <= MAX_PERCENT:
        raise PhaseError(
            f"A phase's price is 0 to {MAX_PERCENT} % of the standard price, "
            f"not {percent} %."
        )
    return quantize(exact(standard) * percent / Decimal(100), quantum)
