# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Dynamic charge: every event carries its own amount; the period bills their sum.

No properties (``{}``).  ``units`` is the sum of the events' amounts (a sum
metric on the property that holds the amount, or on the events' quantity)
and ``transactions`` the events' amounts, in order (a list), or their number
(an ``int``: the sum is then ``units``).  ``amount = sum(amounts)``, exact:
nothing is rounded here, the invoice line rounds the sum once.

Example: three events of 1.10, 2.25 and 0.005 cost 3.355 (3.36 on an invoice
in a currency with cents, rounded half up), explained as
``3.355 (sum of 3 events)``.

The allowance (``included_units``) is an amount that is free: taken off the
first events.  The period minimum and maximum apply as for any model.
"""

from decimal import Decimal

from .base import DYNAMIC, ZERO, TierDetail, check_keys, english_phrase, register

MODEL = "dynamic"


def parse(properties):
    check_keys(MODEL, properties or {}, ())
    return None


def events_note(count):
    """The note of the sum of ``count`` events (English text, key, values)."""
    key = "dynamic_events"
    english = key + ("_plural" if count != 1 else "")
    return {
        "note": english_phrase(english, count=count),
        "note_key": key,
        "note_values": (("count", count),),
    }


@register(MODEL, parse=parse, transactions=True)
def price(units, parsed, transactions):
    if isinstance(transactions, tuple):
        count = len(transactions)
        total = sum(transactions, ZERO)
    else:
        count = transactions or 0
        total = units
    return [
        TierDetail(
            total,
            Decimal(1),
            ZERO,
            total,
            kind=DYNAMIC,
            **events_note(count),
        )
    ]
