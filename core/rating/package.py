# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Package charge: a price per started block of ``package_size`` units.

Properties: ``{"package_size": Decimal > 0, "package_price": Decimal,
"free_units": Decimal (optional, 0)}``.  The first ``free_units`` are free,
then every started package is charged in full::

    amount = ceil(max(units - free_units, 0) / package_size) * package_price

Example: packages of 100 at 5.00, 100 free; 201 units = 2 × 5.00 = 10.00.
The detail counts packages (``units``) at the package price.
"""

from .base import (
    PACKAGE,
    ZERO,
    RatingError,
    TierDetail,
    check_keys,
    english_phrase,
    fmt_units,
    non_negative,
    register,
)

MODEL = "package"
PROPERTIES = ("package_size", "package_price")
OPTIONAL = ("free_units",)


def parse(properties):
    check_keys(MODEL, properties, PROPERTIES, OPTIONAL)
    size = non_negative(properties["package_size"], f"{MODEL}: 'package_size'")
    if size <= 0:
        raise RatingError(
            f"{MODEL}: 'package_size' must be greater than 0 (got {size}): it is "
            f"the number of units sold together at 'package_price'."
        )
    package_price = non_negative(
        properties["package_price"], f"{MODEL}: 'package_price'"
    )
    free = non_negative(properties.get("free_units", 0), f"{MODEL}: 'free_units'")
    return size, package_price, free


@register(MODEL, parse=parse, properties=PROPERTIES, optional=OPTIONAL)
def price(units, parsed, transactions):
    size, package_price, free = parsed
    chargeable = max(units - free, 0)
    packages, remainder = divmod(chargeable, size)
    if remainder:
        packages += 1
    note_key, note_values = "packages", (("size", size),)
    if free:
        note_key, note_values = "packages_free", (("size", size), ("free", free))
    note = english_phrase(
        note_key, **{name: fmt_units(value) for name, value in note_values}
    )
    return [
        TierDetail(
            packages,
            package_price,
            ZERO,
            packages * package_price,
            free,
            None,
            PACKAGE,
            note,
            note_key,
            note_values,
        )
    ]
