# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Standard charge: every unit at the same price.

Properties: ``{"unit_price": Decimal}``.  ``amount = units * unit_price``;
zero units cost 0.
"""

from .base import ZERO, TierDetail, check_keys, non_negative, register

MODEL = "standard"
PROPERTIES = ("unit_price",)


def parse(properties):
    check_keys(MODEL, properties, PROPERTIES)
    return non_negative(properties["unit_price"], f"{MODEL}: 'unit_price'")


@register(MODEL, parse=parse, properties=PROPERTIES)
def price(units, unit_price, transactions):
    return [TierDetail(units, unit_price, ZERO, units * unit_price)]
