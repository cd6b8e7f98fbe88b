# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Volume charge: the tier reached prices every unit.

Properties: ``{"tiers": [{"from", "to", "unit_price", "flat_fee"}, ...]}``
(see :func:`~.base.parse_tiers`).  The tier reached is the one with
``from < units <= to``; ``amount = units * its unit_price + its flat_fee``.
Zero units reach no tier and cost 0 (no flat fee).  A flat fee for the whole
charge, whatever the tier, is the same flat fee set on every tier.

Option ``prorated`` (false by default): on a partial period (``proration``
``(days, full_days)``, e.g. the first period of a calendar-aligned plan),
the tier is still the one the period's units reach and the whole charge is
prorated by days: ``(units * unit_price + flat_fee) * days / full_days``
(a seat-based volume price, as Lago prorates it).  Without it, or on a whole
period, nothing is prorated.

Example: tiers up to 10,000 at 0.0010, to 50,000 at 0.0008, to 100,000 at
0.0006, above at 0.0004, each with a 10.00 flat fee; 65,000 units =
65,000 × 0.0006 + 10.00 = 49.00; prorated over 12 of 28 days:
49.00 × 12 / 28 = 21.00.
"""

from dataclasses import dataclass
from decimal import Decimal

from .base import (
    PRORATED,
    TierDetail,
    english_phrase,
    flag,
    parse_tiers,
    register,
    tier_properties,
)

MODEL = "volume"
OPTIONAL = ("prorated",)


@dataclass(frozen=True)
class Volume:
    tiers: tuple
    prorated: bool = False


def parse(properties):
    tiers = parse_tiers(MODEL, properties, optional=OPTIONAL)
    prorated = flag(properties.get("prorated", False), f"{MODEL}: 'prorated'")
    return Volume(tiers, prorated)


def reached_tier(units, tiers):
    """The tier with ``from < units <= to``; ``None`` for zero units."""
    if units <= 0:
        return None
    for tier in tiers:
        if tier.to is None or units <= tier.to:
            return tier
    raise AssertionError("the last tier is open-ended")  # parse_tiers ensures it


@register(MODEL, parse=parse, optional=OPTIONAL, tiers=tier_properties(), prorates=True)
def price(units, parsed, transactions, proration=None):
    tier = reached_tier(units, parsed.tiers)
    if tier is None:
        return []
    amount = units * tier.price + tier.flat_fee
    if parsed.prorated and proration is not None:
        days, full_days = proration
        if days != full_days:
            values = (("days", days), ("full_days", full_days))
            return [
                TierDetail(
                    units,
                    tier.price,
                    tier.flat_fee,
                    amount * Decimal(days) / Decimal(full_days),
                    tier.from_,
                    tier.to,
                    PRORATED,
                    english_phrase("prorated", days=days, full_days=full_days),
                    "prorated",
                    values,
                )
            ]
    return [TierDetail(units, tier.price, tier.flat_fee, amount, tier.from_, tier.to)]
