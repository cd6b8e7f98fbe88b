# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Graduated charge: each tier prices the units that fall in it.

Properties: ``{"tiers": [{"from", "to", "unit_price", "flat_fee"}, ...]}``
(see :func:`~.base.parse_tiers`).  A tier ``(from, to]`` prices
``min(units, to) - from`` units at its unit price; its flat fee is charged
once when the tier is entered with more than 0 units.  Zero units enter no
tier and cost 0.

Option ``charge_flat_at_zero`` (false by default): zero units still pay the
first tier's flat fee (as Lago charges it), the first tier entered with 0
units.  It changes nothing when units are used.

Example: tiers 0-1,000 at 0.10, 1,000-10,000 at 0.05, above at 0.01;
15,000 units = 1,000 × 0.10 + 9,000 × 0.05 + 5,000 × 0.01 = 600.
"""

from dataclasses import dataclass

from .base import TIER, ZERO, TierDetail, flag, parse_tiers, register, tier_properties

MODEL = "graduated"
OPTIONAL = ("charge_flat_at_zero",)


@dataclass(frozen=True)
class Graduated:
    tiers: tuple
    charge_flat_at_zero: bool = False


def parse(properties):
    tiers = parse_tiers(MODEL, properties, optional=OPTIONAL)
    at_zero = flag(
        properties.get("charge_flat_at_zero", False), f"{MODEL}: 'charge_flat_at_zero'"
    )
    return Graduated(tiers, at_zero)


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


@register(MODEL, parse=parse, optional=OPTIONAL, tiers=tier_properties())
def price(units, parsed, transactions):
    if not units and parsed.charge_flat_at_zero:
        first = parsed.tiers[0]
        if first.flat_fee:
            return [
                TierDetail(
                    ZERO,
                    first.price,
                    first.flat_fee,
                    first.flat_fee,
                    first.from_,
                    first.to,
                )
            ]
    return tier_details(units, parsed.tiers)
