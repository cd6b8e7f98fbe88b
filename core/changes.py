# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mid-life changes of a subscription, free of any Odoo import.

* :data:`TRANSITIONS`: which operation is allowed in which state, with the
  reason when it is not; :func:`check_transition` raises :class:`ChangeError`.
* :func:`billed_parts` and :func:`clip`: the parts of billed periods a change
  or a line's validity covers, each keeping its full period, so that the
  telescoping proration of :mod:`.periods` prorates it with the right length.
* :func:`line_amount`, :func:`monthly_amount` (MRR) and
  :func:`indexed_price`: exact amounts, rounded once.
* :func:`end_of_period_after`: when an end-of-period change or cancellation
  applies, notice period included.
* :func:`change_kind` and :func:`is_downgrade`: how an applied change is kept
  in the history, and whether it lowers what the customer pays.
"""

from decimal import Decimal

from .periods import DAY, MONTH, ONE_DAY, WEEK, YEAR, Period, exact, quantize

DRAFT, TRIAL, ACTIVE, PAUSED, CLOSED = "draft", "trial", "active", "paused", "closed"
# Suspended for non-payment by the dunning: it resumes by itself when paid.
SUSPENDED = "suspended"
STATES = (DRAFT, TRIAL, ACTIVE, PAUSED, SUSPENDED, CLOSED)

CHANGE_PLAN = "change_plan"
CHANGE_QUANTITY = "change_quantity"
ADD_OPTION = "add_option"
REMOVE_OPTION = "remove_option"
CHANGE_PRICE = "change_price"
PAUSE = "pause"
RESUME = "resume"
CANCEL = "cancel"
REACTIVATE = "reactivate"
OPERATIONS = (
    CHANGE_PLAN,
    CHANGE_QUANTITY,
    ADD_OPTION,
    REMOVE_OPTION,
    CHANGE_PRICE,
    PAUSE,
    RESUME,
    CANCEL,
    REACTIVATE,
)

_CHANGES = (CHANGE_PLAN, CHANGE_QUANTITY, ADD_OPTION, REMOVE_OPTION, CHANGE_PRICE)

# Why an operation is refused: a code (translated by the caller) and its text.
NOT_STARTED = "not_started"
IS_CLOSED = "closed"
IS_PAUSED = "paused"
NOT_CLOSED = "not_closed"
NOT_PAUSED = "not_paused"
ALREADY_PAUSED = "already_paused"
IS_SUSPENDED = "suspended"
REASONS = {
    NOT_STARTED: "the subscription is not started: edit it directly",
    IS_CLOSED: "the subscription is closed: reactivate it first, before its end",
    IS_PAUSED: "the subscription is paused: resume it first",
    NOT_CLOSED: "the subscription is not closed",
    NOT_PAUSED: "the subscription is not paused",
    ALREADY_PAUSED: "the subscription is already paused",
    IS_SUSPENDED: "the subscription is suspended for non-payment: it resumes "
    "when its overdue invoices are paid",
}


def _table():
    table = {}
    for state in STATES:
        for operation in OPERATIONS:
            table[(state, operation)] = None  # allowed
    for operation in OPERATIONS:
        table[(DRAFT, operation)] = NOT_STARTED
        table[(CLOSED, operation)] = IS_CLOSED
    for operation in _CHANGES:
        table[(PAUSED, operation)] = IS_PAUSED
    table[(CLOSED, REACTIVATE)] = None
    for state in (TRIAL, ACTIVE, PAUSED):
        table[(state, REACTIVATE)] = NOT_CLOSED
    for state in (TRIAL, ACTIVE):
        table[(state, RESUME)] = NOT_PAUSED
    table[(PAUSED, PAUSE)] = ALREADY_PAUSED
    table[(PAUSED, CANCEL)] = None
    for operation in OPERATIONS:
        table[(SUSPENDED, operation)] = IS_SUSPENDED
    table[(SUSPENDED, CANCEL)] = None
    return table


#: ``(state, operation) -> None`` when allowed, else the code of the reason
#: it is not (:data:`REASONS`).
TRANSITIONS = _table()


class ChangeError(ValueError):
    """A change that cannot apply as asked; the message says why.

    ``reason`` is the code of a refused transition (:data:`REASONS`), if any.
    """

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason


def check_transition(state, operation):
    """Raise :class:`ChangeError` unless ``operation`` is allowed in ``state``."""
    if (state, operation) not in TRANSITIONS:
        raise ChangeError(f"Unknown state {state!r} or operation {operation!r}.")
    reason = TRANSITIONS[(state, operation)]
    if reason:
        raise ChangeError(
            f"Cannot {operation.replace('_', ' ')}: {REASONS[reason]}.", reason
        )


def line_amount(quantity, price, discount, quantum):
    """``quantity × price`` less ``discount`` %, rounded once as on an invoice line."""
    return quantize(
        exact(quantity) * exact(price) * (1 - exact(discount) / 100), quantum
    )


def billed_parts(schedule, start, until):
    """The periods of ``schedule`` covering ``start..until``, cut to that range.

    Each part keeps its full period, so prorating it uses the right length:
    the days of an immediate change already billed in advance.
    """
    parts = []
    day = start
    while day <= until:
        period = schedule.period_at(day)
        end = min(period.end, until)
        parts.append(Period(day, end, period.full_start, period.full_end))
        day = end + ONE_DAY
    return parts


def clip(period, start, end):
    """``period`` cut to the days ``start..end`` (either None: unbounded)."""
    first = max(period.start, start) if start else period.start
    last = min(period.end, end) if end else period.end
    if first > last:
        return None
    return Period(first, last, period.full_start, period.full_end)


# Months per billing unit, exact: a week is 12/52 of a month, a day 12/365.
_MONTHS_PER_UNIT = {
    DAY: Decimal(12) / Decimal(365),
    WEEK: Decimal(12) / Decimal(52),
    MONTH: Decimal(1),
    YEAR: Decimal(12),
}


def monthly_amount(amount, interval, unit, quantum):
    """``amount`` per ``interval`` ``unit`` normalised per month (MRR).

    Yearly amounts are divided by 12, weekly ones multiplied by 52/12;
    rounded once to ``quantum``.
    """
    if unit not in _MONTHS_PER_UNIT or not interval or interval < 0:
        raise ChangeError(f"Cannot normalise a price per {interval} {unit!r}.")
    months = _MONTHS_PER_UNIT[unit] * Decimal(interval)
    return quantize(exact(amount) / months, quantum)


def indexed_price(price, percent, quantum):
    """``price`` raised (or lowered) by ``percent`` %, rounded to ``quantum``."""
    price = exact(price)
    return quantize(price + price * exact(percent) / Decimal(100), quantum)


def end_of_period_after(schedule, day, earliest_end=None):
    """First day after the period containing ``day`` whose last day is on or
    after ``earliest_end`` (a notice period): when an end-of-period change or
    cancellation applies.
    """
    period = schedule.period_at(day)
    while earliest_end and period.end < earliest_end:
        if schedule.end is not None and period.end >= schedule.end:
            break
        period = schedule.period_at(period.end + ONE_DAY)
    return period.end + ONE_DAY


def change_kind(operation, before, after):
    """History kind of an applied change from its operation and MRR move."""
    if operation == CHANGE_PLAN:
        return "downgrade" if after < before else "upgrade"
    return {
        CHANGE_QUANTITY: "quantity",
        ADD_OPTION: "option",
        REMOVE_OPTION: "option",
        CHANGE_PRICE: "price",
        PAUSE: "pause",
        RESUME: "resume",
        CANCEL: "churn",
        REACTIVATE: "reactivation",
    }[operation]


def is_downgrade(operation, before, after):
    """Whether a change lowers what the customer pays (downgrade policy)."""
    if operation in (REMOVE_OPTION, PAUSE, CANCEL):
        return True
    if operation in (ADD_OPTION, RESUME, REACTIVATE):
        return False
    return after < before
