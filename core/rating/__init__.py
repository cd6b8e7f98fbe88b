# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Rating engine: the price of a quantity under a charge model, free of Odoo.

Entry points:

* :func:`rate` prices ``units`` under a charge model and returns a
  :class:`RatingResult` (unrounded amount, unit amount, details per tier,
  allowance used, period minimum and maximum adjustments, ``explain()``);
* :func:`validate` checks a model's properties, raising :class:`RatingError`
  with a message that says what to fix;
* :func:`validate_terms` checks a whole line's terms (properties, allowance,
  period minimum and maximum) without rating anything: the check of a line
  that is saved, whatever its model needs at rating time (e.g. the
  transactions of a percentage charge with a fee per transaction).

Charge models, one module each, registered in :data:`CHARGE_MODELS` by
:func:`~.base.register`: ``standard``, ``graduated``, ``volume``,
``package``, ``percentage``, ``graduated_percentage``, ``dynamic``.  Each declares, when
it registers, its ``parse`` and ``price`` functions, its properties
(required and optional), the properties of its tiers when it is priced by
tiers, and whether it takes ``transactions``
(:class:`~.base.ChargeModel`): what the rest of the addon knows of a model
is read from there, never tested by its name.

Adding a charge model means exactly:

1. its core module in this package (``parse``, ``price``, ``register``),
   and its line in the import list below;
2. its fields: the line fields that hold its properties (on
   ``subscription.line.mixin``), its entry in ``CHARGE_MODEL_FIELDS``
   (property -> field) and in ``CHARGE_MODEL_SELECTION``, both in
   ``models/subscription_line_mixin.py``;
3. its view: those fields on the line forms (plan and subscription lines).

Order of operations in :func:`rate`: the allowance (``included_units``) is
taken off the units, the model prices what is left, then the period minimum
raises the amount and the period maximum caps it.  Nothing is rounded:
:meth:`RatingResult.rounded` rounds once, with the currency.
"""

from decimal import Context, localcontext

from .base import (
    CHARGE_MODELS,
    MAX_AMOUNT,
    MAX_UNITS,
    ZERO,
    RatingError,
    RatingResult,
    TierDetail,
    fmt_units,
    non_negative,
    optional_non_negative,
    register,
    whole_number,
)

# The charge models: importing a module registers it.
from . import standard
from . import graduated
from . import volume
from . import package
from . import percentage
from . import graduated_percentage
from . import dynamic

# Room for exact products and sums of any realistic quantity and price.
_CONTEXT = Context(prec=60)


def get_model(model):
    """The registered :class:`~.base.ChargeModel` called ``model``."""
    try:
        return CHARGE_MODELS[model]
    except (KeyError, TypeError):
        raise RatingError(
            f"Unknown charge model {model!r}; expected one of: "
            f"{', '.join(sorted(CHARGE_MODELS))}."
        ) from None


def validate(model, properties):
    """Check ``properties`` for ``model``; raise :class:`RatingError` if wrong."""
    get_model(model).parse(properties)


def validate_terms(
    model, properties, *, included_units=0, min_amount=None, max_amount=None
):
    """Check a line's terms without rating: raise :class:`RatingError` if wrong.

    The same checks as :func:`rate` makes before pricing, for any charge
    model and whatever it will need at rating time.
    """
    get_model(model).parse(properties)
    _bounds(included_units, min_amount, max_amount)


def _bounds(included_units, min_amount, max_amount):
    """``(included, minimum, maximum)``, checked."""
    included = non_negative(included_units, "included_units")
    minimum = optional_non_negative(min_amount, "min_amount")
    maximum = optional_non_negative(max_amount, "max_amount")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise RatingError(
            f"min_amount ({minimum}) is greater than max_amount ({maximum})."
        )
    return included, minimum, maximum


def prepare(model, properties):
    """Validate once, rate many times: pass the result as ``rate(prepared=...)``."""
    charge_model = get_model(model)
    return charge_model, charge_model.parse(properties)


def rate(
    model,
    units,
    properties,
    *,
    transactions=None,
    included_units=0,
    min_amount=None,
    max_amount=None,
    prepared=None,
    proration=None,
):
    """Price ``units`` under the charge model ``model``.

    :param units: quantity used in the period (for the percentage models:
        the amount the rate applies to), >= 0.
    :param properties: the model's properties (see its module).
    :param transactions: percentage model only: the list of transaction
        amounts (summing to ``units``), or their number (see
        ``percentage.py`` for when a number is enough).
    :param included_units: allowance taken off ``units`` before pricing.
    :param min_amount: minimum amount of the period (``None``: none).
    :param max_amount: maximum amount of the period (``None``: none).
    :param prepared: what :func:`prepare` returned for ``model`` and
        ``properties``, to skip validating them again (billing runs rate
        thousands of charges with the same few price lists).
    :param proration: ``(days, full_days)``: the share of the full period
        billed, for a model that prorates on a partial period (its option,
        see ``ChargeModel.prorates``); ignored by the others.
    :returns: :class:`RatingResult`, unrounded.
    """
    charge_model, parsed = prepared or prepare(model, properties)
    units = non_negative(units, "units")
    if units > MAX_UNITS:
        raise RatingError(
            f"{_size(units)} units is more than the engine rates (at most "
            f"{fmt_units(MAX_UNITS)}): check the usage of the period."
        )
    included, minimum, maximum = _bounds(included_units, min_amount, max_amount)
    used = min(units, included)
    try:
        with localcontext(_CONTEXT):
            transactions = _transactions(charge_model, units, transactions, used)
            if charge_model.prorates:
                priced = charge_model.price(
                    units - used, parsed, transactions, _proration(proration)
                )
            else:
                priced = charge_model.price(units - used, parsed, transactions)
            details = tuple(priced)
            subtotal = sum((detail.amount for detail in details), ZERO)
            raise_by = ZERO
            if minimum is not None and subtotal < minimum:
                raise_by = minimum - subtotal
            cap_by = ZERO
            if maximum is not None and subtotal > maximum:
                cap_by = maximum - subtotal
            amount = subtotal + raise_by + cap_by
        unit_amount = amount / units if units else None
    except ArithmeticError as error:
        # Overflow and the like: the figures are beyond any real charge.
        raise RatingError(
            f"The charge of {fmt_units(units)} units cannot be computed "
            f"({type(error).__name__}): its prices or quantities are too large."
        ) from None
    figures = (subtotal, amount, *(detail.amount for detail in details))
    if not all(figure.is_finite() for figure in figures):
        raise RatingError(
            f"The charge of {fmt_units(units)} units is not a finite amount."
        )
    if abs(amount) >= MAX_AMOUNT:
        raise RatingError(
            f"The charge of {fmt_units(units)} units comes to {_size(amount)}, "
            f"more than an invoice line can hold (less than {fmt_units(MAX_AMOUNT)}): "
            f"check the usage and the prices."
        )
    return RatingResult(
        model=model,
        units=units,
        amount=amount,
        unit_amount=unit_amount,
        details=details,
        included_units_used=used,
        minimum_adjustment=raise_by,
        maximum_adjustment=cap_by,
    )


def _proration(proration):
    """``(days, full_days)`` checked, or ``None``."""
    if proration is None:
        return None
    try:
        days, full_days = (whole_number(part, "proration") for part in proration)
    except (TypeError, ValueError):
        raise RatingError(
            f"proration must be (days, full days), not {proration!r}."
        ) from None
    if not 0 < days <= full_days:
        raise RatingError(
            f"proration: {days} days billed of a {full_days}-day period is not a "
            f"share of the period."
        )
    return days, full_days


def _size(number):
    """A number for a message: in full up to 18 digits, else ``1.00E+29``."""
    return fmt_units(number) if abs(number) < 10**18 else f"{number:.2E}"


def _transactions(charge_model, units, transactions, used):
    """``None``, a count (``int``) or a tuple of amounts, allowance used."""
    if transactions is None:
        return None
    if not charge_model.transactions:
        users = sorted(name for name, m in CHARGE_MODELS.items() if m.transactions)
        users = (
            f"{', '.join(users[:-1])} and {users[-1]} do"
            if len(users) > 1
            else f"{users[0]} does"
        )
        raise RatingError(
            f"The {charge_model.name} charge model does not use 'transactions' "
            f"(only {users}): leave it out."
        )
    if not isinstance(transactions, list | tuple):
        return whole_number(transactions, "transactions")
    amounts = [
        non_negative(amount, f"transaction {number}")
        for number, amount in enumerate(transactions, 1)
    ]
    total = sum(amounts, ZERO)
    if total != units:
        raise RatingError(
            f"The transactions add up to {total}, not to units ({units}): units "
            f"must be the sum of the transaction amounts."
        )
    left = used
    kept = []
    for amount in amounts:
        if left:
            if amount <= left:
                left -= amount
                continue
            amount -= left
            left = ZERO
        kept.append(amount)
    return tuple(kept)


__all__ = [
    "CHARGE_MODELS",
    "RatingError",
    "RatingResult",
    "TierDetail",
    "get_model",
    "prepare",
    "rate",
    "register",
    "validate",
    "validate_terms",
]
