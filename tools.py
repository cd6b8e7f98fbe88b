# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Helpers shared by the models (no model imports another model's helpers)."""

import math

from odoo.exceptions import ValidationError

# The largest magnitude a number field of ours takes (prices, quantities,
# tiers): far beyond any price or quantity, far below a float's range.
MAX_NUMBER = 10**15


def check_number_values(records, vals):
    """Refuse, before Odoo converts them, the values of ``vals`` for number
    fields of ``records``' model that are not finite numbers of a sensible
    size (NaN, infinities, 1e308, a 400-digit integer): Odoo would store
    ``Infinity`` or fail with an ``OverflowError`` deep in its rounding."""
    for name, value in vals.items():
        field = records._fields.get(name)
        if field is None or field.type not in ("float", "monetary", "integer"):
            continue
        if value is None or value is False:
            continue
        number = None
        if not isinstance(value, bool):
            try:
                number = float(value)
            except (TypeError, ValueError, OverflowError):
                number = None
        if number is None or not math.isfinite(number) or abs(number) > MAX_NUMBER:
            raise ValidationError(
                records.env._(
                    "%(field)s: %(value)s is not a number between -%(max)s and "
                    "%(max)s.",
                    field=field._description_string(records.env),
                    value=repr(value)[:40],
                    max=f"{MAX_NUMBER:,}",
                )
            )
