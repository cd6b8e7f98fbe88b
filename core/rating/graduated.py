# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Graduated charge: each tier prices the units that fall in it.

Properties: ``{"tiers": [{"from", "to", "unit_price", "flat_fee"}, ...]}``
(see :func:`~.base.parse_tiers`).  A tier ``(from, to]`` prices
``min(units, to) - from`` units at its unit price; its flat fee is charged
once when the tier is entered with more than 0 units.  Zero units enter no
tier and cost 0.

Example: tiers 0-1,000 at 0.10, 1,000-10,000 at 0.05, above at 0.01;
15,000 units = 1,000 × 0.10 + 9,000 × 0.05 + 5,000 × 0.01 = 600.
"""

from .base import TIER, TierDetail, parse_tiers, register, tier_properties

MODEL = "graduated"


def parse(properties):
    return parse_tiers(MODEL, properties)


def tier_details(units, tiers, kind=TIER):
    """Details of the tiers entered by ``units`` (shared with percentages)."""
    details = []
    for tier in tiers:
        if units <= tier.from_:
            break
        upper = units if tier.to is None else min(units, tier.to)
        count = upper - tier.from_
        details.append(
            TierDetail(
                count,
                tier.price,
                tier.flat_fee,
                count * tier.price + tier.flat_fee,
                tier.from_,
                tier.to,
                kind,
            )
        )
    return details


@register(MODEL, parse=parse, tiers=tier_properties())
def price(units, tiers, transactions):
    return tier_details(units, tiers)
