# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Volume charge: the tier reached prices every unit.

Properties: ``{"tiers": [{"from", "to", "unit_price", "flat_fee"}, ...]}``
(see :func:`~.base.parse_tiers`).  The tier reached is the one with
``from < units <= to``; ``amount = units * its unit_price + its flat_fee``.
Zero units reach no tier and cost 0 (no flat fee).  A flat fee for the whole
charge, whatever the tier, is the same flat fee set on every tier.

Example: tiers up to 10,000 at 0.0010, to 50,000 at 0.0008, to 100,000 at
0.0006, above at 0.0004, each with a 10.00 flat fee; 65,000 units =
65,000 × 0.0006 + 10.00 = 49.00.
"""

from .base import TierDetail, parse_tiers, register, tier_properties

MODEL = "volume"


def parse(properties):
    return parse_tiers(MODEL, properties)


def reached_tier(units, tiers):
    """The tier with ``from < units <= to``; ``None`` for zero units."""
    if units <= 0:
        return None
    for tier in tiers:
        if tier.to is None or units <= tier.to:
            return tier
    raise AssertionError("the last tier is open-ended")  # parse_tiers ensures it


@register(MODEL, parse=parse, tiers=tier_properties())
def price(units, tiers, transactions):
    tier = reached_tier(units, tiers)
    if tier is None:
        return []
    amount = units * tier.price + tier.flat_fee
    return [TierDetail(units, tier.price, tier.flat_fee, amount, tier.from_, tier.to)]
