# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Allowances that carry over, free of any Odoo import.

Each period grants ``included`` units. Units left unused roll over to the
next periods, in *buckets* that remember the period they come from:

* a bucket expires after ``expiry`` periods (``None``: never): units granted
  in period 3 with an expiry of 2 can be used in periods 4 and 5, and what is
  left of them expires at the end of period 5;
* the carried balance never exceeds ``cap`` (``None``: no cap); the part of a
  period's unused units above the cap is forfeited (reported as expired);
* usage consumes the oldest units first: the oldest carried bucket, then the
  next, then this period's grant.

:func:`roll` computes one period; its :class:`Allowance` says, for the
invoice and the subscription: included, carried in, used, expired, carried
out, billed; ``buckets`` is what the next period starts from.
"""

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


class AllowanceError(ValueError):
    """Raised for allowance settings or balances that make no sense."""


@dataclass(frozen=True)
class Bucket:
    """Carried units granted in the period starting ``origin``, ``age`` periods ago."""

    origin: str
    units: Decimal
    age: int = 0


@dataclass(frozen=True)
class Allowance:
    included: Decimal
    carried_in: Decimal
    used: Decimal
    expired: Decimal
    carried_out: Decimal
    billed: Decimal
    buckets: tuple = ()

    @property
    def available(self):
        return self.included + self.carried_in


def _decimal(value, what):
    if isinstance(value, bool) or value is None:
        raise AllowanceError(f"{what} must be a number, not {value!r}.")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except ArithmeticError:
        raise AllowanceError(f"{what} must be a number, not {value!r}.") from None
    if not number.is_finite() or number < 0:
        raise AllowanceError(f"{what} must be zero or more (got {value!r}).")
    return number


def roll(
    usage, included, buckets=(), *, origin="", carry_over=False, cap=None, expiry=None
):
    """One period of an allowance.

    :param usage: units used in the period (>= 0).
    :param included: units granted by the period (>= 0).
    :param buckets: carried buckets from the previous period (oldest first).
    :param origin: label of this period (its start), kept on its bucket.
    :param carry_over: whether unused units roll over at all.
    :param cap: largest carried balance (``None``: no cap).
    :param expiry: periods a carried unit stays usable (``None``: forever).
    """
    usage = _decimal(usage, "The usage")
    included = _decimal(included, "The included units")
    if cap is not None:
        cap = _decimal(cap, "The carry-over cap")
    if expiry is not None and (
        isinstance(expiry, bool) or int(expiry) != expiry or expiry < 1
    ):
        raise AllowanceError(
            f"The carry-over expiry is a number of periods, 1 or more (got {expiry!r})."
        )
    buckets = [
        Bucket(b.origin, _decimal(b.units, "A carried balance"), b.age)
        for b in sorted(buckets, key=lambda b: (-b.age, b.origin))
    ]
    carried_in = sum((b.units for b in buckets), ZERO)
    # Oldest first: carried buckets, then this period's grant.
    left = usage
    remaining = []
    for bucket in buckets:
        take = min(left, bucket.units)
        left -= take
        if bucket.units - take:
            remaining.append(Bucket(bucket.origin, bucket.units - take, bucket.age + 1))
    from_grant = min(left, included)
    left -= from_grant
    used = usage - left
    unused_grant = included - from_grant
    expired = ZERO
    kept = []
    for bucket in remaining:
        if expiry is not None and bucket.age > expiry:
            expired += bucket.units
        else:
            kept.append(bucket)
    # Without carry-over, unused units of the period simply lapse (not
    # reported as expired: they never were carried).
    if carry_over and unused_grant:
        kept.append(Bucket(origin, unused_grant, 1))
    if cap is not None:
        balance = sum((b.units for b in kept), ZERO)
        excess = balance - cap
        # The newest units are the ones that do not fit under the cap.
        while excess > 0 and kept:
            newest = kept[-1]
            drop = min(excess, newest.units)
            excess -= drop
            expired += drop
            if drop == newest.units:
                kept.pop()
            else:
                kept[-1] = Bucket(newest.origin, newest.units - drop, newest.age)
    carried_out = sum((b.units for b in kept), ZERO)
    return Allowance(
        included=included,
        carried_in=carried_in,
        used=used,
        expired=expired,
        carried_out=carried_out,
        billed=left,
        buckets=tuple(kept),
    )


def dump(buckets):
    """Buckets as JSON-friendly lists (stored on the rated charge)."""
    return [[b.origin, str(b.units), b.age] for b in buckets]


def load(data):
    """Buckets from :func:`dump`'s output."""
    return tuple(
        Bucket(origin, _decimal(units, "Carried units"), int(age))
        for origin, units, age in data or ()
    )
