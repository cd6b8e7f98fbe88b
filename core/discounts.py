# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Discounts with a duration, free of any Odoo import.

A discount (from a coupon or entered by staff) takes a percentage or a fixed
amount off the lines it applies to, on the invoices of its periods:

* :func:`applies` says whether a service period gets it: the period ends on
  or after the discount's start, and its duration is not over (``once``: no
  period used it yet; ``periods``: fewer than ``count`` used it; ``until``:
  the period starts on or before its end date; ``forever``);
* :func:`amount` is what it takes off one invoice: a percentage of the sum of
  the discounted lines' amounts, rounded once; a fixed amount capped at that
  sum; never below zero, never more than the lines;
* :func:`split` shares it between the groups of lines taxed alike, in
  proportion to their amounts, exactly: the parts sum to the discount (one
  discount line per tax group, so that each is taxed like its lines).
"""

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
PERCENT = "percent"
FIXED = "fixed"
KINDS = (PERCENT, FIXED)
ONCE = "once"
PERIODS = "periods"
UNTIL = "until"
FOREVER = "forever"
DURATIONS = (ONCE, PERIODS, UNTIL, FOREVER)


class DiscountError(ValueError):
    """Raised for a discount that makes no sense (kind, value, duration)."""


def _exact(value, what):
    if isinstance(value, bool) or value is None:
        raise DiscountError(f"{what} must be a number, not {value!r}.")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except ArithmeticError:
        raise DiscountError(f"{what} must be a number, not {value!r}.") from None
    if not number.is_finite():
        raise DiscountError(f"{what} must be a finite number, not {value!r}.")
    return number


def check(kind, value):
    """Raise :class:`DiscountError` unless ``value`` is a valid ``kind`` discount."""
    if kind not in KINDS:
        raise DiscountError(f"Unknown discount kind {kind!r}.")
    value = _exact(value, "The discount")
    if value <= 0:
        raise DiscountError("A discount must be more than zero.")
    if kind == PERCENT and value > 100:
        raise DiscountError("A percentage discount cannot be over 100 %.")
    return value


def applies(duration, start, period_start, period_end, used, count=None, end=None):
    """Whether the service period ``period_start..period_end`` gets the
    discount that starts on ``start`` and was applied to ``used`` periods."""
    if duration not in DURATIONS:
        raise DiscountError(f"Unknown discount duration {duration!r}.")
    if period_end < start:
        return False
    if duration == ONCE:
        return used < 1
    if duration == PERIODS:
        if not count or count < 1:
            raise DiscountError("A discount for N periods needs N of 1 or more.")
        return used < count
    if duration == UNTIL:
        if end is None:
            raise DiscountError("A discount until a date needs that date.")
        return period_start <= end
    return True


def amount(kind, value, line_amounts, quantum):
    """What the discount takes off an invoice whose discounted lines amount
    to ``line_amounts`` (each line's amount as on the invoice); a Decimal of
    zero or more, at most their sum, rounded once to ``quantum``."""
    value = check(kind, value)
    quantum = _exact(quantum, "The rounding")
    base = sum((_exact(a, "A line amount") for a in line_amounts), ZERO)
    if base <= 0:
        return ZERO
    if kind == PERCENT:
        off = (base * value / 100 / quantum).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        ) * quantum
    else:
        off = value
    return min(off, base)


def split(total, weights, quantum):
    """``total`` (a multiple of ``quantum``, zero or more) in parts
    proportional to ``weights`` (zero or more, not all zero), each a
    multiple of ``quantum``, summing exactly to ``total``: each part is
    rounded down and the units left go to the largest remainders (the first
    on a tie). 6.00 over 30.00 and 10.00 is 4.50 and 1.50."""
    quantum = _exact(quantum, "The rounding")
    total = _exact(total, "The amount")
    weights = [_exact(w, "A line amount") for w in weights]
    if quantum <= 0 or total < 0 or any(w < 0 for w in weights):
        raise DiscountError("A split needs amounts and a rounding of zero or more.")
    whole = sum(weights, ZERO)
    if not weights or whole <= 0:
        raise DiscountError("A split needs at least one amount over zero.")
    units = total / quantum
    if units != units.to_integral_value():
        raise DiscountError(f"{total} is not a multiple of {quantum}.")
    units = int(units)
    shares = [units * w / whole for w in weights]
    parts = [int(share) for share in shares]  # down: shares are >= 0
    left = units - sum(parts)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return [Decimal(part) * quantum for part in parts]
