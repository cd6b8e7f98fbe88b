# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Invoice lines seen as a whole, free of any Odoo import.

* :func:`nothing_due` says whether an invoice's lines all come to 0.00 (each
  ``quantity × price`` less its discount, rounded once like an invoice line):
  such an invoice totals 0.00 whatever its percentage taxes;
* :func:`merge_distributions` is the analytic distribution of one amount
  spread over lines with their own distributions (a discount line taken off
  several lines): each account's percentage weighted by the lines' amounts.
"""

from decimal import ROUND_HALF_UP, Decimal

from .changes import line_amount
from .periods import exact

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def nothing_due(lines, quantum):
    """True when every line ``(quantity, price, discount)`` comes to 0.00
    (and there is at least one line)."""
    lines = list(lines)
    return bool(lines) and all(
        line_amount(quantity, price, discount or 0, quantum) == ZERO
        for quantity, price, discount in lines
    )


def merge_distributions(parts, digits=2):
    """The distribution of an amount spread over ``parts``: ``(distribution,
    amount)`` pairs, a distribution mapping account keys to percentages.

    One distribution shared by every part (or the only one with an amount)
    is returned as it is. Otherwise each key gets the sum of its percentages
    weighted by the parts' amounts, over the total, rounded half up to
    ``digits``: 100 € at {A: 100} and 50 € at {B: 100} give {A: 66.67,
    B: 33.33}. A part without a distribution weighs in as no account, so the
    result sums to less than 100. ``{}`` when nothing has an amount or a
    distribution.
    """
    parts = [
        (distribution or {}, exact(amount))
        for distribution, amount in parts
        if exact(amount) != ZERO
    ]
    total = sum((amount for __, amount in parts), ZERO)
    if not parts or total == ZERO:
        return {}
    first = parts[0][0]
    if all(distribution == first for distribution, __ in parts):
        return dict(first)
    quantum = Decimal(1).scaleb(-digits)
    weighted = {}
    for distribution, amount in parts:
        for key, percent in distribution.items():
            weighted[key] = weighted.get(key, ZERO) + exact(percent) * amount
    return {
        key: float((value / total).quantize(quantum, rounding=ROUND_HALF_UP))
        for key, value in weighted.items()
        if value != ZERO
    }
