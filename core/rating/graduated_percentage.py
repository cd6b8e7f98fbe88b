# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Graduated percentage charge: tiers of amount, each with its own rate.

``units`` is an amount of money (e.g. the sum of the period's payments).
Properties: ``{"tiers": [{"from", "to", "rate", "flat_fee"}, ...]}`` with the
tier rules of :func:`~.base.parse_tiers`, ``rate`` a percentage (0 to 100).
Each tier charges its rate on the part of the amount within it, plus its flat
fee when it is entered with more than 0; an amount of 0 costs 0.

Example: 0-1,000 at 2%, 1,000-10,000 at 1%, above at 0.5%; 15,000.00 =
1,000.00 × 2% + 9,000.00 × 1% + 5,000.00 × 0.5% = 20 + 90 + 25 = 135.00.
"""

from .base import RATE, parse_tiers, register, tier_properties
from .graduated import tier_details

MODEL = "graduated_percentage"


def parse(properties):
    return parse_tiers(MODEL, properties, price_key="rate", percent=True)


@register(MODEL, parse=parse, tiers=tier_properties("rate"))
def price(units, tiers, transactions):
    return tier_details(units, tiers, RATE)
